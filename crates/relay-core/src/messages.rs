//! Platform-neutral messages: what a source (a Telegram or Discord listener) reports and
//! what a destination (a bot, a user session, a webhook) is asked to send, and the errors a
//! send can end in. The forwarding engine sees only these, never a platform's own types.
//!
//! Text is structured ([`FormattedText`]): sources convert their platform's markup into it
//! (Telegram entities, Discord markdown) and destinations render it for theirs, so literal
//! text is never parsed as markup on the way.

pub use crate::format::FormattedText;
pub use crate::media::MediaSource;
use std::future::Future;
use std::time::Duration;

/// Who wrote a message.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Author {
    pub id: String,
    pub name: String,
    pub avatar_url: Option<String>,
}

/// A file attached to an incoming message, to be fetched from `source`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MediaRef {
    pub filename: String,
    /// Rows stored before typed sources name it `url`, as a string.
    #[serde(alias = "url", deserialize_with = "crate::media::deserialize_source")]
    pub source: MediaSource,
    pub size: u64,
    pub content_type: Option<String>,
}

/// A rich block (a Discord embed), reduced to what every platform can render somehow.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct EmbedPart {
    pub title: Option<String>,
    pub description: Option<String>,
    pub url: Option<String>,
    pub color: Option<u32>,
}

/// A short excerpt of the message a reply answers, shown when that message has no copy at
/// the destination (it was posted before the pair existed, or filtered).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Quote {
    /// Who wrote the parent message.
    pub author: String,
    /// The start of its text, plain.
    pub text: String,
}

impl Quote {
    /// How much of the parent's text a source keeps, in characters (destinations show
    /// less).
    pub const KEPT_CHARS: usize = 300;

    /// The parent by `author`, its text cut to [`Quote::KEPT_CHARS`].
    pub fn of(author: impl Into<String>, text: &str) -> Self {
        Quote {
            author: author.into(),
            text: text.chars().take(Self::KEPT_CHARS).collect(),
        }
    }
}

/// A message as a source saw it. Constructors name what they know and take the rest from
/// `Default` (`..IncomingMessage::default()`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IncomingMessage {
    pub chat_id: String,
    pub message_id: String,
    pub author: Author,
    /// The text with its formatting, converted from the source platform's own markup.
    pub text: FormattedText,
    pub media: Vec<MediaRef>,
    pub embeds: Vec<EmbedPart>,
    /// The source message this one replies to.
    pub reply_to: Option<String>,
    /// When it was posted, in milliseconds since the Unix epoch.
    pub posted_at_ms: i64,
    /// For an edit: when the source says it was edited (ms since the epoch), so a replayed
    /// edit event is recognised as the same edit.
    pub edited_at_ms: Option<i64>,
    /// The parent of a reply, when the source knows it: quoted where it has no copy.
    pub reply_quote: Option<Quote>,
    /// The other source messages this one stands for: the members of an album after the
    /// first (`message_id`), in order.
    pub grouped_ids: Vec<String>,
    /// Forwarded from elsewhere at the source (rules can keep or drop such messages).
    pub forwarded: bool,
    /// Written by a bot.
    pub author_is_bot: bool,
    /// The source chat's title, when the source reports it (`{source_chat}` in templates).
    pub chat_title: Option<String>,
    /// A link to the message at the source, when it has one (`{link}` in templates).
    pub link: Option<String>,
}

/// What a source reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceEvent {
    Created(IncomingMessage),
    Edited(IncomingMessage),
    Deleted {
        chat_id: String,
        message_id: String,
    },
    /// The account's credentials stopped working; the owner must act.
    Unauthorized {
        reason: String,
    },
}

/// A file to upload with an outgoing message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingFile {
    pub filename: String,
    pub bytes: Vec<u8>,
}

/// What a destination is asked to send.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OutgoingMessage {
    /// The text with its formatting; each destination renders it in its own form.
    pub text: FormattedText,
    pub embeds: Vec<EmbedPart>,
    pub files: Vec<OutgoingFile>,
    /// The destination message this one replies to.
    pub reply_to: Option<String>,
    /// Shown as the sender where the destination allows it (webhooks).
    pub author: Option<Author>,
}

