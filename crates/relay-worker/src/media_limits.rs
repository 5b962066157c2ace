//! How large a file may be: what each destination kind accepts, what each source lets
//! Relay fetch, and Relay's own cap (files are held in memory and stored in PostgreSQL while
//! their deliveries run). A file over a limit is not sent; the message says so instead
//! ([`notice`]), with a link to the original where there is one.

use crate::media_http::AllowedHosts;
use relay_core::AccountKind;
use relay_core::messages::MediaSource;
use relay_store::media::NoticeReason;

const MIB: u64 = 1024 * 1024;

/// The largest file Relay fetches and stores.
pub const RELAY_MAX_BYTES: u64 = 50 * MIB;
/// Discord's upload limit for bots and webhooks in a server without boosts.
pub const DISCORD_UPLOAD_BYTES: u64 = 10 * MIB;
/// What a Telegram bot may upload.
pub const TELEGRAM_BOT_UPLOAD_BYTES: u64 = 50 * MIB;
/// What a Telegram user may upload (Premium allows more).
pub const TELEGRAM_USER_UPLOAD_BYTES: u64 = 2048 * MIB;
/// What a Telegram bot may download (getFile).
pub const TELEGRAM_BOT_DOWNLOAD_BYTES: u64 = 20 * MIB;

/// The largest file a destination of this kind takes from Relay.
pub fn destination_limit(kind: AccountKind) -> u64 {
    let platform = match kind {
        AccountKind::DiscordBot | AccountKind::DiscordWebhook => DISCORD_UPLOAD_BYTES,
        AccountKind::TelegramBot => TELEGRAM_BOT_UPLOAD_BYTES,
        AccountKind::TelegramUser => TELEGRAM_USER_UPLOAD_BYTES,
    };
    platform.min(RELAY_MAX_BYTES)
}

/// The most Relay reads of a file from this source.
pub fn source_cap(source: &MediaSource) -> u64 {
    match source {
        MediaSource::TelegramBotFile { .. } => TELEGRAM_BOT_DOWNLOAD_BYTES.min(RELAY_MAX_BYTES),
        _ => RELAY_MAX_BYTES,
    }
}

/// Why a file is not carried, with the limit it is over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub reason: NoticeReason,
    /// 0 when unknown.
    pub size: u64,
    /// 0 for an unavailable file.
    pub limit: u64,
    /// For an unavailable file: why (logged, not shown).
    pub why: String,
}

impl Refusal {
    /// Over the limit it names: the destination's when the file is over that, else the
    /// source's (the smaller of the two is what it was refused for).
    pub fn too_large(size: u64, destination: u64, source: u64) -> Self {
        let (reason, limit) = if size > destination {
            (NoticeReason::DestinationLimit, destination)
        } else {
            (NoticeReason::SourceLimit, source)
        };
        Refusal {
            reason,
            size,
            limit,
            why: String::new(),
        }
    }

    /// The same refusal, named for the plan's limit when that (not the destination's) is
    /// what the file is over.
    pub fn for_plan(mut self, plan: u64, destination: u64) -> Self {
        if self.reason == NoticeReason::DestinationLimit && plan < destination {
            self.reason = NoticeReason::PlanLimit;
            self.limit = plan;
        }
        self
    }

    pub fn unavailable(size: u64, why: impl Into<String>) -> Self {
        Refusal {
            reason: NoticeReason::Unavailable,
            size,
            limit: 0,
            why: why.into(),
        }
    }
}

/// Where the original can be seen: the file's own address on the platform's file host
/// (Discord's CDN), or the post in a Telegram channel or supergroup (`https://t.me/c/…`,
/// for its members).
pub fn original_link(
    source: &MediaSource,
    chat_id: &str,
    message_id: &str,
    hosts: &AllowedHosts,
) -> Option<String> {
    match source {
        MediaSource::Url { url } => reqwest::Url::parse(url)
            .ok()
            .filter(|u| hosts.allows(u))
            .map(|_| url.clone()),
        MediaSource::TelegramBotFile { .. } | MediaSource::TelegramUserMessage { .. } => {
            let bare = chat_id.strip_prefix("-100")?;
            let valid = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
            (valid(bare) && valid(message_id))
                .then(|| format!("https://t.me/c/{bare}/{message_id}"))
        }
        _ => None,
    }
}

