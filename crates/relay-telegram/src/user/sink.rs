//! Sending as a Telegram user. Every send carries a `random_id` derived from the delivery's
//! idempotency key (one per album item), so a retried delivery is recognised by Telegram
//! and never posted twice. Text goes out as it is, its formatting as message entities
//! (never parsed from markup).

use super::entities::to_send;
use super::{Connection, send_error};
use crate::files::{FileKind, kind_of, mime_type};
use grammers_client::Client;
use grammers_client::session::Session;
use grammers_client::session::types::{PeerId, PeerKind, PeerRef};
use grammers_client::tl;
use grammers_mtsender::InvocationError;
use relay_core::format::FormattedText;
use relay_core::messages::{MessageSink, OutgoingFile, OutgoingMessage, SendError, Sent};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// Telegram's limits for a user account (Premium raises some; Relay keeps to the base).
pub const MAX_TEXT: usize = 4096;
pub const MAX_CAPTION: usize = 1024;
pub const MAX_ALBUM: usize = crate::album::MAX_MEMBERS;

/// The `random_id` of one part of a delivery: stable across retries, distinct per part.
pub fn random_id(idempotency_key: &str, part: usize) -> i64 {
    let digest = Sha256::new()
        .chain_update(idempotency_key.as_bytes())
        .chain_update(part.to_le_bytes())
        .finalize();
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_le_bytes(bytes)
}

/// Sends as the session's user.
#[derive(Clone)]
pub struct UserSink {
    pub(super) client: Client,
    pub(super) session: Arc<super::UserSession>,
}

impl UserSink {
    pub fn new(connection: &Connection) -> Self {
        Self {
            client: connection.client.clone(),
            session: Arc::clone(&connection.session),
        }
    }

    /// Checks that the session still works (a health check): Telegram answers getState.
    pub async fn check(&self) -> Result<(), SendError> {
        self.client
            .invoke(&tl::functions::updates::GetState {})
            .await
            .map(drop)
            .map_err(send_error)
    }

    /// The session's dialogs, as chats a pair can name ([`super::dialogs`]).
    pub async fn dialogs(&self) -> Result<Vec<relay_core::chats::SeenChat>, SendError> {
        super::dialogs::list(&self.client).await
    }

    /// The chat, from its Bot API style id, with the access hash the session has for it.
    pub(super) async fn peer(&self, chat_id: &str) -> Result<PeerRef, SendError> {
        // A forum topic (`-100…/42`) is in its forum.
        let id = crate::platform::split_topic(chat_id)
            .0
            .parse::<i64>()
            .ok()
            .and_then(PeerId::from_bot_api_dialog_id)
            .ok_or_else(|| SendError::NotFound(format!("'{chat_id}' is not a Telegram chat id")))?;
        let known = self
            .session
            .peer_ref(id)
            .await
            .map_err(|e| SendError::Transient(e.to_string()))?;
        match known {
            Some(peer) => Ok(peer),
            // Small groups need no access hash; others must have been seen by the session.
            None if id.kind() == PeerKind::Chat => Ok(id.to_ambient_ref()),
            None => Err(SendError::NotFound(format!(
                "chat {chat_id} is not known to this Telegram account (join it or open it first)"
            ))),
        }
    }

