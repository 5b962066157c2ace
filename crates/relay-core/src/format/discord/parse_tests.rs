//! Discord markdown as Discord reads it: nesting, escapes, code, links, mentions, quotes.

use super::*;
use crate::format::model::{CustomEmoji, MentionTarget, Span};

fn styles(md: &str) -> (String, Vec<(usize, usize, Style)>) {
    let ft = from_discord_markdown(md);
    let spans = ft
        .spans
        .into_iter()
        .map(|s| (s.start, s.end, s.style))
        .collect();
    (ft.text, spans)
}

#[test]
fn emphasis_nests() {
    assert_eq!(
        styles("**bold *both* bold**"),
        (
            "bold both bold".into(),
            vec![(0, 14, Style::Bold), (5, 9, Style::Italic)]
        )
    );
    assert_eq!(
        styles("***x***"),
        ("x".into(), vec![(0, 1, Style::Bold), (0, 1, Style::Italic)])
    );
    assert_eq!(
        styles("__u__ ~~s~~ ||p|| _i_"),
        (
            "u s p i".into(),
            vec![
                (0, 1, Style::Underline),
                (2, 3, Style::Strikethrough),
                (4, 5, Style::Spoiler),
                (6, 7, Style::Italic),
            ]
        )
    );
    assert_eq!(
        styles("**a***b*"),
        (
            "ab".into(),
            vec![(0, 1, Style::Bold), (1, 2, Style::Italic)]
        )
    );
    // Inside a word, `**` after an open `*` opens bold (the rule of 3).
    assert_eq!(
        styles("c*u**p**v*"),
        (
            "cupv".into(),
            vec![(1, 4, Style::Italic), (2, 3, Style::Bold)]
        )
    );
    assert_eq!(
        styles("***a** T**b**c*"),
        (
            "a Tbc".into(),
            vec![
                (0, 5, Style::Italic),
                (0, 1, Style::Bold),
                (3, 4, Style::Bold)
            ]
        )
    );
}

#[test]
fn literal_markers_stay_text() {
    for md in ["snake_case_name", "a * b * c", "~x~", "|x|", "**", "*"] {
        let (text, spans) = styles(md);
        assert_eq!(spans, vec![], "{md:?}");
        assert_eq!(text, md);
    }
    // As Discord does: `__init__` is underlined, and 2*3*4 has an italic 3 (that is why
    // literal text is escaped).
    assert_eq!(
        styles("__init__.py"),
        ("init.py".into(), vec![(0, 4, Style::Underline)])
    );
    assert_eq!(
        styles("2*3*4 = 24"),
        ("234 = 24".into(), vec![(1, 2, Style::Italic)])
    );
    assert_eq!(styles(r"2\*3\*4 = 24").0, "2*3*4 = 24");
    assert_eq!(styles(r"\a \\ \_ \😀").0, r"\a \ _ 😀");
}

#[test]
fn code_is_literal() {
    assert_eq!(
        styles("`**not bold**` and ``a`b``"),
        (
            "**not bold** and a`b".into(),
            vec![(0, 12, Style::Code), (17, 20, Style::Code)]
        )
    );
    let rust = Style::Pre {
        language: Some("rust".into()),
    };
    assert_eq!(
        styles("```rust\nlet x = *y;\n```"),
        ("let x = *y;".into(), vec![(0, 11, rust)])
    );
    assert_eq!(
        styles("```no language here```"),
        (
            "no language here".into(),
            vec![(0, 16, Style::Pre { language: None })]
        )
    );
    // An unclosed fence is text.
    assert_eq!(styles("```x"), ("```x".into(), vec![]));
}

#[test]
fn links_mentions_and_emoji() {
    let names = MentionNames {
        users: [(80351110224678912, "alice".to_owned())].into(),
        ..MentionNames::default()
    };
    let ft = from_discord_markdown_with(
        "hi <@80351110224678912> <@!7> <@&8> <#9> <:blob:10> <a:dance:11> [**docs**](https://x.y/a_(b)) <https://z.w/_q_>",
        &names,
    );
    assert_eq!(
        ft.text,
        "hi @alice @7 @8 #9 :blob: :dance: docs https://z.w/_q_"
    );
    let link = Style::TextLink {
        url: "https://x.y/a_(b)".into(),
    };
    assert!(ft.spans.contains(&Span::new(34, 38, link)));
    assert!(ft.spans.contains(&Span::new(34, 38, Style::Bold)));
    assert!(ft.spans.contains(&Span::new(
        3,
        9,
        Style::Mention {
            target: MentionTarget::DiscordUser {
                user_id: 80351110224678912
            }
        }
    )));
    assert!(ft.spans.contains(&Span::new(
        26,
        33,
        Style::CustomEmoji {
            emoji: CustomEmoji::Discord {
                id: 11,
                name: "dance".into(),
                animated: true
            }
        }
    )));
    // Not a link target, not a mention: text.
    assert_eq!(styles("[a](b) <@x> <b>").0, "[a](b) <@x> <b>");
}

#[test]
fn quotes_cover_their_lines() {
    let quote = Style::Blockquote { expandable: false };
    assert_eq!(
        styles("> one\n> **two**\nthree"),
        (
            "one\ntwo\nthree".into(),
            vec![(0, 7, quote.clone()), (4, 7, Style::Bold)]
        )
    );
    assert_eq!(
        styles("a\n>>> rest\nof it"),
        ("a\nrest\nof it".into(), vec![(2, 12, quote)])
    );
    assert_eq!(styles("a > b\n>no space").0, "a > b\n>no space");
}

#[test]
fn bare_links_are_not_markdown() {
    assert_eq!(
        styles("see https://example.com/some_page_name_ ok"),
        ("see https://example.com/some_page_name_ ok".into(), vec![])
    );
    assert_eq!(
        styles("**https://x.y/a_b**"),
        ("https://x.y/a_b".into(), vec![(0, 15, Style::Bold)])
    );
}
