//! Texts and captions with their entities, as the Bot API reads them (`get_formatted_text`,
//! `get_text_entity`) and TDLib checks them (`fix_formatted_text`): each entity an object
//! with an integer `offset` and `length` and a known `type` (with its `url`, `user`,
//! `custom_emoji_id` where the type needs one), within the text in UTF-16 code units and
//! not inside a surrogate pair; the text, once trimmed, non-empty (captions may be empty)
//! and within its length in characters.

use super::{required_int, required_object, required_string, string_field};
use serde_json::Value;

/// What is being checked: a message text or a media caption.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::telegram_bot) enum Kind {
    Text,
    Caption,
}

/// Checks `text` and its `entities` (the parsed JSON parameter, if any); the error is the
/// server's message (before `description` words it).
pub(in crate::telegram_bot) fn check(
    text: &str,
    entities: Option<&Value>,
    kind: Kind,
) -> Result<(), String> {
    if text.len() > super::TEXT_BYTES {
        return Err("Text is too long".into());
    }
    let spans = self::entities(entities).map_err(|e| format!("Can't parse MessageEntity: {e}"))?;
    check_spans(text, spans)?;
    let trimmed = text.trim();
    if trimmed.is_empty() && kind == Kind::Text {
        return Err("Text must be non-empty".into());
    }
    let (max, too_long) = match kind {
        Kind::Text => (super::MAX_TEXT, "Message is too long"),
        Kind::Caption => (super::MAX_CAPTION, "Message caption is too long"),
    };
    // TDLib counts characters (code points) of the trimmed text.
    if trimmed.chars().count() > max {
        return Err(too_long.into());
    }
    Ok(())
}

/// Every entity type of the documentation (`MessageEntity.type`); `entity` takes these
/// and `bank_card_number`, which the server also knows.
#[cfg(test)]
pub(in crate::telegram_bot) const ENTITY_TYPES: &[&str] = &[
    "mention",
    "hashtag",
    "cashtag",
    "bot_command",
    "url",
    "email",
    "phone_number",
    "bold",
    "italic",
    "underline",
    "strikethrough",
    "spoiler",
    "blockquote",
    "expandable_blockquote",
    "code",
    "pre",
    "text_link",
    "text_mention",
    "custom_emoji",
    "date_time",
];

/// The entities' `(offset, length)`, or the first one's error. The server ignores
/// `entities` that are not a JSON array.
pub(in crate::telegram_bot) fn entities(v: Option<&Value>) -> Result<Vec<(i64, i64)>, String> {
    let mut spans = Vec::new();
    for item in v.and_then(Value::as_array).into_iter().flatten() {
        spans.extend(entity(item)?);
    }
    Ok(spans)
}

/// One entity: its `(offset, length)`, or `None` for the types Telegram finds by itself
/// (mentions, hashtags, URLs…), which the server skips.
fn entity(v: &Value) -> Result<Option<(i64, i64)>, String> {
    let obj = v.as_object().ok_or("expected an Object")?;
    let offset = required_int(obj, "offset")?;
    let length = required_int(obj, "length")?;
    let kind = required_string(obj, "type")?;
    match kind.as_str() {
        "" => return Err("Type is not specified".into()),
        "bold"
        | "italic"
        | "underline"
        | "strikethrough"
        | "spoiler"
        | "code"
        | "blockquote"
        | "expandable_blockquote" => {}
        "pre" => drop(string_field(obj, "language")?),
        "text_link" => drop(required_string(obj, "url")?),
        "text_mention" => drop(required_int(required_object(obj, "user")?, "id")?),
        "custom_emoji" => drop(required_int(obj, "custom_emoji_id")?),
        "date_time" => {
            required_int(obj, "unix_time")?;
            let format = string_field(obj, "date_time_format")?.unwrap_or_default();
            let known = |c: char| matches!(c, 't' | 'T' | 'd' | 'D' | 'w' | 'W');
            if !(format == "r" || format == "R" || format.chars().all(known)) {
                return Err("Invalid date-time format specified".into());
            }
        }
        "mention" | "hashtag" | "cashtag" | "bot_command" | "url" | "email" | "phone_number"
        | "bank_card_number" => return Ok(None),
        _ => return Err("Unsupported type specified".into()),
    }
    Ok(Some((offset, length)))
}

