//! The Bot API's message entities (teloxide's `MessageEntity`, UTF-16 offsets) to and from
//! `relay_core::format`'s [`TelegramEntity`]: a bot reads text with its formatting and sends
//! text with `entities` / `caption_entities`, never a `parse_mode` string.

use relay_core::format::{EntityKind, FormattedText, TelegramEntity, from_telegram, to_telegram};
use teloxide_core::types::{Message, MessageEntity, MessageEntityKind};

/// A message's text (or caption) with its entities, in the neutral form.
pub fn formatted(m: &Message) -> FormattedText {
    let (text, entities) = match m.text() {
        Some(text) => (text, m.entities()),
        None => (m.caption().unwrap_or_default(), m.caption_entities()),
    };
    let entities: Vec<TelegramEntity> = entities
        .into_iter()
        .flatten()
        .filter_map(from_bot)
        .collect();
    from_telegram(text, &entities)
}

/// The text and entities to send for `formatted`.
///
/// Mentions of a user by id and custom emoji are left as the text they cover: a bot may
/// mention only users it knows, and custom emoji need a purchased username.
pub fn to_send(formatted: &FormattedText) -> (String, Vec<MessageEntity>) {
    let (text, entities) = to_telegram(formatted);
    (text, entities.iter().filter_map(to_bot).collect())
}

fn from_bot(entity: &MessageEntity) -> Option<TelegramEntity> {
    use MessageEntityKind as K;
    let kind = match &entity.kind {
        K::Bold => EntityKind::Bold,
        K::Italic => EntityKind::Italic,
        K::Underline => EntityKind::Underline,
        K::Strikethrough => EntityKind::Strikethrough,
        K::Spoiler => EntityKind::Spoiler,
        K::Code => EntityKind::Code,
        K::Pre { language } => EntityKind::Pre {
            language: language.clone(),
        },
        K::TextLink { url } => EntityKind::TextLink {
            url: url.to_string(),
        },
        K::TextMention { user } => EntityKind::TextMention {
            user_id: i64::try_from(user.id.0).ok()?,
        },
        K::Mention => EntityKind::Mention,
        K::CustomEmoji { custom_emoji_id } => EntityKind::CustomEmoji {
            custom_emoji_id: custom_emoji_id.0.clone(),
        },
        K::Blockquote => EntityKind::Blockquote,
        K::ExpandableBlockquote => EntityKind::ExpandableBlockquote,
        // Detected by Telegram (links, hashtags, commands, …): plain text.
        _ => return None,
    };
    Some(TelegramEntity {
        kind,
        offset_utf16: entity.offset,
        length_utf16: entity.length,
    })
}

fn to_bot(entity: &TelegramEntity) -> Option<MessageEntity> {
    use MessageEntityKind as K;
    let kind = match &entity.kind {
        EntityKind::Bold => K::Bold,
        EntityKind::Italic => K::Italic,
        EntityKind::Underline => K::Underline,
        EntityKind::Strikethrough => K::Strikethrough,
        EntityKind::Spoiler => K::Spoiler,
        EntityKind::Code => K::Code,
        EntityKind::Pre { language } => K::Pre {
            language: language.clone(),
        },
        EntityKind::TextLink { url } => K::TextLink {
            url: url.parse().ok()?,
        },
        EntityKind::Mention => K::Mention,
        EntityKind::Blockquote => K::Blockquote,
        EntityKind::ExpandableBlockquote => K::ExpandableBlockquote,
        _ => return None,
    };
    Some(MessageEntity::new(
        kind,
        entity.offset_utf16,
        entity.length_utf16,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use relay_core::format::{Span, Style};

    #[test]
    fn a_text_link_and_code_go_out_with_utf16_offsets() {
        // "😀" is two UTF-16 units and four UTF-8 bytes.
        let formatted = FormattedText::new(
            "😀 link `x`",
            vec![
                Span::new(
                    5,
                    9,
                    Style::TextLink {
                        url: "https://example.com/a".into(),
                    },
                ),
                Span::new(10, 13, Style::Code),
            ],
        );
        let (text, entities) = to_send(&formatted);
        assert_eq!(text, "😀 link `x`");
        assert_eq!(
            entities,
            vec![
                MessageEntity::new(
                    K::TextLink {
                        url: "https://example.com/a".parse().expect("url")
                    },
                    3,
                    4
                ),
                MessageEntity::new(K::Code, 8, 3),
            ]
        );
        let back: Vec<TelegramEntity> = entities.iter().filter_map(from_bot).collect();
        assert_eq!(from_telegram(&text, &back), formatted);
    }

    use MessageEntityKind as K;
}
