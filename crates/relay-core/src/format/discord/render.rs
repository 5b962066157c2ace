//! [`FormattedText`] as Discord markdown. Markers: `**bold**`, `_italic_` (`*italic*` where
//! a letter, digit or link touches it), `__underline__`, `~~strike~~`, `||spoiler||`, and
//! `> ` before each quoted line. Literal text is escaped ([`super::escape`]). What Discord
//! cannot show is rendered as its text:
//!
//! - inline code whose content holds two backticks in a row (a fence of three would read as
//!   a code block), a code block holding ```` ``` ````, and inline code right before a code
//!   block become escaped text;
//! - a code block's language is dropped unless Discord reads it as one (`[A-Za-z0-9_+-.#]`);
//! - a link that is not `http(s)://`, or whose text is its URL, is its text; a URL's spaces,
//!   `<`, `>` and unbalanced parentheses are percent-encoded;
//! - mentions and custom emoji are their text (`@alice`, `:blob:`) unless
//!   [`DiscordOptions`] makes Discord's own live.

use super::atoms::is_language;
use super::escape::escape_into;
use super::options::DiscordOptions;
use super::url::scheme_len;
use crate::format::model::{CustomEmoji, FormattedText, MentionTarget, Span, Style};
use crate::format::normalize::normalize;

/// `formatted` as Discord markdown.
pub fn to_discord_markdown(formatted: &FormattedText, options: &DiscordOptions) -> String {
    let text = formatted.text.as_str();
    let canonical = normalize(text, &formatted.spans);
    // Spans shown as plain text go first, so they cut no marker in two.
    let shown: Vec<Span> = canonical
        .into_iter()
        .filter(|s| !shown_as_text(text, s, options))
        .collect();
    let spans = normalize(text, &shown);
    let links = spans
        .iter()
        .any(|s| matches!(s.style, Style::TextLink { .. }));
    let renderer = Renderer {
        text,
        spans: &spans,
        options,
        brackets: links || text.contains("]("),
    };
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    renderer.children(&mut out, None, 0, text.len(), false);
    out
}

struct Renderer<'a> {
    text: &'a str,
    /// Canonical, so they nest: a span's children follow it in the list.
    spans: &'a [Span],
    options: &'a DiscordOptions,
    brackets: bool,
}

impl Renderer<'_> {
    /// The spans directly inside `parent` (all top-level ones for `None`), by index.
    fn child_indices(&self, parent: Option<usize>, start: usize, end: usize) -> Vec<usize> {
        let from = parent.map_or(0, |p| p + 1);
        let mut out = Vec::new();
        let mut covered = start;
        for (i, s) in self.spans.iter().enumerate().skip(from) {
            if s.start >= end {
                break;
            }
            if s.start >= covered && s.end <= end {
                out.push(i);
                covered = s.end;
            }
        }
        out
    }

    fn children(
        &self,
        out: &mut String,
        parent: Option<usize>,
        start: usize,
        end: usize,
        in_link: bool,
    ) {
        let mut at = start;
        for i in self.child_indices(parent, start, end) {
            let span = &self.spans[i];
            escape_into(out, self.text, at, span.start, self.brackets || in_link);
            self.span(out, i, in_link);
            at = span.end;
        }
        escape_into(out, self.text, at, end, self.brackets || in_link);
    }

    fn span(&self, out: &mut String, i: usize, in_link: bool) {
        let span = &self.spans[i];
        let (start, end) = (span.start, span.end);
        let covered = &self.text[start..end];
        let inner = |out: &mut String, in_link| self.children(out, Some(i), start, end, in_link);
        let wrap = |out: &mut String, marker: &str| {
            out.push_str(marker);
            inner(out, in_link);
            out.push_str(marker);
        };
        match &span.style {
            Style::Bold => wrap(out, "**"),
            Style::Italic => wrap(out, self.italic_marker(start, end)),
            Style::Underline => wrap(out, "__"),
            Style::Strikethrough => wrap(out, "~~"),
            Style::Spoiler => wrap(out, "||"),
            Style::Blockquote { .. } => {
                let mut quoted = String::new();
                inner(&mut quoted, in_link);
                out.push_str("> ");
                out.push_str(&quoted.replace('\n', "\n> "));
            }
            Style::Code => match code(covered).filter(|_| !self.pre_starts_at(end)) {
                Some(md) => out.push_str(&md),
                None => inner(out, in_link),
            },
            Style::Pre { language } => match pre(covered, language.as_deref()) {
                Some(md) => out.push_str(&md),
                None => inner(out, in_link),
            },
            // Links that are only text were taken out; links do not nest.
            Style::TextLink { url } => {
                out.push('[');
                inner(out, true);
                out.push_str("](");
                out.push_str(&link_target(url));
                out.push(')');
            }
            Style::Mention { target } => match live_mention(target) {
                Some(md) => out.push_str(&md),
                None => inner(out, in_link),
            },
            Style::CustomEmoji { emoji } => match live_emoji(emoji, self.options) {
                Some(md) => out.push_str(&md),
                None => inner(out, in_link),
            },
        }
    }

    /// `_` where no letter or digit touches the span (Discord reads `_` more reliably next
    /// to other markers) and no bare link could run into the marker (`_` may be part of a
    /// link); `*` otherwise, which Discord also reads inside words.
    fn italic_marker(&self, start: usize, end: usize) -> &'static str {
        let word = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
        let text = self.text;
        let before = text[..start].chars().next_back();
        let after = text[end..].chars().next();
        let word_start = text[..start]
            .trim_end_matches(|c: char| !c.is_whitespace())
            .len();
        let near_link = text[word_start..end].contains("://");
        if word(before) || word(after) || near_link {
            "*"
        } else {
            "_"
        }
    }

    fn pre_starts_at(&self, at: usize) -> bool {
        self.spans
            .iter()
            .any(|s| s.start == at && matches!(s.style, Style::Pre { .. }))
    }
}

