//! A file a bot received, fetched with a cap: Telegram lets bots fetch files up to 20 MB
//! (getFile answers "file is too big" above that), and the download stops as soon as it
//! passes the cap whatever size was declared.

use super::{TelegramBot, send_error};
use relay_core::messages::SendError;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::AsyncWrite;

/// A bot's file, or how large it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BotFile {
    Bytes(Vec<u8>),
    /// Over the cap, or over what Telegram lets bots fetch: at least `size` bytes (0 when
    /// Telegram did not say).
    TooLarge {
        size: u64,
    },
}

impl TelegramBot {
    /// The file `file_id`, read up to `cap` bytes.
    pub async fn file(&self, file_id: &str, cap: u64) -> Result<BotFile, SendError> {
        use teloxide_core::net::Download;
        use teloxide_core::prelude::Requester;
        let file = match self
            .bot
            .get_file(teloxide_core::types::FileId(file_id.to_owned()))
            .await
        {
            Ok(file) => file,
            Err(e) if e.to_string().contains("file is too big") => {
                return Ok(BotFile::TooLarge { size: 0 });
            }
            Err(e) => return Err(send_error(e)),
        };
        let declared = u64::from(file.size);
        if declared > cap {
            return Ok(BotFile::TooLarge { size: declared });
        }
        let mut sink = Capped {
            bytes: Vec::with_capacity(declared as usize),
            cap,
            over: false,
        };
        let done = self.bot.download_file(&file.path, &mut sink).await;
        if sink.over {
            return Ok(BotFile::TooLarge {
                size: (sink.bytes.len() as u64 + 1).max(declared),
            });
        }
        done.map_err(|e| SendError::Transient(format!("downloading a file: {e}")))?;
        Ok(BotFile::Bytes(sink.bytes))
    }
}

/// Collects bytes and fails the download once more than `cap` arrive.
struct Capped {
    bytes: Vec<u8>,
    cap: u64,
    over: bool,
}

impl AsyncWrite for Capped {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        if (self.bytes.len() + buf.len()) as u64 > self.cap {
            self.over = true;
            return Poll::Ready(Err(std::io::Error::other("over the cap")));
        }
        self.bytes.extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
