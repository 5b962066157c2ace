//! Telegram's side: message entities with UTF-16 offsets, as the Bot API's `MessageEntity`
//! (and MTProto's `MessageEntity*`) describe them, to and from [`FormattedText`].
//!
//! Invalid entities are repaired, never refused: an offset past the text is clipped, one
//! between the halves of a surrogate pair is widened to the whole character, an empty one is
//! dropped, and overlaps Telegram forbids are resolved as [`super::normalize`] describes.
//! Entities that only mark what Telegram detects by itself (`url`, `hashtag`, `email`, …)
//! carry no formatting and are dropped.

use super::model::{CustomEmoji, FormattedText, MentionTarget, Span, Style};
use super::utf16::Utf16Map;
use serde::{Deserialize, Serialize};

/// A Telegram message entity; offsets in UTF-16 code units.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TelegramEntity {
    pub kind: EntityKind,
    pub offset_utf16: usize,
    pub length_utf16: usize,
}

/// The entity types of the Bot API's `MessageEntity`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EntityKind {
    Bold,
    Italic,
    Underline,
    Strikethrough,
    Spoiler,
    Code,
    Pre {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        language: Option<String>,
    },
    TextLink {
        url: String,
    },
    TextMention {
        user_id: i64,
    },
    /// `@username`.
    Mention,
    CustomEmoji {
        custom_emoji_id: String,
    },
    Blockquote,
    ExpandableBlockquote,
    /// Detected by Telegram; plain text here.
    Url,
    Hashtag,
    Cashtag,
    BotCommand,
    Email,
    PhoneNumber,
    /// A type this version does not know; plain text.
    Other {
        name: String,
    },
}

impl EntityKind {
    /// The Bot API's name of the type (`"text_link"`, `"expandable_blockquote"`, …).
    pub fn bot_api_type(&self) -> &str {
        match self {
            EntityKind::Bold => "bold",
            EntityKind::Italic => "italic",
            EntityKind::Underline => "underline",
            EntityKind::Strikethrough => "strikethrough",
            EntityKind::Spoiler => "spoiler",
            EntityKind::Code => "code",
            EntityKind::Pre { .. } => "pre",
            EntityKind::TextLink { .. } => "text_link",
            EntityKind::TextMention { .. } => "text_mention",
            EntityKind::Mention => "mention",
            EntityKind::CustomEmoji { .. } => "custom_emoji",
            EntityKind::Blockquote => "blockquote",
            EntityKind::ExpandableBlockquote => "expandable_blockquote",
            EntityKind::Url => "url",
            EntityKind::Hashtag => "hashtag",
            EntityKind::Cashtag => "cashtag",
            EntityKind::BotCommand => "bot_command",
            EntityKind::Email => "email",
            EntityKind::PhoneNumber => "phone_number",
            EntityKind::Other { name } => name,
        }
    }
}

/// A Telegram message (text and entities) in the neutral form.
pub fn from_telegram(text: &str, entities: &[TelegramEntity]) -> FormattedText {
    let map = Utf16Map::new(text);
    let spans = entities
        .iter()
        .filter_map(|entity| {
            let start = entity.offset_utf16;
            let end = start.saturating_add(entity.length_utf16);
            if start >= map.len_utf16() || end <= start {
                return None;
            }
            let (start, end) = (map.floor(start), map.ceil(end));
            let style = style_of(&entity.kind, &text[start..end])?;
            Some(Span::new(start, end, style))
        })
        .collect();
    FormattedText::new(text, spans)
}

fn style_of(kind: &EntityKind, covered: &str) -> Option<Style> {
    Some(match kind {
        EntityKind::Bold => Style::Bold,
        EntityKind::Italic => Style::Italic,
        EntityKind::Underline => Style::Underline,
        EntityKind::Strikethrough => Style::Strikethrough,
        EntityKind::Spoiler => Style::Spoiler,
        EntityKind::Code => Style::Code,
        EntityKind::Pre { language } => Style::Pre {
            language: language.clone().filter(|l| !l.trim().is_empty()),
        },
        EntityKind::TextLink { url } if !url.is_empty() => Style::TextLink { url: url.clone() },
        EntityKind::TextMention { user_id } => Style::Mention {
            target: MentionTarget::TelegramUser { user_id: *user_id },
        },
        EntityKind::Mention => Style::Mention {
            target: MentionTarget::TelegramUsername {
                username: covered.trim_start_matches('@').to_owned(),
            },
        },
        EntityKind::CustomEmoji { custom_emoji_id } => Style::CustomEmoji {
            emoji: CustomEmoji::Telegram {
                id: custom_emoji_id.clone(),
            },
        },
        EntityKind::Blockquote => Style::Blockquote { expandable: false },
        EntityKind::ExpandableBlockquote => Style::Blockquote { expandable: true },
        _ => return None,
    })
}

/// The text and entities to send to Telegram. The text is exactly `formatted.text`; styles
/// Telegram cannot carry (a Discord user's mention, a Discord emoji) stay as the text they
/// cover.
pub fn to_telegram(formatted: &FormattedText) -> (String, Vec<TelegramEntity>) {
    let text = &formatted.text;
    let map = Utf16Map::new(text);
    let entities = super::normalize::normalize(text, &formatted.spans)
        .into_iter()
        .filter_map(|span| {
            let kind = kind_of(span.style)?;
            let offset = map.to_utf16(span.start);
            Some(TelegramEntity {
                kind,
                offset_utf16: offset,
                length_utf16: map.to_utf16(span.end) - offset,
            })
        })
        .collect();
    (text.clone(), entities)
}

fn kind_of(style: Style) -> Option<EntityKind> {
    Some(match style {
        Style::Bold => EntityKind::Bold,
        Style::Italic => EntityKind::Italic,
        Style::Underline => EntityKind::Underline,
        Style::Strikethrough => EntityKind::Strikethrough,
        Style::Spoiler => EntityKind::Spoiler,
        Style::Code => EntityKind::Code,
        Style::Pre { language } => EntityKind::Pre { language },
        Style::TextLink { url } => EntityKind::TextLink { url },
        Style::Mention { target } => match target {
            MentionTarget::TelegramUser { user_id } => EntityKind::TextMention { user_id },
            MentionTarget::TelegramUsername { .. } => EntityKind::Mention,
            _ => return None,
        },
        Style::CustomEmoji { emoji } => match emoji {
            CustomEmoji::Telegram { id } => EntityKind::CustomEmoji {
                custom_emoji_id: id,
            },
            CustomEmoji::Discord { .. } => return None,
        },
        Style::Blockquote { expandable: false } => EntityKind::Blockquote,
        Style::Blockquote { expandable: true } => EntityKind::ExpandableBlockquote,
    })
}

#[cfg(test)]
#[path = "telegram_tests.rs"]
mod tests;
