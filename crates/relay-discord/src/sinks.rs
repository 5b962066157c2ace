//! Discord destinations: a bot (create with a nonce, edit, delete; replies and files) and a
//! webhook (per-message username and avatar, `wait=true`).

use crate::rest::DiscordRest;
use crate::webhook_url::WebhookTarget;
use relay_core::messages::{MessageSink, OutgoingMessage, SendError, Sent};

/// Sends as a bot into any channel it can post in.
#[derive(Debug, Clone)]
pub struct BotSink {
    rest: DiscordRest,
}

impl BotSink {
    pub fn new(rest: DiscordRest) -> Self {
        Self { rest }
    }
}

impl MessageSink for BotSink {
    async fn send(
        &self,
        chat_id: &str,
        message: &OutgoingMessage,
        idempotency_key: &str,
    ) -> Result<Sent, SendError> {
        let sent = self
            .rest
            .create_message(chat_id, message, idempotency_key)
            .await?;
        Ok(Sent::one(sent.id.to_string()))
    }

    async fn edit(
        &self,
        chat_id: &str,
        message_id: &str,
        message: &OutgoingMessage,
    ) -> Result<(), SendError> {
        self.rest
            .edit_message(chat_id, message_id, message)
            .await
            .map(drop)
    }

    async fn delete(&self, chat_id: &str, message_id: &str) -> Result<(), SendError> {
        self.rest.delete_message(chat_id, message_id).await
    }
}

/// Sends through one webhook, into its own channel; a `chat_id` other than that channel
/// names a thread of it (sent as `?thread_id=`); an empty one means the channel itself.
///
/// Webhooks have no idempotency key: after an ambiguous failure (a timeout) the caller
/// must check the outbox before sending again.
#[derive(Debug, Clone)]
pub struct WebhookSink {
    rest: DiscordRest,
    target: WebhookTarget,
    /// The webhook's own channel, asked of Discord once, the first time a send names a
    /// chat (naming that channel means no thread).
    channel: std::sync::Arc<tokio::sync::OnceCell<Option<String>>>,
}

impl WebhookSink {
    pub fn new(rest: DiscordRest, target: WebhookTarget) -> Self {
        Self {
            rest,
            target,
            channel: std::sync::Arc::default(),
        }
    }

    /// The thread a send names: none for an empty chat or the webhook's own channel.
    async fn thread<'a>(&self, chat_id: &'a str) -> Result<Option<&'a str>, SendError> {
        if chat_id.is_empty() {
            return Ok(None);
        }
        let channel = self
            .channel
            .get_or_try_init(|| async {
                self.rest
                    .get_webhook(self.target.id, &self.target.token)
                    .await
                    .map(|hook| hook.channel_id)
            })
            .await?;
        Ok((channel.as_deref() != Some(chat_id)).then_some(chat_id))
    }
}

impl MessageSink for WebhookSink {
    async fn send(
        &self,
        chat_id: &str,
        message: &OutgoingMessage,
        _idempotency_key: &str,
    ) -> Result<Sent, SendError> {
        let sent = self
            .rest
            .execute_webhook_in(
                self.target.id,
                &self.target.token,
                self.thread(chat_id).await?,
                message,
            )
            .await?;
        Ok(Sent::one(sent.id.to_string()))
    }

    async fn edit(
        &self,
        chat_id: &str,
        message_id: &str,
        message: &OutgoingMessage,
    ) -> Result<(), SendError> {
        self.rest
            .edit_webhook_message_in(
                self.target.id,
                &self.target.token,
                self.thread(chat_id).await?,
                message_id,
                message,
            )
            .await
            .map(drop)
    }

    async fn delete(&self, chat_id: &str, message_id: &str) -> Result<(), SendError> {
        self.rest
            .delete_webhook_message_in(
                self.target.id,
                &self.target.token,
                self.thread(chat_id).await?,
                message_id,
            )
            .await
    }
}
