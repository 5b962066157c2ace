//! A bot as a source: long polling turned into Relay's `SourceEvent`s.
//!
//! Telegram keeps every update until a later `getUpdates` confirms it with its offset, so
//! the offset moves past a poll's updates only once the router acknowledged that their
//! outbox rows are committed; a crash or a takeover before that gets them again (and the
//! outbox's unique key makes a second create a no-op). Album members (one
//! `media_group_id`) are held until the album is complete and reported as one message
//! (`crate::album`); the offset stays at the first update taken while an album is held.
//!
//! A long poll holds the connection for up to `poll_timeout`, so its HTTP client waits
//! longer than that (teloxide's default client gives up after 17 s).

use super::{TelegramBot, send_error};
use crate::album::AlbumGrouper;
use relay_core::messages::{Author, IncomingMessage, MediaRef, MediaSource, Quote, SourceEvent};
use relay_core::source::SourceSender;
use std::time::{Duration, Instant};
use teloxide_core::payloads::setters::*;
use teloxide_core::prelude::Requester;
use teloxide_core::types::{Message, UpdateKind};
use teloxide_core::{ApiError, Bot, RequestError};
use tokio_util::sync::CancellationToken;

/// Long polling for one bot: new and edited messages and channel posts as `SourceEvent`s.
/// Only one consumer may poll a token at a time (Telegram answers a second one with 409);
/// the worker that owns the bot's lease runs this.
#[derive(Clone, Debug)]
pub struct BotListener {
    bot: Bot,
    /// Seconds a poll may wait for updates.
    poll_timeout: u32,
    /// Where the chats of its updates are reported, if anywhere.
    seen: Option<tokio::sync::mpsc::Sender<Vec<relay_core::chats::SeenChat>>>,
}

/// How much longer than a poll its HTTP request may take.
const POLL_MARGIN: Duration = Duration::from_secs(10);

impl BotListener {
    pub fn new(bot: &TelegramBot, poll_timeout: Duration) -> Self {
        let poll_timeout = poll_timeout.min(Duration::from_secs(50));
        Self::with_client_timeout(bot, poll_timeout, poll_timeout + POLL_MARGIN)
    }

    /// A listener whose HTTP client gives up after `client_timeout` (tests use it to show
    /// what a client timeout shorter than the poll does).
    pub fn with_client_timeout(
        bot: &TelegramBot,
        poll_timeout: Duration,
        client_timeout: Duration,
    ) -> Self {
        let client = teloxide_core::net::default_reqwest_settings()
            .timeout(client_timeout)
            .build();
        let bot = match client {
            Ok(client) => Bot::with_client(bot.bot.token(), client).set_api_url(bot.bot.api_url()),
            Err(e) => {
                tracing::warn!(error = %e, "cannot build the polling client; using the default one");
                bot.bot.clone()
            }
        };
        Self {
            bot,
            poll_timeout: poll_timeout.as_secs().clamp(0, 50) as u32,
            seen: None,
        }
    }

    /// Reports the chats of its updates (each now and then, see [`super::seen`]), so the
    /// chats a bot can pick are known; the receiver records them.
    pub fn recording_chats(
        mut self,
        seen: tokio::sync::mpsc::Sender<Vec<relay_core::chats::SeenChat>>,
    ) -> Self {
        self.seen = Some(seen);
        self
    }

    /// Polls until `shutdown`, the router is gone, or the token is refused. A poll's
    /// updates are confirmed (by the next offset) only once the router acknowledged them.
    pub async fn run(self, events: SourceSender, shutdown: CancellationToken) {
        let mut offset: i32 = 0;
        // Updates below this id were taken in (reported, or held in an album).
        let mut taken: i32 = 0;
        let mut albums = AlbumGrouper::default();
        // The first update taken while an album is held: the offset stays there until the
        // album is reported, so a stop before that reads the members again.
        let mut held_since: Option<i32> = None;
        let mut seen = self.seen.clone().map(super::seen::SeenChats::new);
        let mut backoff = Duration::from_millis(500);
        loop {
            // While an album is held: wait for it to fall due, then look for more members
            // without waiting.
            let timeout = match albums.deadline() {
                Some(due) => {
                    tokio::select! {
                        _ = shutdown.cancelled() => return,
                        _ = tokio::time::sleep_until(due.into()) => {}
                    }
                    0
                }
                None => self.poll_timeout,
            };
            let poll = self.bot.get_updates().offset(offset).timeout(timeout);
            let result = tokio::select! {
                _ = shutdown.cancelled() => return,
                result = poll => result,
            };
            let updates = match result {
                Ok(updates) => {
                    backoff = Duration::from_millis(500);
                    updates
                }
                Err(RequestError::Api(ApiError::InvalidToken)) => {
                    let _ = events
                        .event(SourceEvent::Unauthorized {
                            reason: "Telegram does not accept this bot token".into(),
                        })
                        .await;
                    return;
                }
                // A poll that ran out of time is no failure: poll again.
                Err(RequestError::Network(e)) if e.is_timeout() => {
                    tracing::debug!("getUpdates timed out; polling again");
                    continue;
                }
                Err(e) => {
                    let wait = match &e {
                        RequestError::RetryAfter(s) => s.duration(),
                        _ => backoff,
                    };
                    tracing::warn!(error = %send_error(e), ?wait, "getUpdates failed; retrying");
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                    tokio::select! {
                        _ = shutdown.cancelled() => return,
                        _ = tokio::time::sleep(wait) => continue,
                    }
                }
            };
            let now = Instant::now();
            let mut batch = Vec::new();
            let mut new = false;
            if let Some(seen) = seen.as_mut() {
                seen.note(&updates);
            }
            for update in updates {
                let id = update.id.0 as i32;
                if id < taken {
                    continue; // read again while an album was held
                }
                taken = id + 1;
                new = true;
                // A forum topic's message counts for the forum and for its topic.
                let (events, group) = match update.kind {
                    UpdateKind::Message(m) | UpdateKind::ChannelPost(m) => (
                        in_chat_and_topic(&m, SourceEvent::Created),
                        m.media_group_id().map(|g| g.0.clone()),
                    ),
                    UpdateKind::EditedMessage(m) | UpdateKind::EditedChannelPost(m) => {
                        (in_chat_and_topic(&m, SourceEvent::Edited), None)
                    }
                    _ => continue,
                };
                let was_holding = albums.is_holding();
                for event in events {
                    batch.extend(albums.push(event, group.clone(), now));
                }
                if !was_holding && albums.is_holding() {
                    held_since = Some(id);
                }
                if !albums.is_holding() {
                    held_since = None;
                }
            }
            batch.extend(albums.due(now));
            if !albums.is_holding() {
                held_since = None;
            }
            if batch.is_empty() && !new {
                continue;
            }
            // Updates that make no events are confirmed the same way, after what came
            // before them.
            let committed = tokio::select! {
                _ = shutdown.cancelled() => return,
                committed = events.commit(batch, None) => committed,
            };
            if committed.is_err() {
                return;
            }
            offset = held_since.unwrap_or(taken);
        }
    }
}

