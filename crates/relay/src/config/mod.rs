//! Configuration: defaults embedded in the binary (`defaults.toml`), an optional TOML
//! file, then `RELAY_*` environment variables. Everything is validated at start-up and
//! every problem is reported at once, one line each, naming the variable.

mod describe;
mod sources;
mod validate;

pub use describe::describe;
pub use sources::{Origin, RawConfig, SETTINGS, Setting};
pub use validate::{Config, Environment, LogFormat, Secret};

use std::path::Path;

/// Loads and validates. `Err` holds one line per problem.
pub fn load(
    file: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, Vec<String>> {
    let raw = RawConfig::load(file, env)?;
    Config::from_raw(&raw)
}

/// Reads the process environment (the production `env` argument of [`load`]).
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}
