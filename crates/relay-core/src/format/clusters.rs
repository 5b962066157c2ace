//! Where text may be cut without breaking what a reader sees as one character: not before a
//! combining mark, variation selector, skin-tone modifier or zero-width joiner, not after a
//! joiner, not between the two halves of a flag or of `\r\n`. A few ranges rather than the
//! full Unicode segmentation tables; it covers emoji sequences, Latin, Hebrew and Arabic marks.

const ZWJ: char = '\u{200D}';

/// Whether `c` attaches to the character before it.
pub(crate) fn is_extender(c: char) -> bool {
    matches!(c,
        '\u{0300}'..='\u{036F}'   // combining diacritical marks
        | '\u{0483}'..='\u{0489}' // Cyrillic
        | '\u{0591}'..='\u{05BD}' // Hebrew points and accents
        | '\u{05BF}' | '\u{05C1}'..='\u{05C2}' | '\u{05C4}'..='\u{05C5}' | '\u{05C7}'
        | '\u{0610}'..='\u{061A}' // Arabic
        | '\u{064B}'..='\u{065F}'
        | '\u{0670}'
        | '\u{06D6}'..='\u{06DC}' | '\u{06DF}'..='\u{06E4}' | '\u{06E7}'..='\u{06E8}'
        | '\u{06EA}'..='\u{06ED}'
        | '\u{0900}'..='\u{0903}' | '\u{093A}'..='\u{094F}' // Devanagari signs and vowels
        | '\u{1AB0}'..='\u{1AFF}'
        | '\u{1DC0}'..='\u{1DFF}'
        | '\u{200C}'..='\u{200D}' // zero-width non-joiner and joiner
        | '\u{20D0}'..='\u{20FF}' // combining marks for symbols, the keycap
        | '\u{FE00}'..='\u{FE0F}' // variation selectors
        | '\u{FE20}'..='\u{FE2F}'
        | '\u{1F3FB}'..='\u{1F3FF}' // skin tones
        | '\u{E0020}'..='\u{E007F}' // tags (subdivision flags)
        | '\u{E0100}'..='\u{E01EF}'
    )
}

fn is_regional_indicator(c: char) -> bool {
    ('\u{1F1E6}'..='\u{1F1FF}').contains(&c)
}

/// Whether `text` may be cut at byte offset `at` without splitting a character or a
/// grapheme-ish cluster. The ends are always cuttable.
pub(crate) fn can_cut(text: &str, at: usize) -> bool {
    if at == 0 || at >= text.len() {
        return at <= text.len();
    }
    if !text.is_char_boundary(at) {
        return false;
    }
    let (before, after) = text.split_at(at);
    let (Some(prev), Some(next)) = (before.chars().next_back(), after.chars().next()) else {
        return true;
    };
    if is_extender(next) || prev == ZWJ || (prev == '\r' && next == '\n') {
        return false;
    }
    if is_regional_indicator(prev) && is_regional_indicator(next) {
        // Indicators pair up from the start of their run: cut only after an even count.
        let run = before
            .chars()
            .rev()
            .take_while(|c| is_regional_indicator(*c))
            .count();
        return run % 2 == 0;
    }
    true
}

/// The last cuttable offset in `from + 1 ..= at`, if there is one.
pub(crate) fn floor_cut(text: &str, from: usize, at: usize) -> Option<usize> {
    let mut at = text.floor_char_boundary(at.min(text.len()));
    while at > from {
        if can_cut(text, at) {
            return Some(at);
        }
        at = text.floor_char_boundary(at - 1);
    }
    None
}

#[cfg(test)]
#[path = "clusters_tests.rs"]
mod tests;