/// A message's event for its chat and, for a message in a forum topic, the same event for
/// the topic (`-100…/42`): a pair reading the whole forum and one reading the topic each
/// get it once.
fn in_chat_and_topic(m: &Message, event: fn(IncomingMessage) -> SourceEvent) -> Vec<SourceEvent> {
    let message = incoming(m);
    let topic = match (m.is_topic_message, m.thread_id) {
        (true, Some(thread)) => Some(crate::platform::topic_chat_id(m.chat.id.0, thread.0.0)),
        _ => None,
    };
    match topic {
        Some(chat_id) => vec![
            event(message.clone()),
            event(IncomingMessage { chat_id, ..message }),
        ],
        None => vec![event(message)],
    }
}

/// A Bot API message as Relay's platform-neutral message. Files are referenced by their
/// file id ([`MediaSource::TelegramBotFile`]), to be fetched through the same bot.
pub fn incoming(m: &Message) -> IncomingMessage {
    let author = match (m.from.as_ref(), m.author_signature()) {
        (_, Some(signature)) => Author {
            id: m.chat.id.to_string(),
            name: signature.to_owned(),
            avatar_url: None,
        },
        (Some(user), _) => Author {
            id: user.id.to_string(),
            name: user.full_name(),
            avatar_url: None,
        },
        (None, _) => Author {
            id: m.chat.id.to_string(),
            name: m.chat.title().unwrap_or_default().to_owned(),
            avatar_url: None,
        },
    };
    let mut media = Vec::new();
    let file = |id: &str, size: u32, name: &str| MediaRef {
        filename: name.to_owned(),
        source: MediaSource::TelegramBotFile {
            account: None,
            file_id: id.to_owned(),
        },
        size: u64::from(size),
        content_type: None,
    };
    if let Some(photo) = m
        .photo()
        .and_then(|sizes| sizes.iter().max_by_key(|p| p.width * p.height))
    {
        media.push(file(&photo.file.id.0, photo.file.size, "photo.jpg"));
    }
    if let Some(doc) = m.document() {
        media.push(file(
            &doc.file.id.0,
            doc.file.size,
            doc.file_name.as_deref().unwrap_or("file"),
        ));
    }
    if let Some(video) = m.video() {
        media.push(file(
            &video.file.id.0,
            video.file.size,
            video.file_name.as_deref().unwrap_or("video.mp4"),
        ));
    }
    if let Some(voice) = m.voice() {
        media.push(file(&voice.file.id.0, voice.file.size, "voice.ogg"));
    }
    if let Some(sticker) = m.sticker() {
        media.push(file(&sticker.file.id.0, sticker.file.size, "sticker.webp"));
    }
    IncomingMessage {
        chat_id: m.chat.id.to_string(),
        message_id: m.id.0.to_string(),
        author,
        text: super::entities::formatted(m),
        media,
        embeds: Vec::new(),
        reply_to: m.reply_to_message().map(|r| r.id.0.to_string()),
        posted_at_ms: m.date.timestamp_millis(),
        edited_at_ms: m.edit_date().map(|at| at.timestamp_millis()),
        reply_quote: m.reply_to_message().map(parent_quote),
        forwarded: m.forward_origin().is_some(),
        author_is_bot: m.from.as_ref().is_some_and(|u| u.is_bot),
        chat_title: m.chat.title().map(str::to_owned),
        link: crate::platform::message_link(m.chat.id.0, m.chat.username(), i64::from(m.id.0)),
        ..IncomingMessage::default()
    }
}

/// The parent of a reply as the Bot API sends it along (`reply_to_message`), quoted where
/// it has no copy.
fn parent_quote(parent: &Message) -> Quote {
    let name = match (parent.author_signature(), parent.from.as_ref()) {
        (Some(signature), _) => signature.to_owned(),
        (None, Some(user)) => user.full_name(),
        (None, None) => parent.chat.title().unwrap_or_default().to_owned(),
    };
    let text = parent.text().or(parent.caption()).unwrap_or_default();
    Quote::of(name, text)
}
