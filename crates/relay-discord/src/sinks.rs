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
        Ok(Sent {
            message_id: sent.id.to_string(),
        })
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

/// Sends through one webhook, into its own channel; a `chat_id` names a thread of that
/// channel (sent as `?thread_id=`), an empty one the channel itself.
///
/// Webhooks have no idempotency key: after an ambiguous failure (a timeout) the caller
/// must check the outbox before sending again.
#[derive(Debug, Clone)]
pub struct WebhookSink {
    rest: DiscordRest,
    target: WebhookTarget,
}

impl WebhookSink {
    pub fn new(rest: DiscordRest, target: WebhookTarget) -> Self {
        Self { rest, target }
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
            .execute_webhook_in(self.target.id, &self.target.token, thread(chat_id), message)
            .await?;
        Ok(Sent {
            message_id: sent.id.to_string(),
        })
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
                thread(chat_id),
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
                thread(chat_id),
                message_id,
            )
            .await
    }
}

/// The thread a webhook destination names, if any.
fn thread(chat_id: &str) -> Option<&str> {
    (!chat_id.is_empty()).then_some(chat_id)
}
