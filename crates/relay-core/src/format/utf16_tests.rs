//! UTF-16 offsets against texts with astral characters (surrogate pairs), combining marks
//! and RTL script.

use super::*;
use proptest::prelude::*;

#[test]
fn astral_characters_count_two_units() {
    let text = "a😀b👍🏽c";
    assert_eq!(utf16_len(text), 1 + 2 + 1 + 4 + 1);
    assert_eq!(byte_to_utf16(text, 1), Some(1));
    assert_eq!(byte_to_utf16(text, 5), Some(3));
    assert_eq!(byte_to_utf16(text, 2), None);
    assert_eq!(utf16_to_byte(text, 3), Some(5));
    // Between the halves of 😀's surrogate pair.
    assert_eq!(utf16_to_byte(text, 2), None);
    assert_eq!(utf16_to_byte(text, 99), None);
    assert_eq!(utf16_to_byte(text, utf16_len(text)), Some(text.len()));
}

#[test]
fn rounding_inside_a_pair_goes_outward() {
    let text = "x😀y";
    let map = Utf16Map::new(text);
    assert_eq!(map.floor(2), 1);
    assert_eq!(map.ceil(2), 5);
    assert_eq!(map.ceil(100), text.len());
    assert_eq!(map.floor(100), text.len());
    assert_eq!(map.len_utf16(), 4);
    assert_eq!(Utf16Map::new("").ceil(3), 0);
}

#[test]
fn arabic_and_hebrew_are_one_unit_per_letter() {
    let text = "שלום مرحبا";
    assert_eq!(utf16_len(text), text.chars().count());
}

proptest! {
    #[test]
    fn every_char_boundary_converts_both_ways(text in "\\PC{0,40}") {
        let map = Utf16Map::new(&text);
        for (byte, _) in text.char_indices().chain([(text.len(), ' ')]) {
            let unit = byte_to_utf16(&text, byte).expect("a char boundary");
            prop_assert_eq!(utf16_to_byte(&text, unit), Some(byte));
            prop_assert_eq!(map.floor(unit), byte);
            prop_assert_eq!(map.ceil(unit), byte);
            prop_assert_eq!(map.to_utf16(byte), unit);
        }
    }
}
