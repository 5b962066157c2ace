//! A Telegram user session as a source: new, edited and deleted messages in channels,
//! groups and private chats.
//!
//! Each update comes with its place in its box (the common pts, the qts, or a channel's
//! pts); that position goes to the router with the update's events and is stored with their
//! outbox rows, so a session that stops or crashes catches up (getDifference,
//! getChannelDifference) from the last update whose rows are committed. A channel the
//! session starts reading without a stored position gets the pts it stands at now
//! (messages.getPeerDialogs), so that catching up covers it too.

use super::Connection;
use grammers_client::InvocationError;
use grammers_client::media::Media;
use grammers_client::message::Message;
use grammers_client::update::Update;
use grammers_mtsender::UpdatesConfiguration;
use grammers_session::types::{PeerId, PeerInfo};
use grammers_session::updates::{MessageBox, State};
use grammers_tl_types as tl;
use relay_core::messages::{Author, IncomingMessage, MediaRef, MediaSource, SourceEvent};
use relay_core::source::{Position, SourceSender};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub struct UserListener {
    connection: Connection,
    /// Bare ids of the channels pairs read from.
    channels: Vec<i64>,
}

impl UserListener {
    pub fn new(connection: Connection) -> Self {
        Self {
            connection,
            channels: Vec::new(),
        }
    }

    /// The chats pairs read from (Bot API dialog ids); channels among them get a position
    /// when the listener starts, if they have none.
    pub fn reading(mut self, chats: &[String]) -> Self {
        self.channels = chats
            .iter()
            .filter_map(|c| c.parse::<i64>().ok())
            .filter_map(PeerId::from_bot_api_dialog_id)
            .filter(|id| id.kind() == grammers_session::types::PeerKind::Channel)
            .filter_map(|id| id.bare_id())
            .collect();
        self
    }

    /// Records the current pts of each channel read without a position yet.
    async fn start_channels(&self) {
        for &channel in &self.channels {
            let session = &self.connection.session;
            if session.has_channel(channel) {
                continue;
            }
            let peer =
                grammers_session::Session::peer(&**session, PeerId::channel_unchecked(channel))
                    .await;
            let Ok(Some(PeerInfo::Channel {
                id,
                auth: Some(auth),
                ..
            })) = peer
            else {
                tracing::warn!(
                    channel,
                    "a channel read without its access hash; it cannot be caught up after a restart"
                );
                continue;
            };
            let request = tl::functions::messages::GetPeerDialogs {
                peers: vec![tl::enums::InputDialogPeer::Peer(
                    tl::types::InputDialogPeer {
                        peer: tl::enums::InputPeer::Channel(tl::types::InputPeerChannel {
                            channel_id: id,
                            access_hash: auth.hash(),
                        }),
                    },
                )],
            };
            let pts = match self.connection.client.invoke(&request).await {
                Ok(tl::enums::messages::PeerDialogs::Dialogs(d)) => {
                    d.dialogs.iter().find_map(|dialog| match dialog {
                        tl::enums::Dialog::Dialog(d) => d.pts,
                        _ => None,
                    })
                }
                Err(e) => {
                    tracing::warn!(channel, error = %e, "cannot learn where a channel stands");
                    None
                }
            };
            if let Some(pts) = pts
                && let Err(e) = session.start_channel_at(channel, pts).await
            {
                tracing::warn!(channel, error = %e, "cannot record where a channel stands");
            }
        }
    }

    /// Reports events until `shutdown`, the receiver closes, or the session's authorization
    /// is gone (reported as `SourceEvent::Unauthorized`).
    pub async fn run(mut self, events: SourceSender, shutdown: CancellationToken) {
        let Some(updates) = self.connection.take_updates() else {
            tracing::error!("the session's updates are already being listened to");
            return;
        };
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = self.start_channels() => {}
        }
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
                next = stream.next_raw() => next,
            };
            let (raw, state, peers) = match next {
                Ok(update) => {
                    backoff = Duration::from_millis(500);
                    update
                }
                Err(InvocationError::Rpc(rpc)) if rpc.code == 401 => {
                    let _ = events
                        .event(SourceEvent::Unauthorized {
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
            let position = position(&state);
            let update = Update::from_raw(&self.connection.client, raw, state, peers);
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
            // Updates without events (service messages, other kinds) move the position too.
            if events.send(batch, position).await.is_err() {
                return;
            }
        }
        // No `sync_update_state` here: the state grammers holds may be ahead of what the
        // router recorded; the stored position is the one to resume from.
    }
}

/// The position an update puts its box at.
fn position(state: &State) -> Option<Position> {
    Some(match state.message_box? {
        MessageBox::Common { pts } => Position::TelegramCommon {
            pts,
            date: state.date,
            seq: state.seq,
        },
        MessageBox::Secondary { qts } => Position::TelegramSecondary { qts },
        MessageBox::Channel { channel_id, pts } => Position::TelegramChannel { channel_id, pts },
    })
}

/// Media up to this size is carried inline with the message ([`MediaSource::Inline`]).
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
    file.source = MediaSource::Inline {
        mime,
        base64: base64::engine::general_purpose::STANDARD.encode(&bytes),
    };
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
/// files are referenced by their message ([`MediaSource::TelegramUserMessage`]), and carried
/// inline when small enough.
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
    let source = MediaSource::TelegramUserMessage {
        chat_id: m.peer_id().bot_api_dialog_id().unwrap_or_default(),
        message_id: m.id(),
    };
    let media = match m.media() {
        Some(Media::Photo(photo)) => vec![MediaRef {
            filename: "photo.jpg".into(),
            source,
            size: photo.size().unwrap_or_default() as u64,
            content_type: Some("image/jpeg".into()),
        }],
        Some(Media::Document(doc)) => vec![document_ref(&doc, source)],
        Some(Media::Sticker(sticker)) => vec![document_ref(&sticker.document, source)],
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

fn document_ref(doc: &grammers_client::media::Document, source: MediaSource) -> MediaRef {
    MediaRef {
        filename: doc
            .name()
            .filter(|n| !n.is_empty())
            .unwrap_or("file")
            .to_owned(),
        source,
        size: doc.size().unwrap_or_default() as u64,
        content_type: doc.mime_type().map(str::to_owned),
    }
}
