//! A Telegram bot through teloxide-core: sends as a destination (here) and long polling as
//! a source (`listener`).
//!
//! Text goes out with `entities` (`caption_entities` for media), never a `parse_mode`, so
//! nothing in it is taken as markup.
//!
//! Errors become `SendError`: `retry_after` (429) is a typed wait for the queue, never a
//! sleep in here. The Bot API has no idempotency key: a send that went out and got no
//! answer in time is `SendError::Ambiguous` (it may have arrived; the caller must not send
//! it again), while a connect failure (nothing sent) stays transient.

use relay_core::format::FormattedText;
use relay_core::messages::{
    LimitScope, MessageSink, OutgoingFile, OutgoingMessage, SendError, Sent,
};
use std::time::Duration;
use teloxide_core::payloads::setters::*;
use teloxide_core::prelude::Requester;
use teloxide_core::types::{
    ChatId, InputFile, InputMedia, InputMediaDocument, InputMediaPhoto, InputMediaVideo, Message,
    MessageId, ReplyParameters, ThreadId,
};
use teloxide_core::{ApiError, Bot, RequestError};

mod download;
mod entities;
mod listener;
pub mod seen;

use crate::files::{FileKind, kind_of as kind_of_name};

fn kind_of(file: &OutgoingFile) -> FileKind {
    kind_of_name(&file.filename)
}

pub use download::BotFile;
pub use listener::{BotListener, incoming};

pub const DEFAULT_API_URL: &str = "https://api.telegram.org/";
const MAX_CAPTION: usize = 1024;
/// Files in one album (`sendMediaGroup`) at most.
const MAX_ALBUM: usize = crate::album::MAX_MEMBERS;

/// One bot token against one Bot API server (Telegram's, a self-hosted one, or the fake).
#[derive(Clone, Debug)]
pub struct TelegramBot {
    bot: Bot,
}

impl TelegramBot {
    pub fn new(token: &str, api_url: &str) -> Result<Self, String> {
        let url = reqwest_url(api_url)?;
        Ok(Self {
            bot: Bot::new(token).set_api_url(url),
        })
    }

    /// As [`TelegramBot::new`], with another limit on each request than teloxide's 17 s
    /// (tests use a short one; the connect timeout stays below it).
    pub fn with_timeout(token: &str, api_url: &str, timeout: Duration) -> Result<Self, String> {
        let url = reqwest_url(api_url)?;
        let client = teloxide_core::net::default_reqwest_settings()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Self {
            bot: Bot::with_client(token, client).set_api_url(url),
        })
    }

    /// The bot's id and username (how a token is validated).
    pub async fn me(&self) -> Result<(i64, String), SendError> {
        let me = self.bot.get_me().await.map_err(send_error)?;
        Ok((
            me.id.0 as i64,
            me.username.clone().unwrap_or_else(|| me.first_name.clone()),
        ))
    }
}

fn reqwest_url(url: &str) -> Result<url::Url, String> {
    let with_slash = if url.ends_with('/') {
        url.to_owned()
    } else {
        format!("{url}/")
    };
    url::Url::parse(&with_slash).map_err(|e| format!("not a URL: {e}"))
}

/// An edit that changes nothing is done: the message already reads as asked (a part of a
/// long text the edit did not touch).
fn unless_unchanged(done: Result<(), RequestError>) -> Result<(), SendError> {
    match done {
        Err(RequestError::Api(ApiError::MessageNotModified)) => Ok(()),
        Err(RequestError::Api(ApiError::Unknown(why)))
            if why.contains("message is not modified") =>
        {
            Ok(())
        }
        done => done.map_err(send_error),
    }
}

/// Telegram's answer to editing the text of a message that has a caption instead.
fn has_no_text(description: &str) -> bool {
    description.contains("there is no text in the message to edit")
}

/// The Bot API's errors in the queue's terms.
pub fn send_error(err: RequestError) -> SendError {
    match err {
        RequestError::RetryAfter(wait) => SendError::RateLimited {
            retry_after: wait.duration(),
            scope: LimitScope::Route,
        },
        RequestError::Api(ApiError::InvalidToken) => {
            SendError::Unauthorized("Telegram does not accept this bot token".into())
        }
        RequestError::Api(
            e @ (ApiError::ChatNotFound
            | ApiError::MessageToDeleteNotFound
            | ApiError::MessageToEditNotFound
            | ApiError::MessageIdInvalid),
        ) => SendError::NotFound(e.to_string()),
        RequestError::Api(e) => SendError::Rejected {
            code: "telegram".into(),
            message: e.to_string(),
        },
        RequestError::MigrateToChatId(id) => SendError::Rejected {
            code: "migrated".into(),
            message: format!("the group is now the supergroup {id}"),
        },
        RequestError::Network(e) => {
            // The URL holds the bot token: never let it into an error text.
            let mut text = e.to_string();
            if let Some(url) = e.url() {
                text = text.replace(url.as_str(), "[url]");
            }
            SendError::Transient(format!("cannot reach the Bot API: {text}"))
        }
        other => SendError::Transient(other.to_string()),
    }
}

