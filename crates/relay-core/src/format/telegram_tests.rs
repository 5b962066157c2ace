//! Telegram entities in UTF-16 offsets, and what becomes of entities Telegram detects or
//! Discord cannot have.

use super::*;
use crate::format::model::CustomEmoji;

fn entity(kind: EntityKind, offset_utf16: usize, length_utf16: usize) -> TelegramEntity {
    TelegramEntity {
        kind,
        offset_utf16,
        length_utf16,
    }
}

#[test]
fn offsets_are_utf16_units() {
    // 😀 is two units and four bytes; "bold" starts at unit 3, byte 5.
    let text = "😀 bold";
    let ft = from_telegram(text, &[entity(EntityKind::Bold, 3, 4)]);
    assert_eq!(ft.spans, vec![Span::new(5, 9, Style::Bold)]);
    assert_eq!(
        to_telegram(&ft),
        (text.to_owned(), vec![entity(EntityKind::Bold, 3, 4)])
    );
}

#[test]
fn detected_entities_carry_no_formatting() {
    let text = "/start #news $USD https://x.y a@b.c +1555";
    let kinds = [
        EntityKind::BotCommand,
        EntityKind::Hashtag,
        EntityKind::Cashtag,
        EntityKind::Url,
        EntityKind::Email,
        EntityKind::PhoneNumber,
        EntityKind::Other {
            name: "date_time".into(),
        },
    ];
    let entities: Vec<_> = kinds.into_iter().map(|k| entity(k, 0, 5)).collect();
    assert_eq!(from_telegram(text, &entities), FormattedText::plain(text));
}

#[test]
fn mentions_emoji_and_code_blocks_convert() {
    let text = "@alice 👍 code";
    let ft = from_telegram(
        text,
        &[
            entity(EntityKind::Mention, 0, 6),
            entity(
                EntityKind::CustomEmoji {
                    custom_emoji_id: "42".into(),
                },
                7,
                2,
            ),
            entity(
                EntityKind::Pre {
                    language: Some(String::new()),
                },
                10,
                4,
            ),
        ],
    );
    assert_eq!(
        ft.spans,
        vec![
            Span::new(
                0,
                6,
                Style::Mention {
                    target: MentionTarget::TelegramUsername {
                        username: "alice".into()
                    }
                }
            ),
            Span::new(
                7,
                11,
                Style::CustomEmoji {
                    emoji: CustomEmoji::Telegram { id: "42".into() }
                }
            ),
            Span::new(12, 16, Style::Pre { language: None }),
        ]
    );
}

#[test]
fn discord_only_styles_stay_text_on_telegram() {
    let ft = FormattedText::new(
        "@alice :blob:",
        vec![
            Span::new(
                0,
                6,
                Style::Mention {
                    target: MentionTarget::DiscordUser { user_id: 1 },
                },
            ),
            Span::new(
                7,
                13,
                Style::CustomEmoji {
                    emoji: CustomEmoji::Discord {
                        id: 2,
                        name: "blob".into(),
                        animated: false,
                    },
                },
            ),
        ],
    );
    assert_eq!(to_telegram(&ft), ("@alice :blob:".to_owned(), vec![]));
}

#[test]
fn the_stored_form_is_plain_json() {
    let ft = from_telegram(
        "quote",
        &[
            entity(EntityKind::ExpandableBlockquote, 0, 5),
            entity(
                EntityKind::TextLink {
                    url: "https://x.y".into(),
                },
                0,
                5,
            ),
        ],
    );
    let json = serde_json::to_value(&ft).expect("serializes");
    assert_eq!(
        json,
        serde_json::json!({
            "text": "quote",
            "spans": [
                {"start": 0, "end": 5, "style": {"type": "blockquote", "expandable": true}},
                {"start": 0, "end": 5, "style": {"type": "text_link", "url": "https://x.y"}},
            ]
        })
    );
    let back: FormattedText = serde_json::from_value(json).expect("deserializes");
    assert_eq!(back, ft);
    let plain: FormattedText = serde_json::from_str(r#"{"text":"hi"}"#).expect("no spans");
    assert_eq!(plain, FormattedText::plain("hi"));
    let entity_json = serde_json::to_value(entity(
        EntityKind::Pre {
            language: Some("rust".into()),
        },
        1,
        2,
    ))
    .expect("serializes");
    assert_eq!(
        entity_json,
        serde_json::json!({"kind": {"type": "pre", "language": "rust"}, "offset_utf16": 1, "length_utf16": 2})
    );
    assert_eq!(
        EntityKind::ExpandableBlockquote.bot_api_type(),
        "expandable_blockquote"
    );
}
