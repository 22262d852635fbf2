//! Model registry: register (with profile hash), update, deactivate.
pub mod deactivate_model;
pub mod register_model;
pub mod update_model;

pub use {deactivate_model::*, register_model::*, update_model::*};