/// [`send_error`] for a call that creates a message: a timeout after the request went out
/// is `Ambiguous`, since sending again could post the message twice.
pub fn create_error(err: RequestError) -> SendError {
    match &err {
        RequestError::Network(e) if e.is_timeout() && !e.is_connect() => SendError::Ambiguous(
            "the Bot API did not answer in time after the message was sent".into(),
        ),
        _ => send_error(err),
    }
}

/// The chat a chat id names (a forum topic's chat is its forum's).
fn chat(chat_id: &str) -> Result<ChatId, SendError> {
    crate::platform::split_topic(chat_id)
        .0
        .parse::<i64>()
        .map(ChatId)
        .map_err(|_| SendError::Rejected {
            code: "chat_id".into(),
            message: format!("'{chat_id}' is not a Telegram chat id"),
        })
}

/// The forum topic a chat id names (`-100…/42`), sent as `message_thread_id`.
fn thread(chat_id: &str) -> Option<ThreadId> {
    crate::platform::split_topic(chat_id)
        .1
        .map(|t| ThreadId(MessageId(t)))
}

fn message_id(id: &str) -> Result<MessageId, SendError> {
    id.parse::<i32>()
        .map(MessageId)
        .map_err(|_| SendError::NotFound(format!("'{id}' is not a Telegram message id")))
}

fn input(file: &OutgoingFile) -> InputFile {
    InputFile::memory(file.bytes.clone()).file_name(file.filename.clone())
}

/// Sends as a bot.
#[derive(Clone, Debug)]
pub struct BotSink {
    bot: Bot,
}

impl BotSink {
    pub fn new(bot: &TelegramBot) -> Self {
        Self {
            bot: bot.bot.clone(),
        }
    }

    /// Copies a message the bot can see into another chat (Telegram to Telegram through one
    /// bot), without a "forwarded from" header; media is not uploaded again.
    pub async fn copy(
        &self,
        from_chat: &str,
        message_id_text: &str,
        to_chat: &str,
    ) -> Result<Sent, SendError> {
        let id = self
            .bot
            .copy_message(
                chat(to_chat)?,
                chat(from_chat)?,
                message_id(message_id_text)?,
            )
            .await
            .map_err(create_error)?;
        Ok(Sent::one(id.0.to_string()))
    }

    async fn send_text(
        &self,
        chat: ChatId,
        formatted: &FormattedText,
        reply: Option<MessageId>,
        thread: Option<ThreadId>,
    ) -> Result<Message, SendError> {
        let (text, entities) = entities::to_send(formatted);
        let mut req = self.bot.send_message(chat, text);
        if let Some(t) = thread {
            req = req.message_thread_id(t);
        }
        if !entities.is_empty() {
            req = req.entities(entities);
        }
        if let Some(id) = reply {
            req = req.reply_parameters(ReplyParameters::new(id).allow_sending_without_reply());
        }
        req.await.map_err(create_error)
    }

    async fn send_one_file(
        &self,
        chat: ChatId,
        file: &OutgoingFile,
        caption: Option<&FormattedText>,
        reply: Option<MessageId>,
        thread: Option<ThreadId>,
    ) -> Result<Message, SendError> {
        let reply = reply.map(|id| ReplyParameters::new(id).allow_sending_without_reply());
        let (caption, entities) = caption.map(entities::to_send).unwrap_or_default();
        macro_rules! with_options {
            ($req:expr) => {{
                let mut req = $req;
                if !caption.is_empty() {
                    req = req.caption(caption.clone());
                }
                if !entities.is_empty() {
                    req = req.caption_entities(entities.clone());
                }
                if let Some(r) = reply.clone() {
                    req = req.reply_parameters(r);
                }
                if let Some(t) = thread {
                    req = req.message_thread_id(t);
                }
                req.await.map_err(create_error)
            }};
        }
        match kind_of(file) {
            FileKind::Photo => with_options!(self.bot.send_photo(chat, input(file))),
            FileKind::Video => with_options!(self.bot.send_video(chat, input(file))),
            FileKind::Voice => with_options!(self.bot.send_voice(chat, input(file))),
            FileKind::Document => with_options!(self.bot.send_document(chat, input(file))),
            // A sticker takes no caption: the text follows as a reply (see `send`).
            FileKind::Sticker => {
                let mut req = self.bot.send_sticker(chat, input(file));
                if let Some(r) = reply.clone() {
                    req = req.reply_parameters(r);
                }
                if let Some(t) = thread {
                    req = req.message_thread_id(t);
                }
                req.await.map_err(create_error)
            }
        }
    }

