//! MTProto's message entities (`MessageEntity*`, UTF-16 offsets like the Bot API's) to and
//! from `relay_core::format`'s [`TelegramEntity`], so a user session reads and sends text
//! with its formatting and never parses or writes markup.

use grammers_client::tl;
use relay_core::format::{EntityKind, FormattedText, TelegramEntity, from_telegram, to_telegram};

/// A message's text and entities in the neutral form.
pub fn formatted(text: &str, entities: Option<&Vec<tl::enums::MessageEntity>>) -> FormattedText {
    let entities: Vec<TelegramEntity> =
        entities.into_iter().flatten().filter_map(from_tl).collect();
    from_telegram(text, &entities)
}

/// The text and entities to send for `formatted`.
///
/// Mentions of a user by id and custom emoji are left as the text they cover: sending them
/// needs the user's access hash or Telegram Premium, and the text reads the same.
pub fn to_send(formatted: &FormattedText) -> (String, Vec<tl::enums::MessageEntity>) {
    let (text, entities) = to_telegram(formatted);
    (text, entities.iter().filter_map(to_tl).collect())
}

fn from_tl(entity: &tl::enums::MessageEntity) -> Option<TelegramEntity> {
    use tl::enums::MessageEntity as E;
    let kind = match entity {
        E::Bold(_) => EntityKind::Bold,
        E::Italic(_) => EntityKind::Italic,
        E::Underline(_) => EntityKind::Underline,
        E::Strike(_) => EntityKind::Strikethrough,
        E::Spoiler(_) => EntityKind::Spoiler,
        E::Code(_) => EntityKind::Code,
        E::Pre(p) => EntityKind::Pre {
            language: Some(p.language.clone()).filter(|l| !l.is_empty()),
        },
        E::TextUrl(t) => EntityKind::TextLink { url: t.url.clone() },
        E::MentionName(m) => EntityKind::TextMention { user_id: m.user_id },
        E::Mention(_) => EntityKind::Mention,
        E::CustomEmoji(c) => EntityKind::CustomEmoji {
            custom_emoji_id: c.document_id.to_string(),
        },
        E::Blockquote(b) if b.collapsed => EntityKind::ExpandableBlockquote,
        E::Blockquote(_) => EntityKind::Blockquote,
        // Detected by Telegram (links, hashtags, …) or not formatting: plain text.
        _ => return None,
    };
    Some(TelegramEntity {
        kind,
        offset_utf16: usize::try_from(entity.offset()).ok()?,
        length_utf16: usize::try_from(entity.length()).ok()?,
    })
}

fn to_tl(entity: &TelegramEntity) -> Option<tl::enums::MessageEntity> {
    use tl::types;
    let offset = i32::try_from(entity.offset_utf16).ok()?;
    let length = i32::try_from(entity.length_utf16).ok()?;
    Some(match &entity.kind {
        EntityKind::Bold => types::MessageEntityBold { offset, length }.into(),
        EntityKind::Italic => types::MessageEntityItalic { offset, length }.into(),
        EntityKind::Underline => types::MessageEntityUnderline { offset, length }.into(),
        EntityKind::Strikethrough => types::MessageEntityStrike { offset, length }.into(),
        EntityKind::Spoiler => types::MessageEntitySpoiler { offset, length }.into(),
        EntityKind::Code => types::MessageEntityCode { offset, length }.into(),
        EntityKind::Pre { language } => types::MessageEntityPre {
            offset,
            length,
            language: language.clone().unwrap_or_default(),
        }
        .into(),
        EntityKind::TextLink { url } => types::MessageEntityTextUrl {
            offset,
            length,
            url: url.clone(),
        }
        .into(),
        EntityKind::Mention => types::MessageEntityMention { offset, length }.into(),
        EntityKind::Blockquote => types::MessageEntityBlockquote {
            collapsed: false,
            offset,
            length,
        }
        .into(),
        EntityKind::ExpandableBlockquote => types::MessageEntityBlockquote {
            collapsed: true,
            offset,
            length,
        }
        .into(),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use relay_core::format::{Span, Style};

    #[test]
    fn entities_come_in_and_go_out_with_their_utf16_offsets() {
        // "é😀 bold": the emoji is two UTF-16 units, four UTF-8 bytes.
        let text = "é😀 bold";
        let entities = vec![
            tl::types::MessageEntityBold {
                offset: 4,
                length: 4,
            }
            .into(),
            tl::types::MessageEntityUrl {
                offset: 0,
                length: 1,
            }
            .into(),
        ];
        let formatted = formatted(text, Some(&entities));
        assert_eq!(formatted.spans, vec![Span::new(7, 11, Style::Bold)]);
        let (sent, out) = to_send(&formatted);
        assert_eq!(sent, text);
        assert_eq!(
            out,
            vec![
                tl::types::MessageEntityBold {
                    offset: 4,
                    length: 4
                }
                .into()
            ]
        );
    }

    #[test]
    fn mentions_by_id_and_custom_emoji_go_out_as_text() {
        let formatted = FormattedText::new(
            "Alice 👍",
            vec![
                Span::new(
                    0,
                    5,
                    Style::Mention {
                        target: relay_core::format::MentionTarget::TelegramUser { user_id: 7 },
                    },
                ),
                Span::new(
                    6,
                    10,
                    Style::CustomEmoji {
                        emoji: relay_core::format::CustomEmoji::Telegram { id: "5".into() },
                    },
                ),
            ],
        );
        assert_eq!(to_send(&formatted), ("Alice 👍".to_owned(), Vec::new()));
    }
}