    async fn upload(&self, file: &OutgoingFile) -> Result<tl::enums::InputMedia, SendError> {
        let mut stream = std::io::Cursor::new(file.bytes.as_slice());
        let uploaded = self
            .client
            .upload_stream(&mut stream, file.bytes.len(), file.filename.clone())
            .await
            .map_err(|e| SendError::Transient(format!("upload: {e}")))?;
        let kind = kind_of(&file.filename);
        if kind == FileKind::Photo {
            return Ok(tl::types::InputMediaUploadedPhoto {
                spoiler: false,
                live_photo: false,
                file: uploaded.raw,
                stickers: None,
                ttl_seconds: None,
                video: None,
            }
            .into());
        }
        let mut attributes: Vec<tl::enums::DocumentAttribute> = vec![
            tl::types::DocumentAttributeFilename {
                file_name: file.filename.clone(),
            }
            .into(),
        ];
        match kind {
            FileKind::Video => attributes.push(
                tl::types::DocumentAttributeVideo {
                    round_message: false,
                    supports_streaming: true,
                    nosound: false,
                    duration: 0.0,
                    w: 0,
                    h: 0,
                    preload_prefix_size: None,
                    video_start_ts: None,
                    video_codec: None,
                }
                .into(),
            ),
            FileKind::Voice => attributes.push(
                tl::types::DocumentAttributeAudio {
                    voice: true,
                    duration: 0,
                    title: None,
                    performer: None,
                    waveform: None,
                }
                .into(),
            ),
            FileKind::Sticker => attributes.push(
                tl::types::DocumentAttributeSticker {
                    mask: false,
                    alt: String::new(),
                    stickerset: tl::enums::InputStickerSet::Empty,
                    mask_coords: None,
                }
                .into(),
            ),
            FileKind::Photo | FileKind::Document => {}
        }
        Ok(tl::types::InputMediaUploadedDocument {
            nosound_video: false,
            force_file: kind == FileKind::Document,
            spoiler: false,
            file: uploaded.raw,
            thumb: None,
            mime_type: mime_type(&file.filename, kind).to_owned(),
            attributes,
            stickers: None,
            video_cover: None,
            video_timestamp: None,
            ttl_seconds: None,
        }
        .into())
    }

    async fn send_text(
        &self,
        peer: PeerRef,
        formatted: &FormattedText,
        reply_to: Option<i32>,
        random_id: i64,
    ) -> Result<i32, SendError> {
        let (text, entities) = to_send(formatted);
        check_length(&text, MAX_TEXT, "MESSAGE_TOO_LONG", "text")?;
        let request = tl::functions::messages::SendMessage {
            no_webpage: false,
            silent: false,
            background: false,
            clear_draft: false,
            noforwards: false,
            update_stickersets_order: false,
            invert_media: false,
            allow_paid_floodskip: false,
            peer: peer.into(),
            reply_to: reply_header(reply_to),
            message: text,
            random_id,
            reply_markup: None,
            entities: (!entities.is_empty()).then_some(entities),
            schedule_date: None,
            schedule_repeat_period: None,
            send_as: None,
            quick_reply_shortcut: None,
            effect: None,
            allow_paid_stars: None,
            suggested_post: None,
            rich_message: None,
        };
        let updates = self.client.invoke(&request).await.map_err(send_error)?;
        sent_id(&updates, random_id)
    }

    async fn send_one(
        &self,
        peer: PeerRef,
        file: &OutgoingFile,
        caption: &FormattedText,
        reply_to: Option<i32>,
        random_id: i64,
    ) -> Result<i32, SendError> {
        let media = self.upload(file).await?;
        let (message, entities) = to_send(caption);
        let request = tl::functions::messages::SendMedia {
            silent: false,
            background: false,
            clear_draft: false,
            noforwards: false,
            update_stickersets_order: false,
            invert_media: false,
            allow_paid_floodskip: false,
            peer: peer.into(),
            reply_to: reply_header(reply_to),
            media,
            message,
            random_id,
            reply_markup: None,
            entities: (!entities.is_empty()).then_some(entities),
            schedule_date: None,
            schedule_repeat_period: None,
            send_as: None,
            quick_reply_shortcut: None,
            effect: None,
            allow_paid_stars: None,
            suggested_post: None,
        };
        let updates = self.client.invoke(&request).await.map_err(send_error)?;
        sent_id(&updates, random_id)
    }

