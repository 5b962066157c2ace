//! The canonical form of a span list, which both platforms can express and every converter
//! works on. Invalid input is repaired, never refused:
//!
//! - Offsets past the end are clipped; offsets inside a character are widened to it; empty
//!   spans are dropped.
//! - Quotes cover whole lines and do not begin or end with a newline; overlapping quotes and
//!   quotes on consecutive lines merge into one (Discord cannot tell them apart). Nothing
//!   else crosses or contains a quote's edge: it is cut there.
//! - Code, code blocks and links never overlap one another: the one starting first (then
//!   the longer) keeps the text, the other loses what overlaps. A code block does not begin
//!   or end with a newline; inline code spans that touch merge. None of them covers the
//!   newline just before or after a quote (Discord's `> ` must start a line). Mentions and
//!   custom emoji are never cut: one that overlaps a kept span, crosses a quote's edge or
//!   covers that newline is dropped.
//! - Bold, italic, underline, strikethrough and spoiler do not cover code (Telegram forbids
//!   it), do not begin or end with whitespace, and merge with their own kind where they
//!   overlap or touch. One that crosses a link, mention, emoji or another of them is cut at
//!   the edge it crosses (the span that starts first stays whole), so the spans nest.
//! - The result is sorted by start, then longest first, then [`Style::rank`](super::Style).

use super::model::{Class, Span, Style};

/// The spans of `text` in canonical form.
pub(crate) fn normalize(text: &str, spans: &[Span]) -> Vec<Span> {
    let mut quotes = Vec::new();
    let mut exclusive = Vec::new();
    let mut flags = Vec::new();
    for span in spans {
        let Some((start, end)) = clamp(text, span.start, span.end) else {
            continue;
        };
        let range = match span.style.class() {
            Class::Quote => quote_lines(text, start, end),
            Class::Flag => trim_whitespace(text, start, end),
            Class::Exclusive | Class::Atomic => trim_for(text, &span.style, start, end),
        };
        let Some((start, end)) = range else { continue };
        let span = Span::new(start, end, span.style.clone());
        match span.style.class() {
            Class::Quote => quotes.push(span),
            Class::Flag => flags.push(span),
            Class::Exclusive | Class::Atomic => exclusive.push(span),
        }
    }
    let quotes = merge_quotes(quotes);
    let cuts: Vec<usize> = quotes.iter().flat_map(|q| [q.start, q.end]).collect();
    // The newlines that set each quote apart.
    let mut holes = Vec::new();
    for q in &quotes {
        if q.start > 0 {
            holes.push((q.start - 1, q.start));
        }
        if q.end < text.len() {
            holes.push((q.end, q.end + 1));
        }
    }
    let exclusive = place_exclusive(text, exclusive, &cuts, &holes);
    let mut out = place_flags(text, flags, &quotes, &exclusive, &cuts);
    out.extend(quotes);
    out.extend(exclusive);
    out.sort_by_key(Span::order_key);
    out.dedup();
    out
}

/// `start..end` clipped to `text` and widened to char boundaries; `None` if empty.
fn clamp(text: &str, start: usize, end: usize) -> Option<(usize, usize)> {
    let end = end.min(text.len());
    if start >= end {
        return None;
    }
    Some((
        text.floor_char_boundary(start),
        text.ceil_char_boundary(end),
    ))
}

pub(crate) fn trim_whitespace(text: &str, start: usize, end: usize) -> Option<(usize, usize)> {
    trim_by(text, start, end, char::is_whitespace)
}

fn trim_by(text: &str, start: usize, end: usize, f: fn(char) -> bool) -> Option<(usize, usize)> {
    let inner = &text[start..end];
    let lead = inner.len() - inner.trim_start_matches(f).len();
    let trail = inner.len() - inner.trim_end_matches(f).len();
    (lead < inner.len()).then(|| (start + lead, end - trail))
}

/// Code blocks shed the newlines at their edges (Discord's fences swallow them).
fn trim_for(text: &str, style: &Style, start: usize, end: usize) -> Option<(usize, usize)> {
    match style {
        Style::Pre { .. } => trim_by(text, start, end, |c| c == '\n'),
        _ => Some((start, end)),
    }
}

/// The whole lines `start..end` touches, without newlines at the edges.
fn quote_lines(text: &str, start: usize, end: usize) -> Option<(usize, usize)> {
    let (start, end) = trim_by(text, start, end, |c| c == '\n')?;
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[end..].find('\n').map_or(text.len(), |i| end + i);
    Some((line_start, line_end))
}

fn merge_quotes(mut quotes: Vec<Span>) -> Vec<Span> {
    quotes.sort_by_key(|q| (q.start, q.end));
    let mut merged: Vec<Span> = Vec::with_capacity(quotes.len());
    for q in quotes {
        match merged.last_mut() {
            // Overlapping, or on the next line (only the newline between them).
            Some(last) if q.start <= last.end + 1 => {
                last.end = last.end.max(q.end);
                if let (Style::Blockquote { expandable: a }, Style::Blockquote { expandable: b }) =
                    (&mut last.style, &q.style)
                {
                    *a |= *b;
                }
            }
            _ => merged.push(q),
        }
    }
    merged
}

