//! Where a forwarded file comes from, as a typed value rather than a URL-like string: the
//! source adapter sets it, the router names the account a bot file belongs to, and the
//! worker fetches by it. Outbox rows stored before it existed carry the old strings
//! (`tg-bot-file:…`, `tg-user-media:…`, `data:…`); they are read back with [`legacy`].
//! [`MediaSource::identity`] names the file itself, so that the deliveries of one message
//! share one fetched copy.

use crate::AccountId;
use serde::{Deserialize, Deserializer, Serialize};

/// Where a file is fetched from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MediaSource {
    /// Over HTTP(S) (Discord's CDN).
    Url { url: String },
    /// Through the Telegram bot that received it; the router fills in `account`.
    TelegramBotFile {
        #[serde(default)]
        account: Option<AccountId>,
        file_id: String,
    },
    /// A Telegram user session's message (`chat_id` a Bot API dialog id), fetched through
    /// that session; the router fills in `account` (rows stored before carry none).
    TelegramUserMessage {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        account: Option<AccountId>,
        chat_id: i64,
        message_id: i32,
    },
    /// Carried with the message itself (rows stored before files were fetched by the
    /// worker: small media a user session downloaded at once).
    Inline { mime: String, base64: String },
}

impl MediaSource {
    /// What names the file, the same for every delivery of the message: `None` for a file
    /// carried inline (nothing to fetch) and for a reference that names no account.
    pub fn identity(&self) -> Option<String> {
        match self {
            MediaSource::Url { url } => Some(format!("url:{url}")),
            MediaSource::TelegramBotFile {
                account: Some(account),
                file_id,
            } => Some(format!("telegram-bot:{account}:{file_id}")),
            MediaSource::TelegramUserMessage {
                account: Some(account),
                chat_id,
                message_id,
            } => Some(format!("telegram-user:{account}:{chat_id}:{message_id}")),
            MediaSource::TelegramBotFile { account: None, .. }
            | MediaSource::TelegramUserMessage { account: None, .. }
            | MediaSource::Inline { .. } => None,
        }
    }

    /// The source account a file is fetched through (the router fills it in for the
    /// Telegram kinds, whose files only that account can read).
    pub fn set_account(&mut self, source_account: AccountId) {
        match self {
            MediaSource::TelegramBotFile { account, .. }
            | MediaSource::TelegramUserMessage { account, .. } => *account = Some(source_account),
            MediaSource::Url { .. } | MediaSource::Inline { .. } => {}
        }
    }
}

/// A source as the old string protocol wrote it. A string that is none of the known forms
/// (or a malformed one) stays a [`MediaSource::Url`], which the worker fetches only over
/// HTTP(S) and refuses otherwise, as it refused such strings before.
pub fn legacy(reference: &str) -> MediaSource {
    if let Some(rest) = reference.strip_prefix("tg-bot-file:") {
        // `{account}:{file id}` once routed, `{file id}` as the listener reported it.
        return match rest.split_once(':') {
            Some((account, file_id)) => match account.parse() {
                Ok(account) => MediaSource::TelegramBotFile {
                    account: Some(account),
                    file_id: file_id.to_owned(),
                },
                Err(_) => url(reference),
            },
            None => MediaSource::TelegramBotFile {
                account: None,
                file_id: rest.to_owned(),
            },
        };
    }
    if let Some(rest) = reference.strip_prefix("tg-user-media:")
        && let Some((chat, message)) = rest.split_once('/')
        && let (Ok(chat_id), Ok(message_id)) = (chat.parse(), message.parse())
    {
        return MediaSource::TelegramUserMessage {
            account: None,
            chat_id,
            message_id,
        };
    }
    if let Some(rest) = reference.strip_prefix("data:")
        && let Some((mime, base64)) = rest.split_once(";base64,")
    {
        return MediaSource::Inline {
            mime: mime.to_owned(),
            base64: base64.to_owned(),
        };
    }
    url(reference)
}

fn url(reference: &str) -> MediaSource {
    MediaSource::Url {
        url: reference.to_owned(),
    }
}

