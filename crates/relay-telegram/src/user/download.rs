//! Fetching the file of a message the session can read (a message a pair forwards), by its
//! chat and id: the worker asks for it when a delivery needs it, not the listener when the
//! message arrives. The download is streamed and stops as soon as it passes the cap.

use super::{UserSink, send_error};
use grammers_client::media::Media;
use relay_core::messages::SendError;

/// A message's file, or how large it turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageFile {
    Bytes(Vec<u8>),
    /// Over the cap (`size`: what Telegram declares, or at least what was read); not read
    /// further.
    TooLarge {
        size: u64,
    },
}

impl UserSink {
    /// The file of message `message_id` in `chat_id` (a Bot API dialog id), read up to
    /// `cap` bytes.
    pub async fn message_file(
        &self,
        chat_id: i64,
        message_id: i32,
        cap: u64,
    ) -> Result<MessageFile, SendError> {
        let peer = self.peer(&chat_id.to_string()).await?;
        let found = self
            .client
            .get_messages_by_id(peer, &[message_id])
            .await
            .map_err(send_error)?;
        let Some(Some(message)) = found.into_iter().next() else {
            return Err(SendError::NotFound(format!(
                "message {message_id} of chat {chat_id} is gone"
            )));
        };
        let Some(media) = message.media() else {
            return Err(SendError::NotFound(format!(
                "message {message_id} of chat {chat_id} has no file any more"
            )));
        };
        let declared = declared_size(&media);
        if declared > cap {
            return Ok(MessageFile::TooLarge { size: declared });
        }
        let mut download = self.client.iter_download(&media);
        let mut bytes = Vec::with_capacity(declared.min(cap) as usize);
        while let Some(chunk) = download.next().await.map_err(send_error)? {
            let read = (bytes.len() + chunk.len()) as u64;
            if read > cap {
                return Ok(MessageFile::TooLarge {
                    size: read.max(declared),
                });
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(MessageFile::Bytes(bytes))
    }
}

/// The size Telegram gives for the file (0 when it gives none).
fn declared_size(media: &Media) -> u64 {
    let size = match media {
        Media::Photo(photo) => photo.size(),
        Media::Document(doc) => doc.size(),
        Media::Sticker(sticker) => sticker.document.size(),
        _ => None,
    };
    size.and_then(|s| u64::try_from(s).ok()).unwrap_or(0)
}
