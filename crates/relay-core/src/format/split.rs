//! Long text in parts each platform accepts, in order.
//!
//! A part ends at the last paragraph break (a run of whitespace with two or more newlines)
//! that fits, else the last line break, else the last space, else at the last place that
//! splits no character and no emoji sequence or letter with its marks (a mention or custom
//! emoji is not cut where avoidable). Spans crossing a cut are closed at the end of one part
//! and reopened at the start of the next; a code block reopens with its language.
//!
//! Whitespace at a cut: at a paragraph, line or word cut the whole run of whitespace there
//! is dropped, so no part starts or ends with the separator. Inside code the next line keeps
//! its indentation: a line cut drops the run only up to its last newline, and a word cut
//! drops nothing. A hard cut drops nothing. Whitespace left after the last cut is dropped,
//! and so is a part that could hold only whitespace (when the next character does not fit).
//! So the parts' texts, with the dropped whitespace put back between them, are the original
//! text.
//!
//! Lengths: [`Measure::Telegram`] counts UTF-16 code units of the text (entities are free);
//! [`Measure::Discord`] counts characters of the rendered markdown, markers and escapes
//! included. Where a limit is too small for even one character with its markers, that part
//! goes without styles; where it is too small for one escaped character (below 2), each part
//! is one character, over the limit.

use super::clusters::floor_cut;
use super::discord::{DiscordOptions, to_discord_markdown};
use super::model::{Class, FormattedText};
use super::telegram::{TelegramEntity, to_telegram};
use super::utf16::utf16_len;

/// Discord's limit for a message's content, in characters.
pub const DISCORD_MESSAGE_LIMIT: usize = 2000;
/// Telegram's limit for a message's text, in UTF-16 code units.
pub const TELEGRAM_MESSAGE_LIMIT: usize = 4096;
/// Telegram's limit for a media caption, in UTF-16 code units.
pub const TELEGRAM_CAPTION_LIMIT: usize = 1024;

/// How a part's length is counted against a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// UTF-16 code units of the text.
    Telegram,
    /// Characters of the markdown rendered with these options.
    Discord(DiscordOptions),
}

impl Measure {
    /// The length of `part` in this measure.
    pub fn len(&self, part: &FormattedText) -> usize {
        match self {
            Measure::Telegram => utf16_len(&part.text),
            Measure::Discord(options) => to_discord_markdown(part, options).chars().count(),
        }
    }

    /// Whether `whole`'s part `start..end` fits in `limit`.
    fn fits(&self, whole: &FormattedText, start: usize, end: usize, limit: usize) -> bool {
        let text = &whole.text[start..end];
        // Either measure counts at least one per character.
        if text.chars().nth(limit).is_some() {
            return false;
        }
        match self {
            Measure::Telegram => utf16_len(text) <= limit,
            Measure::Discord(_) => self.len(&whole.slice(start, end)) <= limit,
        }
    }
}

/// `formatted` in parts of at most `limit`.
pub fn split(formatted: &FormattedText, limit: usize, measure: Measure) -> Vec<FormattedText> {
    split_with_first(formatted, limit, limit, measure)
}

/// `formatted` in parts, the first of at most `first_limit` (a caption), the others of at
/// most `limit`. Text that fits is one part, unchanged (also when empty).
pub fn split_with_first(
    formatted: &FormattedText,
    first_limit: usize,
    limit: usize,
    measure: Measure,
) -> Vec<FormattedText> {
    let whole = formatted.normalized();
    let end = whole.text.len();
    let mut parts = Vec::new();
    let mut pos = 0;
    loop {
        let limit = if parts.is_empty() { first_limit } else { limit };
        if measure.fits(&whole, pos, end, limit) {
            parts.push(whole.slice(pos, end));
            break;
        }
        let (part, next) = next_part(&whole, pos, limit, measure);
        // Only whitespace fits (before a long cluster or escaped character): a gap.
        if !part.text.trim().is_empty() {
            parts.push(part);
        }
        pos = next;
        // Whitespace left after the last cut is part of that cut.
        if whole.text[pos..].trim().is_empty() {
            break;
        }
    }
    parts
}

/// Discord messages of at most [`DISCORD_MESSAGE_LIMIT`] characters.
pub fn split_discord(formatted: &FormattedText, options: &DiscordOptions) -> Vec<String> {
    split(formatted, DISCORD_MESSAGE_LIMIT, Measure::Discord(*options))
        .iter()
        .map(|part| to_discord_markdown(part, options))
        .collect()
}

/// Telegram messages of at most [`TELEGRAM_MESSAGE_LIMIT`] UTF-16 code units.
pub fn split_telegram(formatted: &FormattedText) -> Vec<(String, Vec<TelegramEntity>)> {
    split(formatted, TELEGRAM_MESSAGE_LIMIT, Measure::Telegram)
        .iter()
        .map(to_telegram)
        .collect()
}