/// Reads a source in either form: the tagged object, or an old string (see [`legacy`]).
pub fn deserialize_source<'de, D: Deserializer<'de>>(d: D) -> Result<MediaSource, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        Tagged(MediaSource),
        Legacy(String),
    }
    Ok(match Either::deserialize(d)? {
        Either::Tagged(source) => source,
        Either::Legacy(reference) => legacy(&reference),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::MediaRef;
    use serde_json::json;

    const ACCOUNT: &str = "6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f";

    #[test]
    fn old_strings_become_typed_sources() {
        let account: AccountId = ACCOUNT.parse().expect("uuid");
        assert_eq!(
            legacy(&format!("tg-bot-file:{ACCOUNT}:AgAD-x_1")),
            MediaSource::TelegramBotFile {
                account: Some(account),
                file_id: "AgAD-x_1".into()
            }
        );
        assert_eq!(
            legacy("tg-bot-file:AgAD"),
            MediaSource::TelegramBotFile {
                account: None,
                file_id: "AgAD".into()
            }
        );
        assert_eq!(
            legacy("tg-user-media:-1001234/56"),
            MediaSource::TelegramUserMessage {
                account: None,
                chat_id: -1001234,
                message_id: 56
            }
        );
        assert_eq!(
            legacy("data:image/png;base64,AAEC"),
            MediaSource::Inline {
                mime: "image/png".into(),
                base64: "AAEC".into()
            }
        );
        assert_eq!(
            legacy("https://cdn.example/a.png"),
            MediaSource::Url {
                url: "https://cdn.example/a.png".into()
            }
        );
    }

    #[test]
    fn a_file_is_named_by_its_source_and_account() {
        let account: AccountId = ACCOUNT.parse().expect("uuid");
        let mut user = legacy("tg-user-media:-1001234/56");
        assert_eq!(user.identity(), None, "no account: nothing can fetch it");
        user.set_account(account);
        assert_eq!(
            user.identity().as_deref(),
            Some(format!("telegram-user:{ACCOUNT}:-1001234:56").as_str())
        );
        let mut bot = legacy("tg-bot-file:AgAD");
        bot.set_account(account);
        assert_eq!(bot.identity(), Some(format!("telegram-bot:{ACCOUNT}:AgAD")));
        let mut url = legacy("https://cdn.example/a.png");
        url.set_account(account);
        assert_eq!(url, legacy("https://cdn.example/a.png"));
        assert_eq!(
            url.identity().as_deref(),
            Some("url:https://cdn.example/a.png")
        );
        assert_eq!(legacy("data:image/png;base64,AAEC").identity(), None);
        let other_message = MediaSource::TelegramUserMessage {
            account: Some(account),
            chat_id: -1001234,
            message_id: 57,
        };
        assert_ne!(other_message.identity(), user.identity());
    }

    #[test]
    fn malformed_old_strings_stay_urls_the_worker_refuses() {
        for odd in [
            "tg-bot-file:not-a-uuid:AgAD",
            "tg-user-media:/56",
            "data:image/png,AAEC",
        ] {
            assert_eq!(legacy(odd), url(odd), "{odd}");
        }
    }

    #[test]
    fn an_old_payload_still_deserializes() {
        let old = json!({
            "filename": "photo.jpg",
            "url": format!("tg-bot-file:{ACCOUNT}:AgAD"),
            "size": 12,
            "content_type": null,
        });
        let media: MediaRef = serde_json::from_value(old).expect("old form");
        assert_eq!(
            media.source,
            MediaSource::TelegramBotFile {
                account: Some(ACCOUNT.parse().expect("uuid")),
                file_id: "AgAD".into()
            }
        );
        assert_eq!(media.filename, "photo.jpg");
        assert_eq!(media.size, 12);
    }

    #[test]
    fn an_old_delivery_payload_row_still_deserializes() {
        let row = json!({
            "text": "look",
            "media": [
                {"filename": "a.png", "url": "data:image/png;base64,AAEC", "size": 3,
                 "content_type": "image/png"},
                {"filename": "b.bin", "url": "tg-user-media:42/7", "size": 99999999,
                 "content_type": null},
                {"filename": "c.png", "url": "https://cdn.example/c.png", "size": 1,
                 "content_type": null},
            ],
        });
        let payload: crate::messages::DeliveryPayload =
            serde_json::from_value(row).expect("old row");
        let sources: Vec<_> = payload.media.into_iter().map(|m| m.source).collect();
        assert_eq!(
            sources,
            [
                MediaSource::Inline {
                    mime: "image/png".into(),
                    base64: "AAEC".into()
                },
                MediaSource::TelegramUserMessage {
                    account: None,
                    chat_id: 42,
                    message_id: 7
                },
                url("https://cdn.example/c.png"),
            ]
        );
    }

    #[test]
    fn new_payloads_are_tagged_and_round_trip() {
        let media = MediaRef {
            filename: "a.png".into(),
            source: MediaSource::Inline {
                mime: "image/png".into(),
                base64: "AAEC".into(),
            },
            size: 3,
            content_type: Some("image/png".into()),
        };
        let value = serde_json::to_value(&media).expect("serialize");
        assert_eq!(
            value["source"],
            json!({"kind": "inline", "mime": "image/png", "base64": "AAEC"})
        );
        assert!(value.get("url").is_none());
        let back: MediaRef = serde_json::from_value(value).expect("deserialize");
        assert_eq!(back, media);

        let bot = MediaSource::TelegramBotFile {
            account: None,
            file_id: "AgAD".into(),
        };
        let user = MediaSource::TelegramUserMessage {
            account: Some(ACCOUNT.parse().expect("uuid")),
            chat_id: -1001234,
            message_id: 56,
        };
        let value = serde_json::to_value(&user).expect("serialize");
        assert_eq!(value["kind"], "telegram_user_message");
        assert_eq!(value["account"], ACCOUNT);
        assert_eq!(
            serde_json::from_value::<MediaSource>(value).expect("back"),
            user
        );
        let value = serde_json::to_value(&bot).expect("serialize");
        assert_eq!(value["kind"], "telegram_bot_file");
        assert_eq!(
            serde_json::from_value::<MediaSource>(value).expect("back"),
            bot
        );
    }
}
