//! The whole pieces of Discord markdown, each on its own.

use super::*;

#[test]
fn quotes_take_their_lines() {
    assert_eq!(quote("> a\n> b\nc"), Some(("a\nb".to_owned(), 7)));
    assert_eq!(quote("> \n> b"), Some(("\nb".to_owned(), 6)));
    assert_eq!(quote(">>> a\n> b\nc"), Some(("a\n> b\nc".to_owned(), 11)));
    assert_eq!(quote(">a"), None);
    assert_eq!(quote(">>>a"), None);
}

#[test]
fn code_blocks_take_a_language_line() {
    assert_eq!(
        code_block("```rust\nx\n```!"),
        Some((Some("rust"), "x", 13))
    );
    assert_eq!(code_block("```\n\nx\n\n```"), Some((None, "x", 11)));
    assert_eq!(code_block("```x```"), Some((None, "x", 7)));
    // A language line with nothing after it is the content.
    assert_eq!(code_block("```rust\n```"), Some((None, "rust", 11)));
    assert_eq!(code_block("``````"), None);
    assert_eq!(code_block("```open"), None);
    assert!(is_language("c++") && is_language("C#") && !is_language("plain text"));
}

#[test]
fn inline_code_needs_an_equal_fence() {
    assert_eq!(inline_code("`a` b"), Some(("a", 3)));
    assert_eq!(inline_code("``a`b``"), Some(("a`b", 7)));
    assert_eq!(inline_code("`` `a` ``"), Some(("`a`", 9)));
    assert_eq!(inline_code("`a``"), None);
    assert_eq!(inline_code("``"), None);
}

#[test]
fn angle_brackets_hold_mentions_emoji_and_links() {
    assert_eq!(angle("<@12>"), Some((Angle::User(12), 5)));
    assert_eq!(angle("<@!12>x"), Some((Angle::User(12), 6)));
    assert_eq!(angle("<@&3>"), Some((Angle::Role(3), 5)));
    assert_eq!(angle("<#4>"), Some((Angle::Channel(4), 4)));
    assert_eq!(
        angle("<a:party_1:5>"),
        Some((
            Angle::Emoji {
                name: "party_1",
                id: 5,
                animated: true
            },
            13
        ))
    );
    assert_eq!(
        angle("<https://x.y/a_b>"),
        Some((Angle::Url("https://x.y/a_b"), 17))
    );
    for literal in [
        "<b>",
        "<@x>",
        "<@ 1>",
        "<:bad name:1>",
        "<@123456789012345678901>",
        "<3",
        "<@1 <@2>",
    ] {
        assert_eq!(angle(literal), None, "{literal:?}");
    }
}

fn masked(src: &str) -> Option<(&str, &str, usize)> {
    masked_link(src, *closing_brackets(src).get(&0)?)
}

#[test]
fn masked_links_need_a_web_target() {
    assert_eq!(
        masked("[a [b] \\] c](https://x.y/(p)) tail"),
        Some(("a [b] \\] c", "https://x.y/(p)", 29))
    );
    assert_eq!(masked("[x](<https://x.y/a b>)"), None);
    assert_eq!(
        masked("[x](<https://x.y/ab>)"),
        Some(("x", "https://x.y/ab", 21))
    );
    for literal in [
        "[x](y)",
        "[](https://x.y)",
        "[x] (https://x.y)",
        "[x](https://x.y",
        "[x(https://x.y)",
    ] {
        assert_eq!(masked(literal), None, "{literal:?}");
    }
}