    /// 2 to 10 files as one album; photos and videos may mix, documents go in their own.
    async fn send_album(
        &self,
        chat: ChatId,
        files: &[OutgoingFile],
        caption: Option<&FormattedText>,
        reply: Option<MessageId>,
        thread: Option<ThreadId>,
    ) -> Result<Vec<Message>, SendError> {
        let caption = caption.map(entities::to_send);
        let visual = files
            .iter()
            .all(|f| matches!(kind_of(f), FileKind::Photo | FileKind::Video));
        let media: Vec<InputMedia> = files
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let caption = caption.clone().filter(|_| i == 0);
                // The caption and its entities, set only where there are some.
                macro_rules! captioned {
                    ($m:expr) => {{
                        let m = $m;
                        match caption {
                            Some((text, entities)) if !entities.is_empty() => {
                                m.caption(text).caption_entities(entities)
                            }
                            Some((text, _)) => m.caption(text),
                            None => m,
                        }
                    }};
                }
                match (visual, kind_of(f)) {
                    (true, FileKind::Video) => {
                        InputMedia::Video(captioned!(InputMediaVideo::new(input(f))))
                    }
                    (true, _) => InputMedia::Photo(captioned!(InputMediaPhoto::new(input(f)))),
                    _ => InputMedia::Document(captioned!(InputMediaDocument::new(input(f)))),
                }
            })
            .collect();
        let mut req = self.bot.send_media_group(chat, media);
        if let Some(t) = thread {
            req = req.message_thread_id(t);
        }
        if let Some(id) = reply {
            req = req.reply_parameters(ReplyParameters::new(id).allow_sending_without_reply());
        }
        req.await.map_err(create_error)
    }
}

impl MessageSink for BotSink {
    async fn send(
        &self,
        chat_id: &str,
        message: &OutgoingMessage,
        _idempotency_key: &str,
    ) -> Result<Sent, SendError> {
        let (chat, thread) = (chat(chat_id)?, thread(chat_id));
        let reply = message.reply_to.as_deref().map(message_id).transpose()?;
        let text = &message.text;
        let single_sticker =
            message.files.len() == 1 && kind_of(&message.files[0]) == FileKind::Sticker;
        let fits_caption = text.text.encode_utf16().count() <= MAX_CAPTION && !single_sticker;
        let caption = (fits_caption && !text.is_empty()).then_some(text);
        let mut sent = match message.files.len() {
            0 => vec![self.send_text(chat, text, reply, thread).await?],
            1 => vec![
                self.send_one_file(chat, &message.files[0], caption, reply, thread)
                    .await?,
            ],
            n if n <= MAX_ALBUM => {
                self.send_album(chat, &message.files, caption, reply, thread)
                    .await?
            }
            n => {
                return Err(SendError::Rejected {
                    code: "album".into(),
                    message: format!("{n} files: Telegram albums hold at most {MAX_ALBUM}"),
                });
            }
        };
        let first = sent
            .first()
            .map(|m| m.id)
            .ok_or_else(|| SendError::Transient("Telegram returned an empty album".into()))?;
        // A text too long for a caption follows the media as its own message.
        if !message.files.is_empty() && !text.is_empty() && !fits_caption {
            sent.push(self.send_text(chat, text, Some(first), thread).await?);
        }
        let mut ids = sent.into_iter().map(|m| m.id.0.to_string());
        Ok(Sent {
            message_id: ids.next().unwrap_or_default(),
            others: ids.collect(),
        })
    }

    async fn edit(
        &self,
        chat_id: &str,
        message_id_text: &str,
        message: &OutgoingMessage,
    ) -> Result<(), SendError> {
        let (chat, id) = (chat(chat_id)?, message_id(message_id_text)?);
        let (text, entities) = entities::to_send(&message.text);
        let mut edit = self.bot.edit_message_text(chat, id, &text);
        if !entities.is_empty() {
            edit = edit.entities(entities.clone());
        }
        match edit.await {
            // A photo, video, document or album went out with the text as its caption.
            Err(RequestError::Api(ApiError::Unknown(why))) if has_no_text(&why) => {
                let mut edit = self.bot.edit_message_caption(chat, id).caption(&text);
                if !entities.is_empty() {
                    edit = edit.caption_entities(entities);
                }
                unless_unchanged(edit.await.map(drop))
            }
            done => unless_unchanged(done.map(drop)),
        }
    }

    async fn delete(&self, chat_id: &str, message_id_text: &str) -> Result<(), SendError> {
        let (chat, id) = (chat(chat_id)?, message_id(message_id_text)?);
        self.bot
            .delete_message(chat, id)
            .await
            .map(drop)
            .map_err(send_error)
    }
}
