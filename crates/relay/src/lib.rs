//! The `relay` binary's library: configuration, logging, start-up checks and the wiring of
//! the API and the workers into one process. `main.rs` only parses arguments.

pub mod admin;
pub mod bench;
pub mod cli;
pub mod config;
pub mod fake;
pub mod logging;
pub mod preflight;
pub mod run;
pub mod shutdown;
