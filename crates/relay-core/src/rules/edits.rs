//! Replacing ranges of a [`FormattedText`] while keeping its formatting where it still
//! applies: spans before an edit stay, spans after it move, a span around an edit takes the
//! replacement in, a span inside a replaced range goes with it, and a mention or custom
//! emoji whose text changed loses its meaning (the text stays, plain).

use crate::format::{FormattedText, Span, Style};
use std::ops::Range;

/// One edit: the bytes `range` of the text become `with`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub range: Range<usize>,
    pub with: String,
}

/// Applies `edits` (byte ranges on char boundaries, in order, not overlapping; an empty
/// range inserts) to `text`.
pub fn apply(text: &FormattedText, edits: &[Edit]) -> FormattedText {
    if edits.is_empty() {
        return text.clone();
    }
    let mut out = String::with_capacity(text.text.len());
    let mut at = 0;
    for edit in edits {
        out.push_str(&text.text[at..edit.range.start]);
        out.push_str(&edit.with);
        at = edit.range.end;
    }
    out.push_str(&text.text[at..]);
    let spans = text
        .spans
        .iter()
        .filter_map(|span| {
            let atomic = matches!(
                span.style,
                Style::Mention { .. } | Style::CustomEmoji { .. }
            );
            if atomic && edits.iter().any(|e| touches(span, &e.range)) {
                return None;
            }
            let start = map_start(span.start, edits);
            let end = map_end(span.end, edits);
            (start < end).then(|| Span::new(start, end, span.style.clone()))
        })
        .collect();
    FormattedText::new(out, spans)
}

/// Whether an edit changes text inside the span (or inserts into its middle).
fn touches(span: &Span, range: &Range<usize>) -> bool {
    if range.is_empty() {
        span.start < range.start && range.start < span.end
    } else {
        range.start < span.end && span.start < range.end
    }
}

/// Where a span's start lands: after any edit that ends at or before it (an insertion at
/// the very spot included, so an inserted header does not take the span's style), after the
/// replacement when it was inside a replaced range.
fn map_start(p: usize, edits: &[Edit]) -> usize {
    let mut delta: isize = 0;
    for e in edits {
        if p >= e.range.end {
            delta += e.with.len() as isize - e.range.len() as isize;
        } else if p > e.range.start {
            return (e.range.start as isize + delta) as usize + e.with.len();
        } else {
            break;
        }
    }
    (p as isize + delta) as usize
}

/// Where a span's end lands: before any edit that starts at or after it (an appended footer
/// does not take the span's style), before the replacement when it was inside one.
fn map_end(p: usize, edits: &[Edit]) -> usize {
    let mut delta: isize = 0;
    for e in edits {
        if p <= e.range.start {
            break;
        } else if p >= e.range.end {
            delta += e.with.len() as isize - e.range.len() as isize;
        } else {
            return (e.range.start as isize + delta) as usize;
        }
    }
    (p as isize + delta) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bold(text: &str, start: usize, end: usize) -> FormattedText {
        FormattedText::new(text, vec![Span::new(start, end, Style::Bold)])
    }

    fn edit(range: Range<usize>, with: &str) -> Edit {
        Edit {
            range,
            with: with.into(),
        }
    }

    #[test]
    fn spans_around_an_edit_take_the_replacement_in() {
        // "hello world" with "world" bold; "wor" -> "WOR" keeps it bold.
        let out = apply(&bold("hello world", 6, 11), &[edit(6..9, "W0R")]);
        assert_eq!(out.text, "hello W0Rld");
        assert_eq!(out.spans, vec![Span::new(6, 11, Style::Bold)]);
    }

    #[test]
    fn spans_after_an_edit_move_and_inserted_text_stays_plain() {
        let text = bold("hello world", 6, 11);
        let out = apply(&text, &[edit(0..0, "Header\n"), edit(11..11, "\nFooter")]);
        assert_eq!(out.text, "Header\nhello world\nFooter");
        assert_eq!(out.spans, vec![Span::new(13, 18, Style::Bold)]);
    }

    #[test]
    fn a_span_inside_a_removed_range_goes_with_it() {
        let out = apply(&bold("see https://x.io now", 4, 16), &[edit(4..17, "")]);
        assert_eq!(out.text, "see now");
        assert!(out.spans.is_empty());
    }

    #[test]
    fn a_mention_whose_text_changed_is_plain() {
        let mention = Style::Mention {
            target: crate::format::MentionTarget::TelegramUsername {
                username: "alice".into(),
            },
        };
        let text = FormattedText::new("hi @alice!", vec![Span::new(3, 9, mention.clone())]);
        let renamed = apply(&text, &[edit(4..9, "bob")]);
        assert_eq!(renamed.text, "hi @bob!");
        assert!(renamed.spans.is_empty());
        let elsewhere = apply(&text, &[edit(0..2, "hey")]);
        assert_eq!(elsewhere.spans, vec![Span::new(4, 10, mention)]);
    }
}
