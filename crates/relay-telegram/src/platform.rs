//! What Relay knows of Telegram's ids and tokens when a user types them (a pair's chat, a
//! bot's token), and which Telegram accounts can read and send: pure checks, no I/O. The
//! error texts complete a field's name in the API's 422s ("source.chat_id is not…").

use relay_core::AccountKind;

/// A chat id in its canonical text form: the Bot API's dialog id, a nonzero integer (a
/// user's id, minus a small group's id, `-100…` for a channel or supergroup) of at most 21
/// characters as typed; `+5` and `05` become `5`. One topic of a forum is named by the
/// forum's id, `/` and the topic's id (the id of the message that opened it):
/// `-1001234567890/42`; the forum's plain id still means the whole forum.
pub fn chat_id(text: &str) -> Result<String, &'static str> {
    if let Some((chat, topic)) = text.split_once('/') {
        let chat = chat_id(chat).map_err(|_| TOPIC_FORM)?;
        return match topic.parse::<i32>() {
            Ok(t) if t > 0 && topic.len() <= 10 && is_channel_chat(&chat) => {
                Ok(format!("{chat}/{t}"))
            }
            _ => Err(TOPIC_FORM),
        };
    }
    match text.parse::<i64>() {
        Ok(id) if id != 0 && text.len() <= 21 => Ok(id.to_string()),
        _ => Err("is not a Telegram chat id (a nonzero integer such as -1001234567890)"),
    }
}

const TOPIC_FORM: &str = "is not a Telegram forum topic (the forum's id, '/' and the topic's id, such as -1001234567890/42)";

/// A chat id split into the chat (Bot API dialog id) and the forum topic it names, if any.
pub fn split_topic(chat_id: &str) -> (&str, Option<i32>) {
    match chat_id.split_once('/') {
        Some((chat, topic)) => (chat, topic.parse().ok().filter(|t: &i32| *t > 0)),
        None => (chat_id, None),
    }
}

/// The chat id naming topic `topic` of the forum `chat` (a Bot API dialog id).
pub fn topic_chat_id(chat: i64, topic: i32) -> String {
    format!("{chat}/{topic}")
}

/// The chat id (Bot API form, as pairs name chats) of a channel or supergroup by its bare
/// MTProto id: `-100` followed by the id.
pub fn channel_chat_id(bare_id: i64) -> String {
    (-1_000_000_000_000 - bare_id).to_string()
}

/// A link to a message of a channel or supergroup: `https://t.me/<username>/<id>` for a
/// public one, `https://t.me/c/<bare id>/<id>` (members only) otherwise; none for private
/// chats and basic groups, whose messages have no link.
pub fn message_link(chat_id: i64, username: Option<&str>, message_id: i64) -> Option<String> {
    if chat_id > -1_000_000_000_000 {
        return None;
    }
    Some(match username.filter(|u| !u.is_empty()) {
        Some(username) => format!("https://t.me/{username}/{message_id}"),
        None => format!(
            "https://t.me/c/{}/{message_id}",
            -1_000_000_000_000 - chat_id
        ),
    })
}

/// Whether a chat id (Bot API form, as pairs name chats, a topic suffix allowed) names a
/// channel or supergroup: `-100` and the bare id, at most -10^12. Basic groups are above
/// that (`-4012345678`), even when their digits start with 100 (`-1003`).
pub fn is_channel_chat(chat_id: &str) -> bool {
    let id = chat_id.split_once('/').map_or(chat_id, |(id, _)| id);
    id.parse::<i64>().is_ok_and(|id| id <= -1_000_000_000_000)
}

/// Checks that a string looks like a Bot API token, `{bot id}:{secret}` (whether Telegram
/// knows it is for `getMe` to say).
pub fn check_bot_token(token: &str) -> Result<(), &'static str> {
    let plausible = match token.split_once(':') {
        Some((id, secret)) => {
            !id.is_empty()
                && id.bytes().all(|b| b.is_ascii_digit())
                && (1..=100).contains(&secret.len())
                && secret
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        }
        None => false,
    };
    if plausible {
        Ok(())
    } else {
        Err("is not a Telegram bot token (it looks like 123456:ABC-DEF…)")
    }
}

/// Whether an account of `kind` can be a pair's source: every Telegram account (a user
/// session or a bot) reads the chats it is in. `false` for other platforms' kinds.
pub fn can_read(kind: AccountKind) -> bool {
    matches!(kind, AccountKind::TelegramUser | AccountKind::TelegramBot)
}

