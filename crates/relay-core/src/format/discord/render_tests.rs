//! Discord markdown from the neutral form: markers, fences, links, mentions and what falls
//! back to text.

use super::*;
use crate::format::model::{CustomEmoji, MentionTarget};

fn md(text: &str, spans: &[(usize, usize, Style)]) -> String {
    let spans = spans
        .iter()
        .map(|(s, e, st)| Span::new(*s, *e, st.clone()))
        .collect();
    to_discord_markdown(&FormattedText::new(text, spans), &DiscordOptions::default())
}

#[test]
fn italic_takes_underscores_unless_a_word_or_link_touches_it() {
    assert_eq!(md("a b c", &[(2, 3, Style::Italic)]), "a _b_ c");
    assert_eq!(md("abc", &[(1, 2, Style::Italic)]), "a*b*c");
    assert_eq!(
        md("see https://x.y", &[(4, 15, Style::Italic)]),
        "see *https://x.y*"
    );
}

#[test]
fn code_fences_fit_the_content() {
    assert_eq!(md("a`b", &[(0, 3, Style::Code)]), "``a`b``");
    assert_eq!(md("`x`", &[(0, 3, Style::Code)]), "`` `x` ``");
    // Two backticks in a row would need a fence of three: shown as text.
    assert_eq!(md("a``b", &[(0, 4, Style::Code)]), r"a\`\`b");
    let pre = |l: Option<&str>| Style::Pre {
        language: l.map(str::to_owned),
    };
    assert_eq!(md("x = 1", &[(0, 5, pre(Some("py")))]), "```py\nx = 1\n```");
    assert_eq!(
        md("x = 1", &[(0, 5, pre(Some("plain text")))]),
        "```\nx = 1\n```"
    );
    assert_eq!(md("a```b", &[(0, 5, pre(None))]), r"a\`\`\`b");
    // Inline code right before a code block cannot end its fence.
    assert_eq!(
        md("ab", &[(0, 1, Style::Code), (1, 2, pre(None))]),
        "a```\nb\n```"
    );
}

#[test]
fn links_are_masked_when_discord_can_show_them() {
    let link = |url: &str| Style::TextLink {
        url: url.to_owned(),
    };
    assert_eq!(
        md("docs", &[(0, 4, link("https://x.y/a b"))]),
        "[docs](https://x.y/a%20b)"
    );
    assert_eq!(
        md("docs", &[(0, 4, link("https://x.y/a)"))]),
        "[docs](https://x.y/a%29)"
    );
    assert_eq!(
        md("[1]", &[(0, 3, link("https://x.y"))]),
        r"[\[1\]](https://x.y)"
    );
    assert_eq!(md("docs", &[(0, 4, link("tg://resolve?domain=x"))]), "docs");
    assert_eq!(
        md("https://x.y", &[(0, 11, link("https://x.y"))]),
        "https://x.y"
    );
}

#[test]
fn mentions_and_emoji_are_names_unless_live() {
    let ft = FormattedText::new(
        "hi @alice :blob:!",
        vec![
            Span::new(
                3,
                9,
                Style::Mention {
                    target: MentionTarget::DiscordUser { user_id: 7 },
                },
            ),
            Span::new(3, 17, Style::Bold),
            Span::new(
                10,
                16,
                Style::CustomEmoji {
                    emoji: CustomEmoji::Discord {
                        id: 8,
                        name: "blob".into(),
                        animated: true,
                    },
                },
            ),
        ],
    );
    assert_eq!(
        to_discord_markdown(&ft, &DiscordOptions::default()),
        "hi **@alice :blob:!**"
    );
    assert_eq!(
        to_discord_markdown(&ft, &DiscordOptions::LIVE),
        "hi **<@7> <a:blob:8>!**"
    );
    let telegram = FormattedText::new(
        "Alice",
        vec![Span::new(
            0,
            5,
            Style::Mention {
                target: MentionTarget::TelegramUser { user_id: 1 },
            },
        )],
    );
    assert_eq!(
        to_discord_markdown(&telegram, &DiscordOptions::LIVE),
        "Alice"
    );
}

#[test]
fn quotes_prefix_every_line_including_code() {
    let quote = Style::Blockquote { expandable: false };
    assert_eq!(
        md(
            "look:\nfn x\ny\nend",
            &[
                (6, 12, quote),
                (
                    6,
                    12,
                    Style::Pre {
                        language: Some("rs".into())
                    }
                )
            ]
        ),
        "look:\n> ```rs\n> fn x\n> y\n> ```\nend"
    );
}

#[test]
fn escapes_look_past_text_shown_without_markers() {
    // `<` then a mention shown as its name `#2>`: together they would read as a channel.
    let mention = Style::Mention {
        target: MentionTarget::TelegramUsername {
            username: "x".into(),
        },
    };
    assert_eq!(md("<#2>", &[(1, 3, mention)]), r"\<#2>");
    // A two-byte space before an italic.
    assert_eq!(md("\u{85}x", &[(0, 3, Style::Italic)]), "\u{85}_x_");
}
