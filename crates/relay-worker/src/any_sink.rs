//! A destination of any platform behind one type: the sink traits use `impl Future`, so
//! there are no trait objects; this enum dispatches to each platform's sink.

use relay_core::messages::{MessageSink, OutgoingMessage, SendError, Sent};
use relay_telegram::user::UserSink;

/// A destination of any platform (the sink traits use `impl Future`, so no trait objects).
#[derive(Clone)]
pub enum AnySink {
    DiscordBot(relay_discord::BotSink),
    DiscordWebhook(relay_discord::WebhookSink),
    TelegramBot(relay_telegram::BotSink),
    TelegramUser(UserSink),
}

impl AnySink {
    pub async fn send(
        &self,
        chat: &str,
        message: &OutgoingMessage,
        key: &str,
    ) -> Result<Sent, SendError> {
        match self {
            AnySink::DiscordBot(s) => s.send(chat, message, key).await,
            AnySink::DiscordWebhook(s) => s.send(chat, message, key).await,
            AnySink::TelegramBot(s) => s.send(chat, message, key).await,
            AnySink::TelegramUser(s) => s.send(chat, message, key).await,
        }
    }

    pub async fn edit(
        &self,
        chat: &str,
        id: &str,
        message: &OutgoingMessage,
    ) -> Result<(), SendError> {
        match self {
            AnySink::DiscordBot(s) => s.edit(chat, id, message).await,
            AnySink::DiscordWebhook(s) => s.edit(chat, id, message).await,
            AnySink::TelegramBot(s) => s.edit(chat, id, message).await,
            AnySink::TelegramUser(s) => s.edit(chat, id, message).await,
        }
    }

    pub async fn delete(&self, chat: &str, id: &str) -> Result<(), SendError> {
        match self {
            AnySink::DiscordBot(s) => s.delete(chat, id).await,
            AnySink::DiscordWebhook(s) => s.delete(chat, id).await,
            AnySink::TelegramBot(s) => s.delete(chat, id).await,
            AnySink::TelegramUser(s) => s.delete(chat, id).await,
        }
    }
}
