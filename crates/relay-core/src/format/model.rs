//! The neutral form of a formatted message: the text and its styled ranges, independent of
//! Telegram's entities and Discord's markdown, so it can be stored in a delivery payload and
//! rendered for either platform.
//!
//! Offsets are **UTF-8 byte offsets** into [`FormattedText::text`], half-open
//! (`start..end`). Telegram's UTF-16 offsets are converted at the edge (see
//! [`super::utf16`]). Spans may be given in any order and shape; every converter first brings
//! them to the canonical form described in [`super::normalize`].

use serde::{Deserialize, Serialize};

/// Text with styled ranges.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FormattedText {
    pub text: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub spans: Vec<Span>,
}

/// One styled range of [`FormattedText::text`], in UTF-8 byte offsets.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    pub style: Style,
}

/// What a span does to the text it covers.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Style {
    Bold,
    Italic,
    Underline,
    Strikethrough,
    Spoiler,
    /// Inline monospace.
    Code,
    /// A code block.
    Pre {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        language: Option<String>,
    },
    TextLink {
        url: String,
    },
    /// A mention of a user, role or channel. The readable name is the text the span covers
    /// (`@alice`, `Alice Smith`, `#general`); it is what a platform that cannot mention the
    /// target shows.
    Mention {
        target: MentionTarget,
    },
    /// A custom emoji. The text it covers is what a platform without it shows: the fallback
    /// emoji on Telegram, `:name:` for a Discord emoji.
    CustomEmoji {
        emoji: CustomEmoji,
    },
    /// A quote; it always covers whole lines.
    Blockquote {
        /// Telegram's collapsed quote; shown as an ordinary quote elsewhere.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        expandable: bool,
    },
}

/// Who or what a mention points at.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MentionTarget {
    /// Telegram's `text_mention`: a user without (or regardless of) a username.
    TelegramUser {
        user_id: i64,
    },
    /// Telegram's `mention`: `@username` in the text.
    TelegramUsername {
        username: String,
    },
    DiscordUser {
        user_id: u64,
    },
    DiscordRole {
        role_id: u64,
    },
    DiscordChannel {
        channel_id: u64,
    },
}

/// A custom emoji of either platform.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "platform", rename_all = "snake_case")]
pub enum CustomEmoji {
    /// Telegram's `custom_emoji_id` (a decimal number, kept as the Bot API gives it).
    Telegram { id: String },
    Discord {
        id: u64,
        name: String,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        animated: bool,
    },
}

/// How a style behaves when spans meet (see [`super::normalize`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    /// Bold, italic, underline, strikethrough, spoiler: may nest in and around anything but
    /// code; split freely.
    Flag,
    /// Code, code blocks and links: never overlap one another; may be split.
    Exclusive,
    /// Mentions and custom emoji: never overlap one another; never split (a cut one is
    /// dropped).
    Atomic,
    /// Quotes: whole lines, never nested, nothing crosses their edges.
    Quote,
}

impl Style {
    pub(crate) fn class(&self) -> Class {
        match self {
            Style::Bold
            | Style::Italic
            | Style::Underline
            | Style::Strikethrough
            | Style::Spoiler => Class::Flag,
            Style::Code | Style::Pre { .. } | Style::TextLink { .. } => Class::Exclusive,
            Style::Mention { .. } | Style::CustomEmoji { .. } => Class::Atomic,
            Style::Blockquote { .. } => Class::Quote,
        }
    }

    /// Whether the text under it is code (taken literally, never styled further).
    pub(crate) fn is_code(&self) -> bool {
        matches!(self, Style::Code | Style::Pre { .. })
    }

    /// Nesting order for spans over the same range: lower is outside.
    pub(crate) fn rank(&self) -> u8 {
        match self {
            Style::Blockquote { .. } => 0,
            Style::TextLink { .. } => 1,
            Style::Mention { .. } => 2,
            Style::CustomEmoji { .. } => 3,
            Style::Pre { .. } => 4,
            Style::Code => 5,
            Style::Spoiler => 6,
            Style::Bold => 7,
            Style::Italic => 8,
            Style::Underline => 9,
            Style::Strikethrough => 10,
        }
    }
}

impl Span {
    pub fn new(start: usize, end: usize, style: Style) -> Self {
        Span { start, end, style }
    }

    pub(crate) fn order_key(&self) -> (usize, std::cmp::Reverse<usize>, u8) {
        (self.start, std::cmp::Reverse(self.end), self.style.rank())
    }
}

impl From<&str> for FormattedText {
    /// Plain text, taken literally (see [`FormattedText::plain`]).
    fn from(text: &str) -> Self {
        FormattedText::plain(text)
    }
}

impl From<String> for FormattedText {
    /// Plain text, taken literally (see [`FormattedText::plain`]).
    fn from(text: String) -> Self {
        FormattedText::plain(text)
    }
}

impl FormattedText {
    /// Whether there is no text (spans cover text, so there are none either).
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// Text taken literally: no spans. Telegram gets exactly this text; Discord gets it with
    /// its markdown escaped.
    pub fn plain(text: impl Into<String>) -> Self {
        FormattedText {
            text: text.into(),
            spans: Vec::new(),
        }
    }

    /// Text with spans, brought to the canonical form.
    pub fn new(text: impl Into<String>, spans: Vec<Span>) -> Self {
        FormattedText {
            text: text.into(),
            spans,
        }
        .normalized()
    }

    /// The same text with its spans in the canonical form ([`super::normalize`]).
    pub fn normalized(&self) -> Self {
        FormattedText {
            text: self.text.clone(),
            spans: super::normalize::normalize(&self.text, &self.spans),
        }
    }

    /// The part `start..end` (byte offsets, rounded to char boundaries) with the spans that
    /// cross its edges cut to it: closed at the end of one part and reopened at the start of
    /// the next.
    pub fn slice(&self, start: usize, end: usize) -> Self {
        let end = self.text.ceil_char_boundary(end.min(self.text.len()));
        let start = self.text.floor_char_boundary(start.min(end));
        let spans = self
            .spans
            .iter()
            .filter(|s| s.start < end && s.end > start)
            .map(|s| {
                Span::new(
                    s.start.max(start) - start,
                    s.end.min(end) - start,
                    s.style.clone(),
                )
            })
            .collect::<Vec<_>>();
        FormattedText::new(&self.text[start..end], spans)
    }
}
