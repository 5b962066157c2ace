//! Generators for the property tests: text made of the pieces that trouble converters
//! (markdown characters, links, emoji sequences, RTL script, marks, newlines), span lists
//! with arbitrary (also invalid) offsets, and arbitrary Telegram entities.

use crate::format::{
    CustomEmoji, EntityKind, FormattedText, MentionTarget, Span, Style, TelegramEntity, utf16_len,
};
use proptest::prelude::*;

/// A piece of text.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z]{1,6}",
        3 => Just(" ".to_owned()),
        2 => Just("\n".to_owned()),
        1 => Just("\n\n".to_owned()),
        3 => prop::sample::select(vec![
            "*", "**", "_", "__", "~", "~~", "|", "||", "`", "```", "\\", ">", "> ", ">>> ", "#",
            "# ", "- ", "-# ", "1. ", "[", "]", "(", ")", "](", "<", "<@", "<@1>", "<#2>",
            "<:x:3>", "<b>", "</b>", ":", "@", ".", "!", "'", "\"", "\t", "\r\n", "  ",
        ])
        .prop_map(str::to_owned),
        1 => prop::sample::select(vec![
            "https://example.com/a_b_c", "http://x.y/(p)", "https://x.y/~u", "HTTPS://X.Y.",
            "www.example.com", "https://", "https://a.b/c__d",
        ])
        .prop_map(str::to_owned),
        1 => prop::sample::select(vec![
            "😀", "👍🏽", "👩‍👩‍👧", "🇩🇪", "1️⃣", "e\u{301}", "שָׁלוֹם", "مرحبا", "日本語", "\u{200F}",
            "\u{FEFF}", "𝔘",
        ])
        .prop_map(str::to_owned),
        1 => any::<char>().prop_map(String::from),
    ]
}

/// Text built from [`piece`]s.
pub(super) fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(piece(), 0..40).prop_map(|pieces| pieces.concat())
}

fn url() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "https://example.com/a_b",
        "https://x.y/(a)",
        "https://x.y/a)",
        "http://x.y/?q=1&r=*",
        "https://x.y/a b",
        "tg://user?id=1",
        "https://t.me/<x>",
        "",
    ])
    .prop_map(str::to_owned)
}

pub(super) fn style() -> impl Strategy<Value = Style> {
    prop_oneof![
        3 => prop::sample::select(vec![
            Style::Bold,
            Style::Italic,
            Style::Underline,
            Style::Strikethrough,
            Style::Spoiler,
            Style::Code,
        ]),
        1 => prop::sample::select(vec![None, Some("rust"), Some("c++"), Some("plain text"), Some("")])
            .prop_map(|l| Style::Pre { language: l.map(str::to_owned) }),
        1 => url().prop_map(|url| Style::TextLink { url }),
        1 => prop_oneof![
            any::<i64>().prop_map(|user_id| MentionTarget::TelegramUser { user_id }),
            Just(MentionTarget::TelegramUsername { username: "alice".into() }),
            any::<u64>().prop_map(|user_id| MentionTarget::DiscordUser { user_id }),
            any::<u64>().prop_map(|role_id| MentionTarget::DiscordRole { role_id }),
            any::<u64>().prop_map(|channel_id| MentionTarget::DiscordChannel { channel_id }),
        ]
        .prop_map(|target| Style::Mention { target }),
        1 => prop_oneof![
            "[0-9]{1,19}".prop_map(|id| CustomEmoji::Telegram { id }),
            ("[a-z_]{0,6}", any::<u64>(), any::<bool>())
                .prop_map(|(name, id, animated)| CustomEmoji::Discord { id, name, animated }),
        ]
        .prop_map(|emoji| Style::CustomEmoji { emoji }),
        1 => any::<bool>().prop_map(|expandable| Style::Blockquote { expandable }),
    ]
}

/// Text with spans at arbitrary byte offsets (inside characters, past the end, reversed).
pub(super) fn formatted() -> impl Strategy<Value = FormattedText> {
    text().prop_flat_map(|text| {
        let max = text.len() + 3;
        let spans = prop::collection::vec((0..max, 0..max, style()), 0..12).prop_map(|v| {
            v.into_iter()
                .map(|(s, e, style)| Span::new(s, e, style))
                .collect()
        });
        (Just(text), spans).prop_map(|(text, spans)| FormattedText { text, spans })
    })
}

fn kind() -> impl Strategy<Value = EntityKind> {
    prop_oneof![
        6 => prop::sample::select(vec![
            EntityKind::Bold,
            EntityKind::Italic,
            EntityKind::Underline,
            EntityKind::Strikethrough,
            EntityKind::Spoiler,
            EntityKind::Code,
            EntityKind::Mention,
            EntityKind::Blockquote,
            EntityKind::ExpandableBlockquote,
            EntityKind::Url,
            EntityKind::Hashtag,
            EntityKind::BotCommand,
            EntityKind::Email,
            EntityKind::Cashtag,
            EntityKind::PhoneNumber,
            EntityKind::Other { name: "date_time".into() },
        ]),
        1 => prop::sample::select(vec![None, Some("python"), Some("")])
            .prop_map(|l| EntityKind::Pre { language: l.map(str::to_owned) }),
        1 => url().prop_map(|url| EntityKind::TextLink { url }),
        1 => any::<i64>().prop_map(|user_id| EntityKind::TextMention { user_id }),
        1 => "[0-9]{1,19}".prop_map(|custom_emoji_id| EntityKind::CustomEmoji { custom_emoji_id }),
    ]
}

/// A Telegram message: text and entities at arbitrary UTF-16 offsets.
pub(super) fn telegram() -> impl Strategy<Value = (String, Vec<TelegramEntity>)> {
    text().prop_flat_map(|text| {
        let max = utf16_len(&text) + 3;
        let entities = prop::collection::vec((kind(), 0..max, 0..max), 0..12).prop_map(|v| {
            v.into_iter()
                .map(|(kind, offset_utf16, length_utf16)| TelegramEntity {
                    kind,
                    offset_utf16,
                    length_utf16,
                })
                .collect()
        });
        (Just(text), entities)
    })
}