/// A live mention (taken out beforehand unless live mentions are on).
fn live_mention(target: &MentionTarget) -> Option<String> {
    match target {
        MentionTarget::DiscordUser { user_id } => Some(format!("<@{user_id}>")),
        MentionTarget::DiscordRole { role_id } => Some(format!("<@&{role_id}>")),
        MentionTarget::DiscordChannel { channel_id } => Some(format!("<#{channel_id}>")),
        MentionTarget::TelegramUser { .. } | MentionTarget::TelegramUsername { .. } => None,
    }
}

/// Mentions, emoji and links that are only their text here.
fn shown_as_text(text: &str, span: &Span, options: &DiscordOptions) -> bool {
    match &span.style {
        Style::Mention { target } => !options.live_mentions || live_mention(target).is_none(),
        Style::CustomEmoji { emoji } => live_emoji(emoji, options).is_none(),
        Style::TextLink { url } => {
            scheme_len(url).is_none_or(|n| url.len() <= n) || text[span.start..span.end] == **url
        }
        _ => false,
    }
}

fn live_emoji(emoji: &CustomEmoji, options: &DiscordOptions) -> Option<String> {
    match emoji {
        CustomEmoji::Discord { id, name, animated }
            if options.live_emoji
                && !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') =>
        {
            let a = if *animated { "a" } else { "" };
            Some(format!("<{a}:{name}:{id}>"))
        }
        _ => None,
    }
}

fn longest_backtick_run(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

/// Inline code with a fence longer than any backtick run inside, padded with a space
/// where the content starts or ends with a backtick.
fn code(content: &str) -> Option<String> {
    let longest = longest_backtick_run(content);
    if longest >= 2 {
        return None;
    }
    let fence = "`".repeat(longest + 1);
    let lead = if content.trim_start_matches(' ').starts_with('`') {
        " "
    } else {
        ""
    };
    let trail = if content.trim_end_matches(' ').ends_with('`') {
        " "
    } else {
        ""
    };
    Some(format!("{fence}{lead}{content}{trail}{fence}"))
}

fn pre(content: &str, language: Option<&str>) -> Option<String> {
    if content.contains("```") || content.starts_with('\n') || content.ends_with('\n') {
        return None;
    }
    let language = language.filter(|l| is_language(l)).unwrap_or("");
    Some(format!("```{language}\n{content}\n```"))
}

/// `url` as a masked link's target: no spaces or angle brackets, parentheses balanced.
pub(crate) fn link_target(url: &str) -> String {
    let mut depth = 0i64;
    let mut balanced = true;
    for c in url.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        balanced &= depth >= 0;
    }
    balanced &= depth == 0;
    let mut out = String::with_capacity(url.len());
    for c in url.chars() {
        match c {
            '(' | ')' if !balanced => out.push_str(if c == '(' { "%28" } else { "%29" }),
            '<' => out.push_str("%3C"),
            '>' => out.push_str("%3E"),
            c if c.is_whitespace() => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
#[path = "render_tests.rs"]
mod tests;
