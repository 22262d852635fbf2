//! Deterministic inference: model fetch, GGUF loading, tokenizer, reproducibility profile and the engine.

pub mod backend;
pub mod device;
pub mod engine;
pub mod fetch;
pub mod gpu;
pub mod kernel;
pub mod loader;
pub mod model;
pub mod profile;
pub mod registry;
pub mod tokenizer;

pub use device::DeviceSpec;
pub use engine::{Engine, EngineError, Finish, Generation, Request};
pub use loader::{load, LoadError, Loaded};
pub use profile::{output_hash, Dtype, Profile};