/// A message the destination accepted.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sent {
    pub message_id: String,
    /// The other messages the send created, in order: a Telegram album is one message per
    /// file (`message_id` is the first).
    pub others: Vec<String>,
}

impl Sent {
    /// One message.
    pub fn one(message_id: impl Into<String>) -> Self {
        Self {
            message_id: message_id.into(),
            others: Vec::new(),
        }
    }
}

/// How wide a rate limit is: one route (channel), the whole account, or everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitScope {
    Route,
    Account,
    Global,
}

/// Why a send failed, in the terms the queue acts on.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SendError {
    /// Wait `retry_after`, then try again; only `scope` is affected.
    #[error("rate limited for {retry_after:?} ({scope:?})")]
    RateLimited {
        retry_after: Duration,
        scope: LimitScope,
    },
    /// The platform refused the message itself; retrying will not help.
    #[error("rejected ({code}): {message}")]
    Rejected { code: String, message: String },
    /// The chat or message does not exist (or is not visible to the account).
    #[error("not found: {0}")]
    NotFound(String),
    /// The account's credentials no longer work.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// A network error, a timeout or a server error: retry with backoff.
    #[error("transient: {0}")]
    Transient(String),
    /// The request went out and no answer came in time, on a platform without an
    /// idempotency key (Bot API sends, Discord webhooks): the message may have arrived, and
    /// sending it again could post it twice. Not retried.
    #[error("ambiguous: {0}")]
    Ambiguous(String),
}

impl SendError {
    /// Whether another attempt may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            SendError::RateLimited { .. } | SendError::Transient(_)
        )
    }
}

/// A destination: sends, edits and deletes messages in chats of one account.
pub trait MessageSink {
    /// Sends `message`. `idempotency_key` is stable across retries of one delivery, so a
    /// platform that supports it (Discord nonces, MTProto random ids) creates it once.
    fn send(
        &self,
        chat_id: &str,
        message: &OutgoingMessage,
        idempotency_key: &str,
    ) -> impl Future<Output = Result<Sent, SendError>> + Send;

    fn edit(
        &self,
        chat_id: &str,
        message_id: &str,
        message: &OutgoingMessage,
    ) -> impl Future<Output = Result<(), SendError>> + Send;

    fn delete(
        &self,
        chat_id: &str,
        message_id: &str,
    ) -> impl Future<Output = Result<(), SendError>> + Send;
}

/// What an outbox row (`deliveries.payload`) holds: the message to send, in the source's
/// terms; the worker turns it into an [`OutgoingMessage`] for the destination's platform.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct DeliveryPayload {
    /// The text with its formatting. Rows stored before it was structured hold a string of
    /// markdown: it is read as Discord markdown, the closest to what was stored.
    #[serde(default, deserialize_with = "text_or_legacy")]
    pub text: FormattedText,
    #[serde(default)]
    pub author: Option<Author>,
    /// Files to fetch from the source and upload to the destination.
    #[serde(default)]
    pub media: Vec<MediaRef>,
    #[serde(default)]
    pub embeds: Vec<EmbedPart>,
    /// The source message this one replies to; the message map finds its copy.
    #[serde(default)]
    pub reply_to_source: Option<String>,
    /// An excerpt of that message, quoted when it has no copy at the destination.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_quote: Option<Quote>,
    /// The other source messages this one stands for (an album's members after the first).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grouped_ids: Vec<String>,
    /// For edits and deletes: which source message the action is about.
    #[serde(default)]
    pub target_source_message: Option<String>,
    /// When the source posted it (ms since the epoch), for latency figures.
    #[serde(default)]
    pub posted_at_ms: i64,
}

/// A payload's `text`: an object ([`FormattedText`]) or, in rows stored before, a string of
/// markdown.
fn text_or_legacy<'de, D>(deserializer: D) -> Result<FormattedText, D::Error>
where
    D: serde::Deserializer<'de>,
{
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Stored {
        Legacy(String),
        Formatted(FormattedText),
    }
    Ok(
        match <Stored as serde::Deserialize>::deserialize(deserializer)? {
            Stored::Legacy(markdown) => crate::format::from_discord_markdown(&markdown),
            Stored::Formatted(text) => text,
        },
    )
}

#[cfg(test)]
#[path = "messages_tests.rs"]
mod tests;
