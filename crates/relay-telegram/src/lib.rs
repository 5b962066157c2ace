//! Telegram behind Relay's own traits. `bot`: Telegram bots through teloxide-core (the
//! Bot API) — a long-polling source and a destination. `user`: user sessions over MTProto
//! through grammers — session storage in PostgreSQL, the login flow, source and destination.

pub mod album;
pub mod bot;
pub mod files;
pub mod platform;
pub mod user;

pub use bot::{BotFile, BotListener, BotSink, TelegramBot};
