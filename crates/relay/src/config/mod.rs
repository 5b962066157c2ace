//! Configuration: defaults embedded in the binary (`defaults.toml`), an optional TOML
//! file, then `RELAY_*` environment variables. Everything is validated at start-up and
//! every problem is reported at once, one line each, naming the variable.

mod describe;
mod redact;
mod sources;
mod validate;

pub use describe::describe;
pub use redact::redact_url;
pub use sources::{Origin, RawConfig, SETTINGS, Setting};
pub use validate::{Config, Environment, LogFormat, Secret};

use std::path::Path;

/// Loads and validates. `Err` holds one line per problem.
pub fn load(
    file: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, Vec<String>> {
    load_with_sources(file, env).map(|(_, config)| config)
}

/// Loads and validates, keeping where each value came from (for `config check`). Every
/// problem is reported, those of the file and those of the values alike.
pub fn load_with_sources(
    file: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(RawConfig, Config), Vec<String>> {
    let (raw, mut problems) = RawConfig::load(file, env);
    match Config::from_raw(&raw) {
        Ok(config) if problems.is_empty() => Ok((raw, config)),
        Ok(_) => Err(problems),
        Err(more) => {
            problems.extend(more);
            Err(problems)
        }
    }
}

/// Reads the process environment (the production `env` argument of [`load`]).
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}
