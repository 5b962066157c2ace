//! Who wrote a message and what it answers, for destinations that cannot show it
//! themselves: a bold `Author:` line for bots and sessions (they send as themselves; a
//! Discord webhook shows the author's name and avatar as the sender instead), and a
//! quoted excerpt of the parent (`↪ Alice: first words…`) when a reply's parent has no
//! copy at the destination to reply to. Both are added as formatted text, so each
//! platform renders them its own way (entities on Telegram, markdown on Discord).

use relay_core::format::{FormattedText, Span, Style};
use relay_core::messages::Quote;

/// The longest excerpt of a parent message, in characters.
pub const EXCERPT_CHARS: usize = 100;

/// `text` with an author line and a quote of its parent before it (each when given).
pub fn decorate(
    text: &FormattedText,
    author: Option<&str>,
    quote: Option<&Quote>,
) -> FormattedText {
    let author = author.map(str::trim).filter(|a| !a.is_empty());
    if author.is_none() && quote.is_none() {
        return text.clone();
    }
    let mut out = String::new();
    let mut spans = Vec::new();
    if let Some(author) = author {
        let name = one_line(author);
        spans.push(Span::new(0, name.len() + 1, Style::Bold));
        out.push_str(&name);
        out.push(':');
    }
    if let Some(quote) = quote {
        if !out.is_empty() {
            out.push('\n');
        }
        let start = out.len();
        let who = one_line(quote.author.trim());
        let excerpt = excerpt(&quote.text);
        out.push_str("↪ ");
        if !who.is_empty() {
            out.push_str(&who);
            out.push_str(": ");
        }
        out.push_str(if excerpt.is_empty() { "…" } else { &excerpt });
        spans.push(Span::new(
            start,
            out.len(),
            Style::Blockquote { expandable: false },
        ));
    }
    if !text.text.is_empty() {
        out.push('\n');
    }
    let shift = out.len();
    out.push_str(&text.text);
    spans.extend(
        text.spans
            .iter()
            .map(|s| Span::new(s.start + shift, s.end + shift, s.style.clone())),
    );
    FormattedText::new(out, spans)
}

/// The start of a parent's text on one line: at most [`EXCERPT_CHARS`] characters, cut
/// at a word when one is near, with `…` when something was left out.
pub fn excerpt(text: &str) -> String {
    let flat = one_line(text);
    if flat.chars().count() <= EXCERPT_CHARS {
        return flat;
    }
    let cut: String = flat.chars().take(EXCERPT_CHARS).collect();
    let at_word = match cut.rfind(' ') {
        Some(i) if i >= cut.len() / 2 => &cut[..i],
        _ => cut.as_str(),
    };
    format!("{}…", at_word.trim_end())
}

/// Whitespace runs (newlines included) as one space.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn quote(author: &str, text: &str) -> Quote {
        Quote {
            author: author.into(),
            text: text.into(),
        }
    }

    #[test]
    fn the_author_line_is_bold_and_the_text_keeps_its_spans() {
        let text = FormattedText::new("hi there", vec![Span::new(3, 8, Style::Italic)]);
        let out = decorate(&text, Some("Alice"), None);
        assert_eq!(out.text, "Alice:\nhi there");
        assert!(out.spans.contains(&Span::new(0, 6, Style::Bold)));
        assert!(out.spans.contains(&Span::new(10, 15, Style::Italic)));
    }

    #[test]
    fn a_quote_is_a_blockquote_line_before_the_text() {
        let out = decorate(
            &"yes".into(),
            Some("Bob"),
            Some(&quote("Alice", "are you\nthere?")),
        );
        assert_eq!(out.text, "Bob:\n↪ Alice: are you there?\nyes");
        let quoted = out
            .spans
            .iter()
            .find(|s| matches!(s.style, Style::Blockquote { .. }))
            .expect("a quote");
        assert_eq!(
            &out.text[quoted.start..quoted.end],
            "↪ Alice: are you there?"
        );
    }

    #[test]
    fn nothing_to_add_leaves_the_text_alone_and_blank_names_are_left_out() {
        let text = FormattedText::new("x", vec![Span::new(0, 1, Style::Bold)]);
        assert_eq!(decorate(&text, None, None), text);
        assert_eq!(decorate(&text, Some("  "), None), text);
        assert_eq!(decorate(&"".into(), Some("Ann"), None).text, "Ann:");
        assert_eq!(
            decorate(&"a".into(), None, Some(&quote("", ""))).text,
            "↪ …\na"
        );
    }

    #[test]
    fn long_parents_are_cut_at_a_word_with_an_ellipsis() {
        let long = "word ".repeat(40);
        let cut = excerpt(&long);
        assert!(cut.ends_with("word…"), "{cut}");
        assert!(cut.chars().count() <= EXCERPT_CHARS + 1);
        let unbroken = "x".repeat(300);
        assert_eq!(excerpt(&unbroken).chars().count(), EXCERPT_CHARS + 1);
        assert_eq!(excerpt("short"), "short");
    }

    proptest! {
        #[test]
        fn decorating_never_panics_and_keeps_the_text_at_the_end(
            text in "\\PC{0,200}",
            author in "\\PC{0,30}",
            parent in "\\PC{0,300}",
        ) {
            let body = FormattedText::plain(text.clone());
            let out = decorate(&body, Some(&author), Some(&quote(&author, &parent)));
            prop_assert!(out.text.ends_with(&text));
            for s in &out.spans {
                prop_assert!(s.start <= s.end && s.end <= out.text.len());
                prop_assert!(out.text.is_char_boundary(s.start) && out.text.is_char_boundary(s.end));
            }
            prop_assert!(excerpt(&parent).chars().count() <= EXCERPT_CHARS + 1);
        }
    }
}