/// A Telegram caption of at most [`TELEGRAM_CAPTION_LIMIT`] and the messages that continue
/// it.
pub fn split_caption_telegram(formatted: &FormattedText) -> Vec<(String, Vec<TelegramEntity>)> {
    split_with_first(
        formatted,
        TELEGRAM_CAPTION_LIMIT,
        TELEGRAM_MESSAGE_LIMIT,
        Measure::Telegram,
    )
    .iter()
    .map(to_telegram)
    .collect()
}

/// The part starting at `pos` and where the next one starts.
fn next_part(
    whole: &FormattedText,
    pos: usize,
    limit: usize,
    measure: Measure,
) -> (FormattedText, usize) {
    if let Some(found) = cut_within(whole, pos, limit, measure) {
        return found;
    }
    let plain = FormattedText::plain(whole.text.clone());
    if let Some(found) = cut_within(&plain, pos, limit, measure) {
        return found;
    }
    let text = &whole.text;
    let one = text[pos..]
        .chars()
        .next()
        .map_or(text.len(), |c| pos + c.len_utf8());
    (plain.slice(pos, one), one)
}

fn cut_within(
    formatted: &FormattedText,
    pos: usize,
    limit: usize,
    measure: Measure,
) -> Option<(FormattedText, usize)> {
    let text = &formatted.text;
    let fits = |end: usize| measure.fits(formatted, pos, end, limit);
    // Either measure counts at least one per character.
    let ends: Vec<usize> = text[pos..]
        .char_indices()
        .take(limit)
        .map(|(i, c)| pos + i + c.len_utf8())
        .collect();
    let mut n = ends.partition_point(|&end| fits(end));
    while n > 0 && !fits(ends[n - 1]) {
        n -= 1;
    }
    let hi = ends[n.checked_sub(1)?];
    let cut = boundaries(formatted, pos, hi)
        .into_iter()
        .find(|&(end, _)| fits(end))
        .unwrap_or_else(|| {
            let at = hard_cut(formatted, pos, hi);
            (at, at)
        });
    Some((formatted.slice(pos, cut.0), cut.1))
}

fn inside_atomic(formatted: &FormattedText, at: usize) -> bool {
    formatted
        .spans
        .iter()
        .any(|s| s.style.class() == Class::Atomic && s.start < at && at < s.end)
}

/// Cuts at whitespace within `pos..hi`, best first: `(end of this part, start of the next)`.
fn boundaries(formatted: &FormattedText, pos: usize, hi: usize) -> Vec<(usize, usize)> {
    let text = &formatted.text;
    // Paragraph, line and word breaks, each in text order.
    let mut found: [Vec<(usize, usize)>; 3] = Default::default();
    let mut at = pos;
    while let Some(c) = text[at..hi].chars().next() {
        if !c.is_whitespace() {
            at += c.len_utf8();
            continue;
        }
        let start = at;
        let end = text[start..]
            .find(|c: char| !c.is_whitespace())
            .map_or(text.len(), |n| start + n);
        at = end.min(hi);
        if start == pos {
            continue;
        }
        let run = &text[start..end];
        let newlines = run.matches('\n').count();
        let in_code = formatted
            .spans
            .iter()
            .any(|s| s.style.is_code() && s.start < end && start < s.end);
        let next = match (in_code, run.rfind('\n')) {
            (false, _) => end,
            (true, Some(last)) => start + last + 1,
            (true, None) => start,
        };
        if inside_atomic(formatted, start) || inside_atomic(formatted, next) {
            continue;
        }
        let class = match newlines {
            0 => 2,
            1 => 1,
            _ => 0,
        };
        found[class].push((start, next));
    }
    found
        .into_iter()
        .flat_map(|f| f.into_iter().rev())
        .collect()
}

/// The last place in `pos + 1 ..= hi` that splits no cluster, leaves no blank part and, if
/// possible, cuts no mention or custom emoji; `hi` itself if every cluster there is longer
/// than the part.
fn hard_cut(formatted: &FormattedText, pos: usize, hi: usize) -> usize {
    let text = &formatted.text;
    let (mut solid, mut any) = (None, None);
    let mut at = hi;
    while let Some(cut) = floor_cut(text, pos, at) {
        let blank = text[pos..cut].trim().is_empty();
        if !blank && !inside_atomic(formatted, cut) {
            return cut;
        }
        if !blank {
            solid.get_or_insert(cut);
        }
        any.get_or_insert(cut);
        at = cut - 1;
    }
    solid.or(any).unwrap_or(hi)
}

#[cfg(test)]
#[path = "split_tests.rs"]
mod tests;