/// Whether a destination on an account of `kind` names its chat: every Telegram account
/// sends to the chat it is told. `false` for other platforms' kinds.
pub fn names_chat(kind: AccountKind) -> bool {
    matches!(kind, AccountKind::TelegramUser | AccountKind::TelegramBot)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_and_supergroup_messages_have_links_other_chats_none() {
        assert_eq!(
            message_link(-1001234567890, Some("news"), 7).as_deref(),
            Some("https://t.me/news/7")
        );
        assert_eq!(
            message_link(-1001234567890, None, 7).as_deref(),
            Some("https://t.me/c/1234567890/7")
        );
        assert_eq!(
            message_link(-4012345678, Some("group"), 7),
            None,
            "a basic group"
        );
        assert_eq!(message_link(42, None, 7), None, "a private chat");
    }

    #[test]
    fn a_channels_chat_id_is_minus_100_then_its_bare_id() {
        assert_eq!(channel_chat_id(1234567890), "-1001234567890");
        assert_eq!(channel_chat_id(7), "-1000000000007");
    }

    #[test]
    fn channels_are_told_from_basic_groups_by_value_not_by_prefix() {
        for channel in ["-1001234567890", "-1000000000007", "-1000000000007/42"] {
            assert!(is_channel_chat(channel), "{channel}");
        }
        for other in ["-1003", "-100", "-4012345678", "1003", "-999999999999", "x"] {
            assert!(!is_channel_chat(other), "{other}");
        }
    }

    #[test]
    fn chat_ids_are_nonzero_integers_in_canonical_form() {
        for (typed, canonical) in [
            ("-1001234567890", "-1001234567890"),
            ("-4012345678", "-4012345678"),
            ("123456789", "123456789"),
            ("+5", "5"),
            ("0005", "5"),
            ("-9223372036854775808", "-9223372036854775808"),
        ] {
            assert_eq!(chat_id(typed).as_deref(), Ok(canonical), "{typed}");
        }
        for wrong in [
            "",
            "0",
            "-0",
            "abc",
            "-100abc",
            "1.5",
            " 5",
            "9223372036854775808",
            "-00000000000000000000005",
        ] {
            assert_eq!(
                chat_id(wrong),
                Err("is not a Telegram chat id (a nonzero integer such as -1001234567890)"),
                "{wrong:?}"
            );
        }
    }

    #[test]
    fn a_forum_topic_is_the_forums_id_a_slash_and_the_topic() {
        assert_eq!(
            chat_id("-1001234567890/42").as_deref(),
            Ok("-1001234567890/42")
        );
        assert_eq!(
            chat_id("-1001234567890/+042").as_deref(),
            Ok("-1001234567890/42")
        );
        for wrong in [
            "-1001234567890/",
            "-1001234567890/0",
            "-1001234567890/-3",
            "-1001234567890/abc",
            "-1001234567890/4/2",
            "/42",
            "-4012345678/42",
            "12345/42",
            "-1001234567890/99999999999",
        ] {
            assert_eq!(chat_id(wrong), Err(TOPIC_FORM), "{wrong:?}");
        }
        assert_eq!(
            split_topic("-1001234567890/42"),
            ("-1001234567890", Some(42))
        );
        assert_eq!(split_topic("-1001234567890"), ("-1001234567890", None));
        assert_eq!(topic_chat_id(-1001234567890, 7), "-1001234567890/7");
    }

    proptest::proptest! {
        /// Whatever is typed: no panic, and an accepted id is canonical (accepted again as
        /// itself) and splits back into a chat id and its topic.
        #[test]
        fn accepted_ids_are_canonical(text in "[-+/0-9a]{0,30}") {
            if let Ok(canonical) = chat_id(&text) {
                proptest::prop_assert_eq!(chat_id(&canonical), Ok(canonical.clone()));
                let (chat, topic) = split_topic(&canonical);
                proptest::prop_assert!(chat.parse::<i64>().is_ok());
                proptest::prop_assert_eq!(topic.is_some(), canonical.contains('/'));
            }
        }

        #[test]
        fn every_forum_topic_round_trips(bare in 1i64..1_000_000_000_000, topic in 1i32..) {
            let id = topic_chat_id(-1_000_000_000_000 - bare, topic);
            proptest::prop_assert_eq!(chat_id(&id), Ok(id.clone()));
            proptest::prop_assert_eq!(split_topic(&id).1, Some(topic));
            proptest::prop_assert!(is_channel_chat(&id));
        }
    }

    #[test]
    fn bot_tokens_are_a_numeric_id_and_a_secret() {
        assert_eq!(check_bot_token("123456:ABC-DEF_ghi"), Ok(()));
        assert_eq!(check_bot_token(&format!("1:{}", "a".repeat(100))), Ok(()));
        for wrong in [
            "",
            "123456",
            ":secret",
            "12a:secret",
            "123:",
            "123:has space",
            "123:a/b",
        ] {
            assert!(check_bot_token(wrong).is_err(), "{wrong:?}");
        }
        assert!(check_bot_token(&format!("1:{}", "a".repeat(101))).is_err());
    }

    #[test]
    fn telegram_users_and_bots_read_and_name_their_chats() {
        for kind in AccountKind::ALL.iter().copied() {
            let telegram = matches!(kind, AccountKind::TelegramUser | AccountKind::TelegramBot);
            assert_eq!(can_read(kind), telegram, "{kind}");
            assert_eq!(names_chat(kind), telegram, "{kind}");
        }
    }
}
