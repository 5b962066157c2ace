//! Files of a source message, fetched for the destination by their [`MediaSource`]: over
//! HTTP(S) (Discord's CDN), through the Telegram bot that received them, or carried inline
//! (small media a Telegram user session downloaded when the message arrived).

use crate::accounts::AccountHub;
use base64::Engine;
use relay_core::UserId;
use relay_core::messages::{MediaRef, MediaSource, OutgoingFile, SendError};

/// Larger files are refused rather than half-sent (Telegram bots upload up to 50 MB).
pub const MAX_FILE_BYTES: u64 = 50 * 1024 * 1024;

pub async fn fetch(
    http: &reqwest::Client,
    hub: &AccountHub,
    owner: UserId,
    media: &MediaRef,
) -> Result<OutgoingFile, SendError> {
    if media.size > MAX_FILE_BYTES {
        return Err(too_big(media));
    }
    let bytes = match &media.source {
        MediaSource::Inline { base64, .. } => base64::engine::general_purpose::STANDARD
            .decode(base64)
            .map_err(|_| rejected(media, "an inline file that is not valid base64"))?,
        MediaSource::Url { url } if url.starts_with("https://") || url.starts_with("http://") => {
            download(http, media, url).await?
        }
        MediaSource::TelegramBotFile {
            account: Some(account),
            file_id,
        } => {
            let bot = hub
                .telegram_bot_of(owner, *account)
                .await
                .map_err(|e| SendError::Transient(format!("the source bot: {e}")))?;
            bot.download(file_id, MAX_FILE_BYTES).await?
        }
        MediaSource::TelegramBotFile { account: None, .. } => {
            return Err(rejected(media, "a malformed Telegram file reference"));
        }
        MediaSource::Url { .. } | MediaSource::TelegramUserMessage { .. } => {
            return Err(rejected(
                media,
                "a file this source cannot hand over (too large to carry from a Telegram user session)",
            ));
        }
    };
    Ok(OutgoingFile {
        filename: media.filename.clone(),
        bytes,
    })
}

async fn download(
    http: &reqwest::Client,
    media: &MediaRef,
    url: &str,
) -> Result<Vec<u8>, SendError> {
    let response = http
        .get(url)
        .send()
        .await
        .map_err(|e| SendError::Transient(format!("fetching {}: {e}", media.filename)))?;
    let status = response.status();
    if status.as_u16() == 404 || status.as_u16() == 403 {
        return Err(SendError::NotFound(format!(
            "the source file {} is gone ({status})",
            media.filename
        )));
    }
    if !status.is_success() {
        return Err(SendError::Transient(format!(
            "fetching {}: {status}",
            media.filename
        )));
    }
    if response.content_length().unwrap_or_default() > MAX_FILE_BYTES {
        return Err(too_big(media));
    }
    let bytes = response
        .bytes()
        .await
        .map_err(|e| SendError::Transient(format!("fetching {}: {e}", media.filename)))?;
    Ok(bytes.to_vec())
}

fn too_big(media: &MediaRef) -> SendError {
    SendError::Rejected {
        code: "file_too_large".into(),
        message: format!(
            "{} is {} bytes; Relay forwards files up to {MAX_FILE_BYTES} bytes",
            media.filename, media.size
        ),
    }
}

fn rejected(media: &MediaRef, what: &str) -> SendError {
    SendError::Rejected {
        code: "media".into(),
        message: format!("{}: {what}", media.filename),
    }
}
