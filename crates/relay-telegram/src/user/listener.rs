//! A Telegram user session as a source: new, edited and deleted messages in channels,
//! groups and private chats. The update state is saved as updates are handed over, so a
//! session that was down catches up from where it stopped (getDifference); a gap while
//! connected is filled the same way by grammers.

use super::Connection;
use grammers_client::InvocationError;
use grammers_client::media::Media;
use grammers_client::message::Message;
use grammers_client::update::Update;
use grammers_mtsender::UpdatesConfiguration;
use relay_core::messages::{Author, IncomingMessage, MediaRef, SourceEvent};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub struct UserListener {
    connection: Connection,
}

impl UserListener {
    pub fn new(connection: Connection) -> Self {
        Self { connection }
    }

    /// Reports events until `shutdown`, the receiver closes, or the session's authorization
    /// is gone (reported as `SourceEvent::Unauthorized`).
    pub async fn run(mut self, events: mpsc::Sender<SourceEvent>, shutdown: CancellationToken) {
        let Some(updates) = self.connection.take_updates() else {
            tracing::error!("the session's updates are already being listened to");
            return;
        };
        let stream = self
            .connection
            .client
            .stream_updates(updates, UpdatesConfiguration { catch_up: true })
            .await;
        let mut stream = match stream {
            Ok(stream) => stream,
            Err(e) => {
                tracing::error!(error = %e, "cannot start the update stream");
                return;
            }
        };
        let mut backoff = Duration::from_millis(500);
        loop {
            let next = tokio::select! {
                _ = shutdown.cancelled() => break,
                next = stream.next() => next,
            };
            let update = match next {
                Ok(update) => {
                    backoff = Duration::from_millis(500);
                    update
                }
                Err(InvocationError::Rpc(rpc)) if rpc.code == 401 => {
                    let _ = events
                        .send(SourceEvent::Unauthorized {
                            reason: format!("Telegram ended the session ({})", rpc.name),
                        })
                        .await;
                    return;
                }
                Err(e) => {
                    tracing::warn!(error = %e, wait = ?backoff, "Telegram updates failed; retrying");
                    tokio::select! {
                        _ = shutdown.cancelled() => break,
                        _ = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                    continue;
                }
            };
            let mut batch = events_of(&update);
            // Files travel with the message: the destination's worker may not hold this
            // session, so small media is fetched now and carried inline.
            if let (
                Update::NewMessage(m) | Update::MessageEdited(m),
                Some(SourceEvent::Created(incoming) | SourceEvent::Edited(incoming)),
            ) = (&update, batch.first_mut())
            {
                inline_media(&self.connection.client, m, incoming).await;
            }
            for event in batch {
                if events.send(event).await.is_err() {
                    return;
                }
            }
        }
        if let Err(e) = stream.sync_update_state().await {
            tracing::warn!(error = %e, "could not save the update state at shutdown");
        }
    }
}

/// Media up to this size is carried inline with the message (as a `data:` URL).
pub const INLINE_MEDIA_BYTES: u64 = 10 * 1024 * 1024;

async fn inline_media(
    client: &grammers_client::Client,
    m: &Message,
    incoming: &mut IncomingMessage,
) {
    let Some(media) = m.media() else { return };
    let Some(file) = incoming.media.first_mut() else {
        return;
    };
    if file.size > INLINE_MEDIA_BYTES {
        tracing::warn!(
            size = file.size,
            "a file too large to carry inline; it will be reported when forwarded"
        );
        return;
    }
    let mut download = client.iter_download(&media);
    let mut bytes = Vec::with_capacity(file.size as usize);
    loop {
        match download.next().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            Ok(None) => break,
            Err(e) => {
                tracing::warn!(error = %e, "could not fetch a message's file; it keeps its reference");
                return;
            }
        }
        if bytes.len() as u64 > INLINE_MEDIA_BYTES {
            return;
        }
    }
    use base64::Engine;
    let mime = file
        .content_type
        .clone()
        .unwrap_or_else(|| "application/octet-stream".into());
    file.size = bytes.len() as u64;
    file.url = format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(&bytes)
    );
}

fn events_of(update: &Update) -> Vec<SourceEvent> {
    match update {
        Update::NewMessage(m) if m.action().is_none() => vec![SourceEvent::Created(incoming(m))],
        Update::MessageEdited(m) if m.action().is_none() => vec![SourceEvent::Edited(incoming(m))],
        Update::MessageDeleted(deletion) => {
            // Telegram names the channel of a channel deletion; in private chats and small
            // groups the ids are unique per account, so the chat is left empty.
            let chat_id = deletion
                .channel_id()
                .map(|id| (-1_000_000_000_000 - id).to_string())
                .unwrap_or_default();
            deletion
                .messages()
                .iter()
                .map(|id| SourceEvent::Deleted {
                    chat_id: chat_id.clone(),
                    message_id: id.to_string(),
                })
                .collect()
        }
        _ => Vec::new(),
    }
}

/// A message as Relay's platform-neutral message. Text keeps its formatting as Markdown;
/// files are referenced as `tg-user-media:{chat}/{message}`, fetched through the same session.
pub fn incoming(m: &Message) -> IncomingMessage {
    let chat_id = m
        .peer_id()
        .bot_api_dialog_id()
        .map(|id| id.to_string())
        .unwrap_or_default();
    let author = match (m.sender(), m.post_author()) {
        (_, Some(signature)) => Author {
            id: chat_id.clone(),
            name: signature.to_owned(),
            avatar_url: None,
        },
        (Some(sender), None) => Author {
            id: sender
                .id()
                .bot_api_dialog_id()
                .map(|id| id.to_string())
                .unwrap_or_default(),
            name: sender.name().unwrap_or_default().to_owned(),
            avatar_url: None,
        },
        (None, None) => Author {
            id: chat_id.clone(),
            name: m
                .peer()
                .and_then(|p| p.name())
                .unwrap_or_default()
                .to_owned(),
            avatar_url: None,
        },
    };
    let url = format!("tg-user-media:{chat_id}/{}", m.id());
    let media = match m.media() {
        Some(Media::Photo(photo)) => vec![MediaRef {
            filename: "photo.jpg".into(),
            url,
            size: photo.size().unwrap_or_default() as u64,
            content_type: Some("image/jpeg".into()),
        }],
        Some(Media::Document(doc)) => vec![document_ref(&doc, url)],
        Some(Media::Sticker(sticker)) => vec![document_ref(&sticker.document, url)],
        _ => Vec::new(),
    };
    IncomingMessage {
        chat_id,
        message_id: m.id().to_string(),
        author,
        text: m.markdown_text(),
        media,
        embeds: Vec::new(),
        reply_to: m.reply_to_message_id().map(|id| id.to_string()),
        posted_at_ms: m.date().as_millisecond(),
    }
}

fn document_ref(doc: &grammers_client::media::Document, url: String) -> MediaRef {
    MediaRef {
        filename: doc
            .name()
            .filter(|n| !n.is_empty())
            .unwrap_or("file")
            .to_owned(),
        url,
        size: doc.size().unwrap_or_default() as u64,
        content_type: doc.mime_type().map(str::to_owned),
    }
}
