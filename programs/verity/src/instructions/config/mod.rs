//! Protocol configuration: initialize, update parameters, pause.
pub mod initialize_config;
pub mod set_paused;
pub mod update_config;

pub use {initialize_config::*, set_paused::*, update_config::*};
