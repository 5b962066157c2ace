//! What Relay knows of Discord's ids, tokens and channel types when a user types them or
//! picks a channel, and which Discord accounts can read and send: pure checks, no I/O. A
//! bot reads and sends; a webhook only sends, and always into its own channel. The error
//! texts complete a field's name in the API's 422s ("source.chat_id is not…").

use relay_core::AccountKind;

/// Channel type of a guild text channel.
pub const GUILD_TEXT: u8 = 0;
/// Channel type of a guild announcement (news) channel.
pub const GUILD_ANNOUNCEMENT: u8 = 5;

/// A channel id in its canonical text form: a snowflake, 17 to 20 digits without a leading
/// zero that fit in 64 bits.
pub fn channel_id(text: &str) -> Result<String, &'static str> {
    let digits = (17..=20).contains(&text.len())
        && text.bytes().all(|b| b.is_ascii_digit())
        && !text.starts_with('0');
    match text.parse::<u64>() {
        Ok(_) if digits => Ok(text.to_owned()),
        _ => Err("is not a Discord channel id (a snowflake of 17 to 20 digits)"),
    }
}

/// Checks that a string could be a bot token: at most 200 visible ASCII characters
/// (whether Discord knows it is for `GET /users/@me` to say).
pub fn check_bot_token(token: &str) -> Result<(), &'static str> {
    if token.len() > 200 || !token.bytes().all(|b| b.is_ascii_graphic()) {
        Err("is not a Discord bot token")
    } else {
        Ok(())
    }
}

/// Whether a channel of this type takes messages (text and announcement channels): the
/// channels a bot can forward into.
pub fn takes_messages(channel_type: u8) -> bool {
    matches!(channel_type, GUILD_TEXT | GUILD_ANNOUNCEMENT)
}

/// Whether an account of `kind` can be a pair's source: a Discord bot reads its channels; a
/// webhook can only send. `false` for other platforms' kinds.
pub fn can_read(kind: AccountKind) -> bool {
    kind == AccountKind::DiscordBot
}

/// Whether a destination on an account of `kind` names its channel: a bot's does; a webhook
/// always posts into the channel it was made for. `false` for other platforms' kinds.
pub fn names_chat(kind: AccountKind) -> bool {
    kind == AccountKind::DiscordBot
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_ids_are_snowflakes() {
        for id in [
            "12345678901234567",
            "1234567890123456789",
            "18446744073709551615",
        ] {
            assert_eq!(channel_id(id).as_deref(), Ok(id));
        }
        for wrong in [
            "",
            "1234567890123456",
            "01234567890123456789",
            "18446744073709551616",
            "99999999999999999999",
            "123456789012345678901",
            "-1234567890123456789",
            "+1234567890123456789",
            "12345678901234567x",
        ] {
            assert_eq!(
                channel_id(wrong),
                Err("is not a Discord channel id (a snowflake of 17 to 20 digits)"),
                "{wrong:?}"
            );
        }
    }

    #[test]
    fn bot_tokens_are_short_visible_ascii() {
        assert_eq!(check_bot_token("MTIz.abc-DEF_ghi"), Ok(()));
        assert_eq!(check_bot_token(&"x".repeat(200)), Ok(()));
        assert!(check_bot_token(&"x".repeat(201)).is_err());
        assert!(check_bot_token("has space").is_err());
        assert!(check_bot_token("tab\there").is_err());
        assert!(check_bot_token("ümlaut").is_err());
    }

    #[test]
    fn text_and_announcement_channels_take_messages() {
        let taking: Vec<u8> = (0..=u8::MAX).filter(|&t| takes_messages(t)).collect();
        assert_eq!(taking, vec![GUILD_TEXT, GUILD_ANNOUNCEMENT]);
    }

    #[test]
    fn a_bot_reads_and_names_its_channel_a_webhook_does_neither() {
        assert!(can_read(AccountKind::DiscordBot));
        assert!(names_chat(AccountKind::DiscordBot));
        assert!(!can_read(AccountKind::DiscordWebhook));
        assert!(!names_chat(AccountKind::DiscordWebhook));
        for kind in AccountKind::ALL.iter().copied() {
            let discord = matches!(kind, AccountKind::DiscordBot | AccountKind::DiscordWebhook);
            if !discord {
                assert!(!can_read(kind) && !names_chat(kind), "{kind}");
            }
        }
    }
}
