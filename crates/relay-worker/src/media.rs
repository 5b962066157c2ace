//! Files of a source message, fetched for the destination: over HTTP(S) (Discord's CDN),
//! through the Telegram bot that received them (`tg-bot-file:{account}:{file id}`), or
//! carried inline as a `data:` URL (small media a Telegram user session downloaded when
//! the message arrived).

use crate::accounts::AccountHub;
use base64::Engine;
use relay_core::messages::{MediaRef, OutgoingFile, SendError};
use relay_core::{AccountId, UserId};

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
    let bytes = if let Some(data) = media.url.strip_prefix("data:") {
        let (_, encoded) = data
            .split_once(";base64,")
            .ok_or_else(|| rejected(media, "an inline file that is not base64"))?;
        base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|_| rejected(media, "an inline file that is not valid base64"))?
    } else if media.url.starts_with("https://") || media.url.starts_with("http://") {
        let response = http
            .get(&media.url)
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
        bytes.to_vec()
    } else if let Some(reference) = media.url.strip_prefix("tg-bot-file:") {
        let (account, file_id) = reference
            .split_once(':')
            .ok_or_else(|| rejected(media, "a malformed Telegram file reference"))?;
        let account: AccountId = account
            .parse()
            .map_err(|_| rejected(media, "a malformed Telegram file reference"))?;
        let bot = hub
            .telegram_bot_of(owner, account)
            .await
            .map_err(|e| SendError::Transient(format!("the source bot: {e}")))?;
        bot.download(file_id, MAX_FILE_BYTES).await?
    } else {
        return Err(rejected(
            media,
            "a file this source cannot hand over (too large to carry from a Telegram user session)",
        ));
    };
    Ok(OutgoingFile {
        filename: media.filename.clone(),
        bytes,
    })
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