/// The line a message carries in place of a file.
pub fn notice(
    filename: &str,
    refusal: &Refusal,
    source: &MediaSource,
    link: Option<&str>,
) -> String {
    let size = match refusal.size {
        0 => String::new(),
        n => format!(" ({})", megabytes(n)),
    };
    let mut line = match refusal.reason {
        NoticeReason::DestinationLimit => format!(
            "📎 {filename}{size} is too large to forward here (the limit is {})",
            megabytes(refusal.limit)
        ),
        NoticeReason::SourceLimit => format!(
            "📎 {filename}{size} is too large to forward ({} can fetch files up to {})",
            fetcher(source),
            megabytes(refusal.limit)
        ),
        NoticeReason::PlanLimit => format!(
            "📎 {filename}{size} is over this plan's file size limit of {}: a larger plan carries it",
            megabytes(refusal.limit)
        ),
        NoticeReason::Unavailable => {
            format!("📎 {filename}{size} could not be forwarded: the source no longer has it")
        }
    };
    if let Some(link) = link {
        line.push_str(": ");
        line.push_str(link);
    }
    line
}

fn fetcher(source: &MediaSource) -> &'static str {
    match source {
        MediaSource::TelegramBotFile { .. } => "Telegram bots",
        _ => "Relay",
    }
}

/// Sizes as people read them: one decimal, in MB of 1,048,576 bytes (as Discord and
/// Telegram state their limits).
pub fn megabytes(bytes: u64) -> String {
    if bytes < MIB {
        return format!("{:.1} KB", bytes as f64 / 1024.0);
    }
    format!("{:.1} MB", bytes as f64 / MIB as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_destination_kind_has_its_platforms_limit_within_relays_cap() {
        assert_eq!(destination_limit(AccountKind::DiscordBot), 10 * MIB);
        assert_eq!(destination_limit(AccountKind::DiscordWebhook), 10 * MIB);
        assert_eq!(destination_limit(AccountKind::TelegramBot), 50 * MIB);
        assert_eq!(
            destination_limit(AccountKind::TelegramUser),
            RELAY_MAX_BYTES
        );
        let bot_file = MediaSource::TelegramBotFile {
            account: None,
            file_id: "x".into(),
        };
        assert_eq!(source_cap(&bot_file), 20 * MIB);
        let url = MediaSource::Url {
            url: "https://cdn.discordapp.com/a".into(),
        };
        assert_eq!(source_cap(&url), RELAY_MAX_BYTES);
    }

    #[test]
    fn a_notice_names_the_file_its_size_the_limit_and_the_original() {
        let url = MediaSource::Url {
            url: "https://cdn.discordapp.com/attachments/1/2/report.pdf".into(),
        };
        let refusal = Refusal::too_large(60 * MIB, 10 * MIB, 50 * MIB);
        assert_eq!(refusal.reason, NoticeReason::DestinationLimit);
        let hosts = AllowedHosts::new("https://discord.com");
        let link = original_link(&url, "123", "456", &hosts);
        assert_eq!(
            notice("report.pdf", &refusal, &url, link.as_deref()),
            "📎 report.pdf (60.0 MB) is too large to forward here (the limit is 10.0 MB): \
             https://cdn.discordapp.com/attachments/1/2/report.pdf"
        );
        let bot_file = MediaSource::TelegramBotFile {
            account: None,
            file_id: "x".into(),
        };
        let refusal = Refusal::too_large(25 * MIB, 50 * MIB, 20 * MIB);
        assert_eq!(refusal.reason, NoticeReason::SourceLimit);
        assert_eq!(
            notice(
                "clip.mp4",
                &refusal,
                &bot_file,
                original_link(&bot_file, "-1001234", "56", &hosts).as_deref()
            ),
            "📎 clip.mp4 (25.0 MB) is too large to forward (Telegram bots can fetch files up to \
             20.0 MB): https://t.me/c/1234/56"
        );
        assert_eq!(
            notice("a.png", &Refusal::unavailable(0, "gone"), &url, None),
            "📎 a.png could not be forwarded: the source no longer has it"
        );
    }

    #[test]
    fn only_channels_and_supergroups_and_the_platforms_files_have_links() {
        let hosts = AllowedHosts::new("https://discord.com");
        let user = MediaSource::TelegramUserMessage {
            account: None,
            chat_id: 42,
            message_id: 7,
        };
        assert_eq!(
            original_link(&user, "42", "7", &hosts),
            None,
            "a private chat"
        );
        assert_eq!(
            original_link(&user, "-42", "7", &hosts),
            None,
            "a small group"
        );
        assert_eq!(original_link(&user, "-100", "7", &hosts), None);
        assert_eq!(original_link(&user, "-1001x", "7", &hosts), None);
        let http = MediaSource::Url {
            url: "http://cdn.discordapp.com/a".into(),
        };
        assert_eq!(original_link(&http, "1", "2", &hosts), None);
        let elsewhere = MediaSource::Url {
            url: "https://evil.example/a".into(),
        };
        assert_eq!(original_link(&elsewhere, "1", "2", &hosts), None);
        assert_eq!(megabytes(1536), "1.5 KB");
        assert_eq!(megabytes(10 * MIB + MIB / 2), "10.5 MB");
    }
}