/// `pieces` without `start..end`.
fn subtract(pieces: Vec<(usize, usize)>, start: usize, end: usize) -> Vec<(usize, usize)> {
    if pieces.iter().all(|&(s, e)| e <= start || s >= end) {
        return pieces;
    }
    let mut out = Vec::with_capacity(pieces.len() + 1);
    for (s, e) in pieces {
        if e <= start || s >= end {
            out.push((s, e));
            continue;
        }
        if s < start {
            out.push((s, start));
        }
        if e > end {
            out.push((end, e));
        }
    }
    out
}

/// `pieces` cut at every offset of `cuts` strictly inside one.
fn cut_at(pieces: Vec<(usize, usize)>, cuts: &[usize]) -> Vec<(usize, usize)> {
    let mut out = Vec::with_capacity(pieces.len());
    for (s, e) in pieces {
        let mut inner: Vec<usize> = cuts.iter().copied().filter(|&c| s < c && c < e).collect();
        inner.sort_unstable();
        inner.dedup();
        let mut from = s;
        for c in inner {
            out.push((from, c));
            from = c;
        }
        out.push((from, e));
    }
    out
}

fn place_exclusive(
    text: &str,
    mut spans: Vec<Span>,
    cuts: &[usize],
    holes: &[(usize, usize)],
) -> Vec<Span> {
    spans.sort_by_key(Span::order_key);
    let mut kept: Vec<Span> = Vec::with_capacity(spans.len());
    for span in spans {
        let mut pieces = vec![(span.start, span.end)];
        for (s, e) in kept
            .iter()
            .map(|k| (k.start, k.end))
            .chain(holes.iter().copied())
        {
            pieces = subtract(pieces, s, e);
        }
        let pieces = cut_at(pieces, cuts);
        if span.style.class() == Class::Atomic && pieces != [(span.start, span.end)] {
            continue;
        }
        for (s, e) in pieces {
            if let Some((s, e)) = trim_for(text, &span.style, s, e) {
                kept.push(Span::new(s, e, span.style.clone()));
            }
        }
    }
    kept.sort_by_key(Span::order_key);
    let mut merged: Vec<Span> = Vec::with_capacity(kept.len());
    for span in kept {
        if let Some(last) = merged.last_mut()
            && last.style == Style::Code
            && span.style == Style::Code
            && last.end == span.start
            && !cuts.contains(&span.start)
        {
            last.end = span.end;
            continue;
        }
        merged.push(span);
    }
    merged
}

const FLAGS: [Style; 5] = [
    Style::Spoiler,
    Style::Bold,
    Style::Italic,
    Style::Underline,
    Style::Strikethrough,
];

fn place_flags(
    text: &str,
    flags: Vec<Span>,
    quotes: &[Span],
    exclusive: &[Span],
    cuts: &[usize],
) -> Vec<Span> {
    let mut merged = Vec::new();
    for style in FLAGS {
        let mut pieces: Vec<(usize, usize)> = Vec::new();
        for f in flags.iter().filter(|f| f.style == style) {
            let mut own = vec![(f.start, f.end)];
            for code in exclusive.iter().filter(|x| x.style.is_code()) {
                own = subtract(own, code.start, code.end);
            }
            pieces.extend(
                cut_at(own, cuts)
                    .into_iter()
                    .filter_map(|(s, e)| trim_whitespace(text, s, e)),
            );
        }
        pieces.sort_unstable();
        let mut runs: Vec<(usize, usize)> = Vec::with_capacity(pieces.len());
        for (s, e) in pieces {
            match runs.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => runs.push((s, e)),
            }
        }
        merged.extend(
            runs.into_iter()
                .map(|(s, e)| Span::new(s, e, style.clone())),
        );
    }
    merged.sort_by_key(Span::order_key);

    let mut placed: Vec<Span> = Vec::with_capacity(merged.len());
    let fixed: Vec<&Span> = quotes.iter().chain(exclusive).collect();
    for span in merged {
        let mut todo = vec![(span.start, span.end)];
        while let Some((s, e)) = todo.pop() {
            let crossing = fixed
                .iter()
                .copied()
                .chain(placed.iter())
                .find_map(|a| crossing_point(a, s, e));
            match crossing {
                Some(c) => todo.extend(
                    [(s, c), (c, e)]
                        .into_iter()
                        .filter_map(|(s, e)| trim_whitespace(text, s, e)),
                ),
                None => placed.push(Span::new(s, e, span.style.clone())),
            }
        }
    }
    placed
}

/// Where `a` crosses `start..end` (one edge inside, the other outside), if it does.
fn crossing_point(a: &Span, start: usize, end: usize) -> Option<usize> {
    if a.start < start && start < a.end && a.end < end {
        Some(a.end)
    } else if start < a.start && a.start < end && end < a.end {
        Some(a.start)
    } else {
        None
    }
}

#[cfg(test)]
#[path = "normalize_tests.rs"]
mod tests;