    /// 2 to 10 files as one grouped message: each is uploaded and turned into a reusable
    /// media first (messages.uploadMedia), then all go in one messages.sendMultiMedia.
    async fn send_album(
        &self,
        peer: PeerRef,
        files: &[OutgoingFile],
        caption: &FormattedText,
        reply_to: Option<i32>,
        key: &str,
    ) -> Result<Vec<i32>, SendError> {
        let mut multi_media = Vec::with_capacity(files.len());
        for (i, file) in files.iter().enumerate() {
            let uploaded = self.upload(file).await?;
            let media = self
                .client
                .invoke(&tl::functions::messages::UploadMedia {
                    business_connection_id: None,
                    peer: peer.into(),
                    media: uploaded,
                })
                .await
                .map_err(send_error)?;
            let (message, entities) = if i == 0 {
                to_send(caption)
            } else {
                (String::new(), Vec::new())
            };
            multi_media.push(
                tl::types::InputSingleMedia {
                    media: reusable(media)?,
                    random_id: random_id(key, i),
                    message,
                    entities: (!entities.is_empty()).then_some(entities),
                }
                .into(),
            );
        }
        let request = tl::functions::messages::SendMultiMedia {
            silent: false,
            background: false,
            clear_draft: false,
            noforwards: false,
            update_stickersets_order: false,
            invert_media: false,
            allow_paid_floodskip: false,
            peer: peer.into(),
            reply_to: reply_header(reply_to),
            multi_media,
            schedule_date: None,
            send_as: None,
            quick_reply_shortcut: None,
            effect: None,
            allow_paid_stars: None,
        };
        let updates = self.client.invoke(&request).await.map_err(send_error)?;
        (0..files.len())
            .map(|i| sent_id(&updates, random_id(key, i)))
            .collect()
    }
}

fn reply_header(reply_to: Option<i32>) -> Option<tl::enums::InputReplyTo> {
    reply_to.map(|id| {
        tl::types::InputReplyToMessage {
            reply_to_msg_id: id,
            top_msg_id: None,
            reply_to_peer_id: None,
            quote_text: None,
            quote_entities: None,
            quote_offset: None,
            monoforum_peer_id: None,
            todo_item_id: None,
            poll_option: None,
        }
        .into()
    })
}

/// The media Telegram stored on upload, as something a send can point at.
fn reusable(media: tl::enums::MessageMedia) -> Result<tl::enums::InputMedia, SendError> {
    use tl::enums::{Document, MessageMedia, Photo};
    match media {
        MessageMedia::Photo(tl::types::MessageMediaPhoto {
            photo: Some(Photo::Photo(p)),
            ..
        }) => Ok(tl::types::InputMediaPhoto {
            spoiler: false,
            live_photo: false,
            id: tl::types::InputPhoto {
                id: p.id,
                access_hash: p.access_hash,
                file_reference: p.file_reference,
            }
            .into(),
            ttl_seconds: None,
            video: None,
        }
        .into()),
        MessageMedia::Document(tl::types::MessageMediaDocument {
            document: Some(Document::Document(d)),
            ..
        }) => Ok(tl::types::InputMediaDocument {
            spoiler: false,
            id: tl::types::InputDocument {
                id: d.id,
                access_hash: d.access_hash,
                file_reference: d.file_reference,
            }
            .into(),
            video_cover: None,
            video_timestamp: None,
            ttl_seconds: None,
            query: None,
        }
        .into()),
        _ => Err(SendError::Transient(
            "Telegram did not keep the uploaded media".into(),
        )),
    }
}

/// The id Telegram gave the message sent with `random_id`.
fn sent_id(updates: &tl::enums::Updates, random_id: i64) -> Result<i32, SendError> {
    use tl::enums::{Update, Updates};
    let list = match updates {
        Updates::UpdateShortSentMessage(sent) => return Ok(sent.id),
        Updates::Updates(u) => &u.updates,
        Updates::Combined(u) => &u.updates,
        _ => {
            return Err(SendError::Transient(
                "Telegram did not say which message it created".into(),
            ));
        }
    };
    list.iter()
        .find_map(|update| match update {
            Update::MessageId(m) if m.random_id == random_id => Some(m.id),
            _ => None,
        })
        .ok_or_else(|| SendError::Transient("Telegram did not say which message it created".into()))
}

fn check_length(text: &str, max: usize, code: &str, what: &str) -> Result<(), SendError> {
    let len = text.encode_utf16().count();
    if len > max {
        return Err(SendError::Rejected {
            code: code.to_owned(),
            message: format!("{what} of {len} characters: Telegram takes at most {max}"),
        });
    }
    Ok(())
}

