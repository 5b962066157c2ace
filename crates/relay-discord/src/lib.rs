//! Discord behind Relay's own traits: the REST client Relay sends with (reading 429s itself,
//! so a rate limit pauses one route instead of looping inside twilight-http), the gateway
//! listener on twilight-gateway, and the bot and webhook destinations.
//!
//! Why not twilight-http for sending: it retries 429s internally and never returns them,
//! so `retry_after` could not reach the queue. Relay's client speaks the same REST v10
//! with twilight-model types and surfaces `SendError::RateLimited`.

mod global_limit;
pub mod listener;
pub mod platform;
pub mod rest;
pub mod sinks;
mod webhook_name;
pub mod webhook_url;

pub use listener::{DiscordListener, ListenerConfig, snowflake_at};
pub use rest::{DiscordEndpoints, DiscordRest, set_global_limit};
pub use sinks::{BotSink, WebhookSink};
pub use webhook_url::WebhookTarget;

/// Attachments one Discord message carries at most.
pub const MAX_FILES: usize = 10;

/// Installs ring as the process's TLS crypto provider (once; later calls do nothing).
/// reqwest and twilight-gateway enable none themselves and panic without one.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
