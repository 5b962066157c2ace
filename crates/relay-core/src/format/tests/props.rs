//! Property tests: the converters and the splitter never panic; output is canonical;
//! Telegram → Discord → Telegram keeps the text and the styles both sides have; literal text
//! survives Discord's markdown; every split part fits and the parts are the text.

use super::meaning::discord_meaning;
use super::strategies::{formatted, telegram, text};
use crate::format::*;
use proptest::prelude::*;

/// Spans inside the text, on char boundaries, non-empty, and a fixed point of normalizing.
fn assert_canonical(ft: &FormattedText) -> Result<(), TestCaseError> {
    for s in &ft.spans {
        prop_assert!(
            s.start < s.end && s.end <= ft.text.len(),
            "{s:?} in {:?}",
            ft.text
        );
        prop_assert!(ft.text.is_char_boundary(s.start) && ft.text.is_char_boundary(s.end));
    }
    prop_assert_eq!(&ft.normalized(), ft);
    Ok(())
}

/// The parts are the text, in order, with only whitespace between them (and after).
fn assert_parts_are_the_text(text: &str, parts: &[&str]) -> Result<(), TestCaseError> {
    let mut pos = 0;
    for (i, part) in parts.iter().enumerate() {
        let found = text[pos..].find(part).map(|n| pos + n);
        prop_assert!(
            found.is_some(),
            "part {i} {part:?} not found after {pos} in {text:?}"
        );
        let at = found.unwrap_or(pos);
        prop_assert!(
            text[pos..at].chars().all(char::is_whitespace),
            "part {i} {part:?}: {:?} dropped before it",
            &text[pos..at]
        );
        if i > 0 || parts.len() > 1 {
            prop_assert!(
                !part.trim().is_empty() || text.trim().is_empty(),
                "part {i} is blank"
            );
        }
        pos = at + part.len();
    }
    prop_assert!(
        text[pos..].chars().all(char::is_whitespace),
        "{:?} left over",
        &text[pos..]
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn telegram_input_never_panics_and_is_canonical((text, entities) in telegram()) {
        let ft = from_telegram(&text, &entities);
        prop_assert_eq!(&ft.text, &text);
        assert_canonical(&ft)?;
        // Telegram → Telegram is exact once canonical.
        let (again_text, again_entities) = to_telegram(&ft);
        prop_assert_eq!(from_telegram(&again_text, &again_entities), ft);
    }

    #[test]
    fn any_spans_render_without_panicking(ft in formatted()) {
        let canonical = ft.normalized();
        assert_canonical(&canonical)?;
        let (text, _) = to_telegram(&ft);
        prop_assert_eq!(text, ft.text.clone());
        to_discord_markdown(&ft, &DiscordOptions::default());
        to_discord_markdown(&ft, &DiscordOptions::LIVE);
    }

    #[test]
    fn any_markdown_parses_without_panicking(md in text()) {
        assert_canonical(&from_discord_markdown(&md))?;
    }

    #[test]
    fn plain_text_survives_discord_markdown(text in text()) {
        let plain = FormattedText::plain(text.clone());
        let md = to_discord_markdown(&plain, &DiscordOptions::default());
        prop_assert_eq!(from_discord_markdown(&md), plain, "rendered as {:?}", md);
    }

    #[test]
    fn telegram_to_discord_to_telegram_keeps_the_meaning((text, entities) in telegram()) {
        let ft = from_telegram(&text, &entities);
        let md = to_discord_markdown(&ft, &DiscordOptions::default());
        let back = from_discord_markdown(&md);
        prop_assert_eq!(&back.text, &text, "rendered as {:?}", md);
        prop_assert_eq!(back, discord_meaning(&ft), "rendered as {:?}", md);
    }

    #[test]
    fn any_spans_come_back_from_discord(ft in formatted()) {
        let md = to_discord_markdown(&ft, &DiscordOptions::default());
        let back = from_discord_markdown(&md);
        prop_assert_eq!(back, discord_meaning(&ft), "rendered as {:?}", md);
    }

    #[test]
    fn telegram_parts_fit_and_are_the_text((text, entities) in telegram(), limit in 2usize..120) {
        let ft = from_telegram(&text, &entities);
        let parts = split(&ft, limit, Measure::Telegram);
        for part in &parts {
            prop_assert!(utf16_len(&part.text) <= limit, "{:?} over {limit}", part.text);
            assert_canonical(part)?;
        }
        let texts: Vec<&str> = parts.iter().map(|p| p.text.as_str()).collect();
        assert_parts_are_the_text(&text, &texts)?;
    }

    #[test]
    fn discord_parts_fit_and_are_the_text(ft in formatted(), limit in 2usize..160) {
        let options = DiscordOptions::default();
        let parts = split(&ft, limit, Measure::Discord(options));
        for part in &parts {
            let md = to_discord_markdown(part, &options);
            prop_assert!(md.chars().count() <= limit, "{md:?} over {limit}");
        }
        let texts: Vec<&str> = parts.iter().map(|p| p.text.as_str()).collect();
        assert_parts_are_the_text(&ft.text, &texts)?;
    }
}
