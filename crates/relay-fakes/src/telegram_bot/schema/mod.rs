//! The Bot API's checks of a call's parameters, as the Bot API server
//! (tdlib/telegram-bot-api, `Client.cpp`) and TDLib make them, with their error texts: JSON
//! objects (`reply_parameters`, `entities`, `media`) and their field types, texts and
//! captions with their entities and lengths, albums. The methods, their parameters and the
//! documented limits are those of `specs/telegram-bot-api.extract.json`; `spec_tests` holds
//! the constants here to it (and it to `../shared/specs/` when that is present).
//!
//! Two limits are enforced as documented where the server is more lenient, and the error
//! says so: `getUpdates` `limit` (1 to 100; the server clamps other values) and albums of
//! one item (2 to 10; the server sends one item as an album of one).

pub(super) mod input;
#[cfg(test)]
mod spec_tests;
pub(super) mod text;

use super::params::fail;
use axum::response::Response;
use serde_json::{Map, Value};

/// `text`: 1 to 4096 characters after entities parsing.
pub(super) const MAX_TEXT: usize = 4096;
/// `caption`: 0 to 1024 characters after entities parsing.
pub(super) const MAX_CAPTION: usize = 1024;
/// `sendMediaGroup` `media`: 2 to 10 items.
pub(super) const ALBUM_MIN: usize = 2;
pub(super) const ALBUM_MAX: usize = 10;
/// `getUpdates` `limit`: 1 to 100.
pub(super) const UPDATES_LIMIT: i64 = 100;
/// The longest text the server reads at all, in bytes (not in the documentation).
pub(super) const TEXT_BYTES: usize = 1 << 15;

/// A description as the Bot API server words an error message: its first letter in lower
/// case unless the message is a code (`MESSAGE_ID_INVALID`).
pub(super) fn description(message: &str) -> String {
    let mut chars = message.chars();
    let Some(first) = chars.next() else {
        return String::new();
    };
    let second = message.chars().nth(1);
    if second.is_some_and(|c| c == '_' || c.is_ascii_uppercase()) {
        message.to_owned()
    } else {
        first.to_lowercase().chain(chars).collect()
    }
}

/// 400 `Bad Request: <message>`, worded as the server words it.
pub(super) fn refuse(message: &str) -> Response {
    fail(400, &format!("Bad Request: {}", description(message)))
}

/// TDLib's error for a required field that is not there.
fn field_missing(name: &str) -> String {
    format!("Can't find field \"{name}\"")
}

/// An integer field (a number, or a string holding one), as TDLib reads `int32`/`int64`.
pub(super) fn int_field(obj: &Map<String, Value>, name: &str) -> Result<Option<i64>, String> {
    let text = match obj.get(name) {
        None => return Ok(None),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(_) => return Err(format!("Field \"{name}\" must be a Number")),
    };
    text.parse::<i64>()
        .map(Some)
        .map_err(|_| format!("Field \"{name}\" must be a valid Number"))
}

pub(super) fn required_int(obj: &Map<String, Value>, name: &str) -> Result<i64, String> {
    int_field(obj, name)?.ok_or_else(|| field_missing(name))
}

/// A string field (numbers are read as their text).
pub(super) fn string_field(obj: &Map<String, Value>, name: &str) -> Result<Option<String>, String> {
    match obj.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(format!("Field \"{name}\" must be of type String")),
    }
}

pub(super) fn required_string(obj: &Map<String, Value>, name: &str) -> Result<String, String> {
    string_field(obj, name)?.ok_or_else(|| field_missing(name))
}

pub(super) fn bool_field(obj: &Map<String, Value>, name: &str) -> Result<bool, String> {
    match obj.get(name) {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(format!("Field \"{name}\" must be of type Boolean")),
    }
}

pub(super) fn required_object<'a>(
    obj: &'a Map<String, Value>,
    name: &str,
) -> Result<&'a Map<String, Value>, String> {
    match obj.get(name) {
        None => Err(field_missing(name)),
        Some(Value::Object(o)) => Ok(o),
        Some(_) => Err(format!("Field \"{name}\" must be of type Object")),
    }
}

#[cfg(test)]
mod tests {
    use super::description;

    #[test]
    fn descriptions_start_in_lower_case_unless_they_are_codes() {
        assert_eq!(
            description("Message text is empty"),
            "message text is empty"
        );
        assert_eq!(description("MESSAGE_ID_INVALID"), "MESSAGE_ID_INVALID");
        assert_eq!(
            description("Field \"message_id\" must be a valid Number"),
            "field \"message_id\" must be a valid Number"
        );
    }
}
