//! Fetching one file from its source, for the delivery (or the session's worker) that holds
//! its claim in the media store: over HTTP(S) from the platform's hosts, through the
//! Telegram bot that received it, or through the Telegram user session that reads its
//! message. Whatever the source account's trouble (a FLOOD_WAIT, a revoked token), it is
//! reported as the file's, never as the sending account's.

use crate::accounts::{AccountError, AccountHub, AnySink};
use crate::media_http::{self, AllowedHosts, Downloaded};
use relay_core::messages::{LimitScope, MediaSource, SendError};
use relay_core::{AccountId, UserId};
use relay_telegram::BotFile;
use relay_telegram::user::MessageFile;

/// What fetching came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Fetched {
    Bytes(Vec<u8>),
    /// Over the cap: at least `size` bytes (0 when unknown).
    TooLarge {
        size: u64,
    },
    /// The source cannot give it (why).
    Unavailable(String),
}

/// Whether this worker can fetch the file: `Ok(false)` when only another worker can (it
/// drives the Telegram user session); an error when nobody can.
pub async fn can_fetch(
    hub: &AccountHub,
    owner: UserId,
    source: &MediaSource,
) -> Result<bool, SourceTrouble> {
    match source {
        MediaSource::TelegramUserMessage {
            account: Some(account),
            ..
        } => match hub.sink_of(owner, *account).await {
            Ok(_) => Ok(true),
            Err(AccountError::NotDriven) => Ok(false),
            Err(e) => Err(account_trouble(e)),
        },
        _ => Ok(true),
    }
}

/// The source account cannot be used.
#[derive(Debug)]
pub enum SourceTrouble {
    /// For good: the file is unavailable.
    Unusable(String),
    /// For now.
    Error(SendError),
}

fn account_trouble(e: AccountError) -> SourceTrouble {
    match e {
        AccountError::Gone | AccountError::Unusable(_) => {
            SourceTrouble::Unusable(format!("the source account: {e}"))
        }
        AccountError::NotDriven | AccountError::Store(_) => {
            SourceTrouble::Error(SendError::Transient(format!("the source account: {e}")))
        }
    }
}

/// Fetches the file, reading at most `cap` bytes.
pub async fn fetch(
    http: &reqwest::Client,
    hosts: &AllowedHosts,
    hub: &AccountHub,
    owner: UserId,
    source: &MediaSource,
    cap: u64,
) -> Result<Fetched, SendError> {
    match source {
        MediaSource::Url { url } => Ok(match media_http::download(http, hosts, url, cap).await? {
            Downloaded::Bytes(bytes) => Fetched::Bytes(bytes),
            Downloaded::TooLarge { size } => Fetched::TooLarge { size },
            Downloaded::Unavailable(why) => Fetched::Unavailable(why),
        }),
        MediaSource::TelegramBotFile {
            account: Some(account),
            file_id,
        } => {
            let bot = match hub.telegram_bot_of(owner, *account).await {
                Ok(bot) => bot,
                Err(e) => return trouble(account_trouble(e)),
            };
            match bot.file(file_id, cap).await {
                Ok(BotFile::Bytes(bytes)) => Ok(Fetched::Bytes(bytes)),
                Ok(BotFile::TooLarge { size }) => Ok(Fetched::TooLarge { size }),
                Err(e) => source_error(e),
            }
        }
        MediaSource::TelegramUserMessage {
            account: Some(account),
            chat_id,
            message_id,
        } => {
            let sink = match session(hub, owner, *account).await {
                Ok(sink) => sink,
                Err(e) => return trouble(e),
            };
            match sink.message_file(*chat_id, *message_id, cap).await {
                Ok(MessageFile::Bytes(bytes)) => Ok(Fetched::Bytes(bytes)),
                Ok(MessageFile::TooLarge { size }) => Ok(Fetched::TooLarge { size }),
                Err(e) => source_error(e),
            }
        }
        MediaSource::TelegramBotFile { account: None, .. }
        | MediaSource::TelegramUserMessage { account: None, .. }
        | MediaSource::Inline { .. } => Ok(Fetched::Unavailable(
            "a file reference that names no account".into(),
        )),
    }
}

async fn session(
    hub: &AccountHub,
    owner: UserId,
    account: AccountId,
) -> Result<relay_telegram::user::UserSink, SourceTrouble> {
    match hub.sink_of(owner, account).await {
        Ok(AnySink::TelegramUser(sink)) => Ok(sink),
        Ok(_) => Err(SourceTrouble::Unusable(
            "the source account is not a Telegram user session".into(),
        )),
        Err(e) => Err(account_trouble(e)),
    }
}

fn trouble(t: SourceTrouble) -> Result<Fetched, SendError> {
    match t {
        SourceTrouble::Unusable(why) => Ok(Fetched::Unavailable(why)),
        SourceTrouble::Error(e) => Err(e),
    }
}

/// The source's refusal in terms of the delivery: a wait is the file's (not the sending
/// account's), anything final makes the file unavailable.
fn source_error(e: SendError) -> Result<Fetched, SendError> {
    match e {
        SendError::RateLimited { retry_after, .. } => Err(SendError::RateLimited {
            retry_after,
            scope: LimitScope::Route,
        }),
        SendError::Transient(why) | SendError::Ambiguous(why) => {
            Err(SendError::Transient(format!("fetching a file: {why}")))
        }
        SendError::NotFound(why) | SendError::Unauthorized(why) => Ok(Fetched::Unavailable(why)),
        SendError::Rejected { message, .. } => Ok(Fetched::Unavailable(message)),
    }
}
