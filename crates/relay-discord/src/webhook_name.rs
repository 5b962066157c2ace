//! A source author's name as a Discord webhook name: Discord refuses some words and
//! characters in it (and the whole send with them), so they are swapped for look-alikes.

/// Words Discord refuses in a webhook's name, in any case, each with the position of the
/// letter that is swapped for a look-alike so the name still reads the same.
const REFUSED_WORDS: [(&str, usize); 4] =
    [("discord", 1), ("clyde", 4), ("everyone", 0), ("here", 1)];

/// A Cyrillic letter that looks like the Latin one.
fn look_alike(c: char) -> char {
    match c {
        'i' => '\u{456}',
        'I' => '\u{406}',
        'e' => '\u{435}',
        'E' => '\u{415}',
        other => other,
    }
}

/// The source author's name as a webhook name Discord takes: 1 to 80 characters, none of
/// the words it refuses (any case), and no `@`, `#`, `:` or backticks (full-width and
/// modifier look-alikes instead), so a Telegram user called "Discord fan" or "Theresa"
/// does not make the send fail.
pub(crate) fn webhook_username(name: &str) -> String {
    let mut chars: Vec<char> = name
        .chars()
        .map(|c| match c {
            '@' => '\u{FF20}',
            '#' => '\u{FF03}',
            ':' => '\u{FF1A}',
            '`' => '\u{2CB}',
            c => c,
        })
        .collect();
    // Each swap turns an ASCII letter into a non-ASCII one, so this ends.
    'words: loop {
        for (word, at) in REFUSED_WORDS {
            let word: Vec<char> = word.chars().collect();
            let found = chars.windows(word.len()).position(|window| {
                window
                    .iter()
                    .zip(&word)
                    .all(|(c, w)| c.to_ascii_lowercase() == *w)
            });
            if let Some(start) = found {
                chars[start + at] = look_alike(chars[start + at]);
                continue 'words;
            }
        }
        break;
    }
    let cleaned: String = chars.into_iter().take(80).collect();
    if cleaned.trim().is_empty() {
        "Relay".into()
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests {
    use super::webhook_username;

    #[test]
    fn refused_words_in_any_case_and_refused_characters_are_swapped_for_look_alikes() {
        for name in [
            "Discord fan",
            "CLYDE",
            "Theresa",
            "@everyone here",
            "dIsCoRd DISCORD discord",
            "a:b#c@d```e",
            "EVERYONE",
            "clydediscordhereeveryone",
        ] {
            let cleaned = webhook_username(name);
            let lower = cleaned.to_lowercase();
            for word in ["discord", "clyde", "everyone", "here"] {
                assert!(
                    !lower.contains(word),
                    "{name:?} -> {cleaned:?} contains {word}"
                );
            }
            assert!(
                !cleaned.contains(['@', '#', ':']) && !cleaned.contains("```"),
                "{name:?} -> {cleaned:?}"
            );
            assert_eq!(cleaned.chars().count(), name.chars().count(), "{name:?}");
        }
    }

    #[test]
    fn ordinary_names_stay_as_they_are_and_empty_ones_become_relay() {
        assert_eq!(webhook_username("Bob (Telegram)"), "Bob (Telegram)");
        assert_eq!(webhook_username("Алиса"), "Алиса");
        assert_eq!(webhook_username("   "), "Relay");
        assert_eq!(webhook_username(&"x".repeat(100)).chars().count(), 80);
    }
}
