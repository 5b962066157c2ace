//! Telegram behind Relay's own traits. `bot`: Telegram bots through teloxide-core (the
//! Bot API) — a long-polling source and a destination. MTProto user sessions (grammers)
//! join in a later step.

pub mod bot;

pub use bot::{BotListener, BotSink, TelegramBot};
