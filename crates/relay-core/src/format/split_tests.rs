//! Where long text is cut, what happens to spans and whitespace at a cut, and the platform
//! limits.

use super::*;
use crate::format::model::{Span, Style};

fn texts(parts: &[FormattedText]) -> Vec<&str> {
    parts.iter().map(|p| p.text.as_str()).collect()
}

#[test]
fn paragraphs_then_lines_then_words_then_anywhere() {
    let ft = FormattedText::plain("aaa bbb\nccc\n\nddd eee");
    assert_eq!(
        texts(&split(&ft, 14, Measure::Telegram)),
        ["aaa bbb\nccc", "ddd eee"]
    );
    assert_eq!(
        texts(&split(&ft, 9, Measure::Telegram)),
        ["aaa bbb", "ccc", "ddd eee"]
    );
    assert_eq!(
        texts(&split(&ft, 5, Measure::Telegram)),
        ["aaa", "bbb", "ccc", "ddd", "eee"]
    );
    let long = FormattedText::plain("abcdefghij");
    assert_eq!(
        texts(&split(&long, 4, Measure::Telegram)),
        ["abcd", "efgh", "ij"]
    );
}

#[test]
fn text_that_fits_is_one_part() {
    let ft = FormattedText::plain("  fits  ");
    assert_eq!(split(&ft, 100, Measure::Telegram), vec![ft.clone()]);
    let empty = FormattedText::plain("");
    assert_eq!(split(&empty, 10, Measure::Telegram), vec![empty.clone()]);
}

#[test]
fn hard_cuts_split_no_emoji_or_surrogate_pair() {
    // Each family emoji is 8 UTF-16 units; a limit of 9 fits one.
    let family = "👩\u{200D}👩\u{200D}👧";
    let ft = FormattedText::plain(family.repeat(3));
    let parts = split(&ft, 9, Measure::Telegram);
    assert_eq!(texts(&parts), [family; 3]);
    // A limit below one emoji still never splits a pair.
    for part in split(&FormattedText::plain("😀😀😀"), 3, Measure::Telegram) {
        assert_eq!(part.text, "😀");
    }
}

#[test]
fn spans_close_and_reopen_across_a_cut() {
    let text = "bold words here\n\nmore bold";
    let ft = FormattedText::new(text, vec![Span::new(0, text.len(), Style::Bold)]);
    let parts = split_discord_with(&ft, 20);
    assert_eq!(parts, ["**bold words here**", "**more bold**"]);
}

fn split_discord_with(ft: &FormattedText, limit: usize) -> Vec<String> {
    let options = DiscordOptions::default();
    split(ft, limit, Measure::Discord(options))
        .iter()
        .map(|p| to_discord_markdown(p, &options))
        .collect()
}

#[test]
fn code_blocks_reopen_with_their_language_and_keep_indentation() {
    let code = "fn main() {\n    let x = 1;\n    let y = 2;\n}";
    let ft = FormattedText::new(
        code,
        vec![Span::new(
            0,
            code.len(),
            Style::Pre {
                language: Some("rust".into()),
            },
        )],
    );
    let parts = split_discord_with(&ft, 40);
    assert_eq!(
        parts,
        [
            "```rust\nfn main() {\n    let x = 1;\n```",
            "```rust\n    let y = 2;\n}\n```",
        ]
    );
    assert!(parts.iter().all(|p| p.chars().count() <= 40));
}

#[test]
fn escapes_and_markers_count_for_discord() {
    // 30 literal asterisks are 60 characters escaped.
    let ft = FormattedText::plain("*".repeat(30));
    let parts = split_discord_with(&ft, 20);
    assert_eq!(parts.len(), 3);
    assert!(parts.iter().all(|p| p == &r"\*".repeat(10)));
}

#[test]
fn a_mention_is_not_cut_where_it_can_be_avoided() {
    let text = "hello Alice Smith";
    let mention = Style::Mention {
        target: crate::format::model::MentionTarget::TelegramUser { user_id: 1 },
    };
    let ft = FormattedText::new(text, vec![Span::new(6, 17, mention)]);
    assert_eq!(
        texts(&split(&ft, 14, Measure::Telegram)),
        ["hello", "Alice Smith"]
    );
}

#[test]
fn a_long_caption_continues_in_messages() {
    let ft = FormattedText::plain("word ".repeat(400));
    let parts = split_caption_telegram(&ft);
    assert_eq!(parts.len(), 2);
    assert!(utf16_len(&parts[0].0) <= TELEGRAM_CAPTION_LIMIT);
    assert!(parts[0].0.len() > 1000);
}

#[test]
fn a_ten_thousand_character_message_goes_out_in_order() {
    let paragraph =
        "Some **bold** text with a [link](https://example.com/a_b) and `code`, over and over. ";
    let markdown = (0..30)
        .map(|i| format!("{i}: {}\n\n", paragraph.repeat(6)))
        .collect::<String>();
    let ft = crate::format::from_discord_markdown(&markdown);
    assert!(ft.text.chars().count() > 9000);
    let discord = split_discord(&ft, &DiscordOptions::default());
    assert!(discord.len() >= 5);
    assert!(
        discord
            .iter()
            .all(|p| p.chars().count() <= DISCORD_MESSAGE_LIMIT)
    );
    let telegram = split_telegram(&ft);
    assert!(telegram.len() >= 3);
    assert!(
        telegram
            .iter()
            .all(|(t, _)| utf16_len(t) <= TELEGRAM_MESSAGE_LIMIT)
    );
    // In order, on paragraph breaks (each ". \n\n"), nothing lost but the breaks.
    let parts: Vec<&str> = telegram.iter().map(|(t, _)| t.as_str()).collect();
    assert!(parts.join(" \n\n") == ft.text, "parts are not the text");
    assert!(parts[1..].iter().all(|p| p.starts_with(char::is_numeric)));
}