/// The entities' bounds, in UTF-16 code units of `text`.
fn check_spans(text: &str, mut spans: Vec<(i64, i64)>) -> Result<(), String> {
    for &(offset, length) in &spans {
        if !(0..=1_000_000).contains(&offset) {
            return Err(format!("Receive an entity with incorrect offset {offset}"));
        }
        if !(0..=1_000_000).contains(&length) {
            return Err(format!("Receive an entity with incorrect length {length}"));
        }
    }
    spans.retain(|&(_, length)| length > 0);
    spans.sort_by_key(|&(offset, length)| (offset, -length));
    // Where each UTF-16 position falls: the byte offset of the character that ends there,
    // or `None` inside a surrogate pair.
    let mut boundaries = vec![Some(0usize)];
    for (at, c) in text.char_indices() {
        if c.len_utf16() == 2 {
            boundaries.push(None);
        }
        boundaries.push(Some(at + c.len_utf8()));
    }
    let units = (boundaries.len() - 1) as i64;
    // Inside a pair, TDLib notices at the next character, whose byte offset it reports.
    let next_byte = |pos: i64| boundaries.get(pos as usize + 1).copied().flatten();
    for &(offset, length) in &spans {
        let end = offset + length;
        if offset <= units && boundaries[offset as usize].is_none() {
            let at = next_byte(offset).unwrap_or(text.len());
            return Err(format!(
                "Entity begins in a middle of a UTF-16 symbol at byte offset {at}"
            ));
        }
        if end <= units && boundaries[end as usize].is_none() {
            let at = next_byte(end).unwrap_or(text.len());
            return Err(format!(
                "Entity beginning at UTF-16 offset {offset} ends in a middle of a UTF-16 symbol at byte offset {at}"
            ));
        }
    }
    if let Some(&(offset, _)) = spans.iter().find(|&&(offset, _)| offset > units) {
        return Err(format!(
            "Entity begins after the end of the text at UTF-16 offset {offset}"
        ));
    }
    if let Some(&(offset, length)) = spans.iter().find(|&&(o, l)| o + l > units) {
        return Err(format!(
            "Entity beginning at UTF-16 offset {offset} ends after the end of the text at UTF-16 offset {}",
            offset + length
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{Kind, check};
    use serde_json::json;

    fn err(text: &str, entities: serde_json::Value) -> String {
        check(text, Some(&entities), Kind::Text).expect_err("refused")
    }

    #[test]
    fn entities_stay_within_the_text_in_utf16_units() {
        let ok = json!([{"type": "bold", "offset": 0, "length": 4}, {"type": "url", "offset": 99, "length": 1}]);
        assert_eq!(check("a😀b", Some(&ok), Kind::Text), Ok(()));
        assert_eq!(
            err("abc", json!([{"type": "bold", "offset": 1, "length": 3}])),
            "Entity beginning at UTF-16 offset 1 ends after the end of the text at UTF-16 offset 4"
        );
        assert_eq!(
            err("abc", json!([{"type": "bold", "offset": 4, "length": 1}])),
            "Entity begins after the end of the text at UTF-16 offset 4"
        );
        assert_eq!(
            err("a😀b", json!([{"type": "bold", "offset": 2, "length": 1}])),
            "Entity begins in a middle of a UTF-16 symbol at byte offset 5"
        );
        assert_eq!(
            err("abc", json!([{"type": "bold", "offset": -1, "length": 1}])),
            "Receive an entity with incorrect offset -1"
        );
        assert_eq!(
            err(
                "abc",
                json!([{"type": "text_link", "offset": 0, "length": 1}])
            ),
            "Can't parse MessageEntity: Can't find field \"url\""
        );
        assert_eq!(
            err("abc", json!([{"type": "bold", "offset": "x", "length": 1}])),
            "Can't parse MessageEntity: Field \"offset\" must be a valid Number"
        );
        assert_eq!(
            err("abc", json!([{"type": "blink", "offset": 0, "length": 1}])),
            "Can't parse MessageEntity: Unsupported type specified"
        );
    }

    #[test]
    fn lengths_count_characters_of_the_trimmed_text() {
        let emoji = "😀".repeat(4096);
        assert_eq!(check(&emoji, None, Kind::Text), Ok(()));
        let long = format!("  {}  ", "x".repeat(4097));
        assert_eq!(
            check(&long, None, Kind::Text),
            Err("Message is too long".into())
        );
        assert_eq!(
            check(" \n ", None, Kind::Text),
            Err("Text must be non-empty".into())
        );
        assert_eq!(check("", None, Kind::Caption), Ok(()));
        let caption = "x".repeat(1025);
        assert_eq!(
            check(&caption, None, Kind::Caption),
            Err("Message caption is too long".into())
        );
    }
}
