//! The canonical form: repairs of invalid spans and the nesting rules.

use super::*;
use crate::format::model::{MentionTarget, Span, Style};

fn norm(text: &str, spans: &[(usize, usize, Style)]) -> Vec<(usize, usize, Style)> {
    let spans: Vec<Span> = spans
        .iter()
        .map(|(s, e, st)| Span::new(*s, *e, st.clone()))
        .collect();
    normalize(text, &spans)
        .into_iter()
        .map(|s| (s.start, s.end, s.style))
        .collect()
}

const QUOTE: Style = Style::Blockquote { expandable: false };

#[test]
fn invalid_offsets_are_clipped_widened_or_dropped() {
    // Past the end, reversed, empty, and inside 😀 (bytes 1..5).
    assert_eq!(
        norm(
            "x😀y",
            &[
                (3, 99, Style::Bold),
                (4, 2, Style::Italic),
                (1, 1, Style::Code),
                (2, 3, Style::Underline)
            ]
        ),
        vec![(1, 6, Style::Bold), (1, 5, Style::Underline)]
    );
}

#[test]
fn flags_shed_edge_whitespace_and_merge_with_their_kind() {
    assert_eq!(
        norm(
            "a  bold  b",
            &[
                (1, 9, Style::Bold),
                (3, 5, Style::Bold),
                (9, 10, Style::Bold)
            ]
        ),
        vec![(3, 7, Style::Bold), (9, 10, Style::Bold)]
    );
    assert_eq!(norm("   ", &[(0, 3, Style::Italic)]), vec![]);
}

#[test]
fn quotes_cover_whole_lines_and_merge_on_consecutive_lines() {
    let text = "one\ntwo\nthree\n\nfour";
    assert_eq!(
        norm(
            text,
            &[
                (5, 6, QUOTE.clone()),
                (8, 9, QUOTE.clone()),
                (15, 19, QUOTE.clone())
            ]
        ),
        vec![(4, 13, QUOTE.clone()), (15, 19, QUOTE.clone())]
    );
    // A quote over only newlines is nothing.
    assert_eq!(norm("a\n\nb", &[(1, 3, QUOTE.clone())]), vec![]);
}

#[test]
fn nothing_crosses_a_quote_edge() {
    let text = "before\nquoted\nafter";
    assert_eq!(
        norm(
            text,
            &[
                (7, 13, QUOTE.clone()),
                (0, 19, Style::Bold),
                (3, 10, Style::Code)
            ]
        ),
        vec![
            (0, 3, Style::Bold),
            (3, 6, Style::Code),
            (7, 13, QUOTE.clone()),
            (7, 10, Style::Code),
            (10, 13, Style::Bold),
            (14, 19, Style::Bold),
        ]
    );
}

#[test]
fn code_links_and_mentions_never_overlap() {
    let link = Style::TextLink {
        url: "https://x.y".into(),
    };
    let mention = Style::Mention {
        target: MentionTarget::TelegramUser { user_id: 1 },
    };
    assert_eq!(
        norm(
            "abcdefgh",
            &[(0, 4, link.clone()), (2, 6, Style::Code), (3, 8, mention)]
        ),
        vec![(0, 4, link), (4, 6, Style::Code)]
    );
    // Touching inline code is one span; a code block sheds its edge newlines.
    assert_eq!(
        norm(
            "ab\ncode\n",
            &[
                (0, 1, Style::Code),
                (1, 2, Style::Code),
                (2, 8, Style::Pre { language: None })
            ]
        ),
        vec![(0, 2, Style::Code), (3, 7, Style::Pre { language: None })]
    );
}

#[test]
fn flags_stay_out_of_code_and_nest_with_links() {
    let link = Style::TextLink {
        url: "https://x.y".into(),
    };
    assert_eq!(
        norm(
            "a code b link c",
            &[
                (0, 15, Style::Bold),
                (2, 6, Style::Code),
                (9, 13, link.clone()),
                (11, 15, Style::Italic)
            ]
        ),
        vec![
            (0, 1, Style::Bold),
            (2, 6, Style::Code),
            (7, 15, Style::Bold),
            (9, 13, link),
            (11, 13, Style::Italic),
            (14, 15, Style::Italic),
        ]
    );
}

#[test]
fn crossing_flags_are_cut_where_they_cross() {
    assert_eq!(
        norm(
            "one two three",
            &[(0, 7, Style::Bold), (4, 13, Style::Italic)]
        ),
        vec![
            (0, 7, Style::Bold),
            (4, 7, Style::Italic),
            (8, 13, Style::Italic)
        ]
    );
}