fn message_id(id: &str) -> Result<i32, SendError> {
    id.parse::<i32>()
        .map_err(|_| SendError::NotFound(format!("'{id}' is not a Telegram message id")))
}

impl MessageSink for UserSink {
    async fn send(
        &self,
        chat_id: &str,
        message: &OutgoingMessage,
        idempotency_key: &str,
    ) -> Result<Sent, SendError> {
        let peer = self.peer(chat_id).await?;
        // Into a forum topic: a message without a reply answers the topic's first message,
        // which is how Telegram places a message in a topic (a reply goes where its parent
        // is).
        let topic = crate::platform::split_topic(chat_id).1;
        let reply_to = message.reply_to.as_deref().map(message_id).transpose()?;
        let reply_to = reply_to.or(topic);
        let text = &message.text;
        let fits_caption = text.text.encode_utf16().count() <= MAX_CAPTION;
        let none = FormattedText::default();
        let caption = if fits_caption { text } else { &none };
        let mut sent = match message.files.len() {
            0 if text.is_empty() => {
                return Err(SendError::Rejected {
                    code: "MESSAGE_EMPTY".into(),
                    message: "nothing to send: no text and no files".into(),
                });
            }
            0 => vec![
                self.send_text(peer, text, reply_to, random_id(idempotency_key, 0))
                    .await?,
            ],
            1 => vec![
                self.send_one(
                    peer,
                    &message.files[0],
                    caption,
                    reply_to,
                    random_id(idempotency_key, 0),
                )
                .await?,
            ],
            n if n <= MAX_ALBUM => {
                self.send_album(peer, &message.files, caption, reply_to, idempotency_key)
                    .await?
            }
            n => {
                return Err(SendError::Rejected {
                    code: "album".into(),
                    message: format!("{n} files: Telegram albums hold at most {MAX_ALBUM}"),
                });
            }
        };
        // A text too long for a caption follows the media, as a reply to it.
        if !message.files.is_empty() && !text.is_empty() && !fits_caption {
            let follow_up = self
                .send_text(
                    peer,
                    text,
                    sent.first().copied(),
                    random_id(idempotency_key, MAX_ALBUM),
                )
                .await?;
            sent.push(follow_up);
        }
        let mut ids = sent.into_iter().map(|id| id.to_string());
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
        let peer = self.peer(chat_id).await?;
        let id = message_id(message_id_text)?;
        let (text, entities) = to_send(&message.text);
        check_length(&text, MAX_TEXT, "MESSAGE_TOO_LONG", "text")?;
        let request = tl::functions::messages::EditMessage {
            no_webpage: false,
            invert_media: false,
            peer: peer.into(),
            id,
            message: Some(text),
            media: None,
            reply_markup: None,
            entities: Some(entities),
            schedule_date: None,
            schedule_repeat_period: None,
            quick_reply_shortcut_id: None,
            rich_message: None,
        };
        match self.client.invoke(&request).await {
            // Already as asked (a part of a long text the edit did not touch).
            Err(InvocationError::Rpc(rpc)) if rpc.is("MESSAGE_NOT_MODIFIED") => Ok(()),
            done => done.map(drop).map_err(send_error),
        }
    }

    async fn delete(&self, chat_id: &str, message_id_text: &str) -> Result<(), SendError> {
        let peer = self.peer(chat_id).await?;
        let id = vec![message_id(message_id_text)?];
        let result = if peer.id.kind() == PeerKind::Channel {
            self.client
                .invoke(&tl::functions::channels::DeleteMessages {
                    channel: peer.into(),
                    id,
                })
                .await
        } else {
            self.client
                .invoke(&tl::functions::messages::DeleteMessages { revoke: true, id })
                .await
        };
        result.map(drop).map_err(send_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_ids_are_stable_per_key_and_distinct_per_part() {
        assert_eq!(random_id("d1", 0), random_id("d1", 0));
        assert_ne!(random_id("d1", 0), random_id("d1", 1));
        assert_ne!(random_id("d1", 0), random_id("d2", 0));
    }
}
