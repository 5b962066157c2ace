//! Conversion between the UTF-8 byte offsets [`super::FormattedText`] uses and the UTF-16
//! code unit offsets Telegram uses. Exact on char boundaries; an offset that falls inside a
//! character (half a surrogate pair, the middle of a UTF-8 sequence) is either refused or
//! rounded outward, never a panic.

/// The length of `text` in UTF-16 code units.
pub fn utf16_len(text: &str) -> usize {
    text.chars().map(char::len_utf16).sum()
}

/// The UTF-16 offset of the byte offset `byte`, if it is a char boundary of `text`.
pub fn byte_to_utf16(text: &str, byte: usize) -> Option<usize> {
    text.is_char_boundary(byte)
        .then(|| utf16_len(&text[..byte]))
}

/// The byte offset of the UTF-16 offset `unit`, if it falls between characters of `text`
/// (not past its end, not between the halves of a surrogate pair).
pub fn utf16_to_byte(text: &str, unit: usize) -> Option<usize> {
    let map = Utf16Map::new(text);
    let byte = map.floor(unit);
    (map.to_utf16(byte) == unit).then_some(byte)
}

/// Both offsets of every char boundary of a text, for many look-ups.
pub(crate) struct Utf16Map {
    /// `(utf16, byte)` of each char start, then of the end.
    points: Vec<(usize, usize)>,
}

impl Utf16Map {
    pub(crate) fn new(text: &str) -> Self {
        let mut points = Vec::with_capacity(text.len() + 1);
        let mut unit = 0;
        for (byte, c) in text.char_indices() {
            points.push((unit, byte));
            unit += c.len_utf16();
        }
        points.push((unit, text.len()));
        Utf16Map { points }
    }

    pub(crate) fn len_utf16(&self) -> usize {
        self.points.last().map_or(0, |p| p.0)
    }

    /// The last char boundary at or before UTF-16 offset `unit` (clamped to the end).
    pub(crate) fn floor(&self, unit: usize) -> usize {
        let i = self.points.partition_point(|p| p.0 <= unit);
        self.points[i.saturating_sub(1)].1
    }

    /// The first char boundary at or after UTF-16 offset `unit` (clamped to the end).
    pub(crate) fn ceil(&self, unit: usize) -> usize {
        let i = self.points.partition_point(|p| p.0 < unit);
        self.points.get(i).or(self.points.last()).map_or(0, |p| p.1)
    }

    /// The UTF-16 offset of a byte offset (rounded down to a char boundary).
    pub(crate) fn to_utf16(&self, byte: usize) -> usize {
        let i = self.points.partition_point(|p| p.1 <= byte);
        self.points[i.saturating_sub(1)].0
    }
}

#[cfg(test)]
#[path = "utf16_tests.rs"]
mod tests;
