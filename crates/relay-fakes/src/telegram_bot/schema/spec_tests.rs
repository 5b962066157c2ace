//! Holds the fake Bot API's limits and lists to the Bot API as JSON: always to the copy in
//! `specs/telegram-bot-api.extract.json`, and that copy to the full description in
//! `../shared/specs/` when it is there (`RELAY_SPECS_DIR` points elsewhere;
//! `RELAY_WRITE_SPEC_EXTRACTS=1` rewrites the copy from it).

use super::input::ALBUM_KINDS;
use super::text::ENTITY_TYPES;
use super::{ALBUM_MAX, ALBUM_MIN, MAX_CAPTION, MAX_TEXT, UPDATES_LIMIT};
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

const EXTRACT: &str = "telegram-bot-api.extract.json";

/// The methods the fake serves.
pub(crate) const METHODS: &[&str] = &[
    "getMe",
    "getUpdates",
    "getFile",
    "sendMessage",
    "sendPhoto",
    "sendVideo",
    "sendDocument",
    "sendVoice",
    "sendSticker",
    "sendMediaGroup",
    "copyMessage",
    "editMessageText",
    "editMessageCaption",
    "deleteMessage",
];

/// The types their parameters use that the fake reads.
const TYPES: &[&str] = &[
    "ReplyParameters",
    "MessageEntity",
    "InputMediaAnimation",
    "InputMediaAudio",
    "InputMediaDocument",
    "InputMediaLivePhoto",
    "InputMediaPhoto",
    "InputMediaVideo",
];

fn committed() -> Value {
    crate::spec_extracts::committed(EXTRACT)
}

fn extract(full: &Value) -> Value {
    let pick = |kind: &str, names: &[&str]| -> Map<String, Value> {
        names
            .iter()
            .map(|n| ((*n).to_owned(), full[kind][*n].clone()))
            .collect()
    };
    json!({
        "source": "PaulSonOfLars/telegram-bot-api-spec (MIT, see telegram-bot-api.LICENSE): only the methods the fake Bot API serves and the parameter types it reads",
        "version": full["version"],
        "release_date": full["release_date"],
        "methods": pick("methods", METHODS),
        "types": pick("types", TYPES),
    })
}

#[test]
fn the_extract_matches_the_full_description_when_present() {
    crate::spec_extracts::check_against_full("telegram-bot-api.json", EXTRACT, extract);
}

/// A parameter of a method (or a field of a type) in the extract.
fn field(spec: &Value, kind: &str, owner: &str, name: &str) -> Value {
    let fields = spec[kind][owner]["fields"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let found = fields.into_iter().find(|f| f["name"] == name);
    found.unwrap_or_else(|| panic!("{owner} has no {name}"))
}

fn says(spec: &Value, kind: &str, owner: &str, name: &str, words: &str) {
    let description = field(spec, kind, owner, name)["description"].clone();
    let text = description.as_str().unwrap_or_default();
    assert!(
        text.contains(words),
        "{owner}.{name} does not say {words:?}: {text}"
    );
}

#[test]
fn the_documented_limits_are_the_fakes() {
    let spec = committed();
    says(
        &spec,
        "methods",
        "getUpdates",
        "limit",
        &format!("between 1-{UPDATES_LIMIT}"),
    );
    for method in ["sendMessage", "editMessageText"] {
        says(
            &spec,
            "methods",
            method,
            "text",
            &format!("1-{MAX_TEXT} characters"),
        );
    }
    let caption = format!("0-{MAX_CAPTION} characters");
    for method in [
        "sendPhoto",
        "sendVideo",
        "sendDocument",
        "sendVoice",
        "copyMessage",
    ] {
        says(&spec, "methods", method, "caption", &caption);
    }
    for media in [
        "InputMediaAudio",
        "InputMediaDocument",
        "InputMediaPhoto",
        "InputMediaVideo",
    ] {
        says(&spec, "types", media, "caption", &caption);
    }
    let album = format!("{ALBUM_MIN}-{ALBUM_MAX} items");
    says(&spec, "methods", "sendMediaGroup", "media", &album);
}

#[test]
fn parameter_types_and_lists_are_the_documented_ones() {
    let spec = committed();
    let message_id = field(&spec, "types", "ReplyParameters", "message_id");
    assert_eq!(message_id["types"], json!(["Integer"]));
    assert_eq!(message_id["required"], json!(true));
    for name in ["offset", "length"] {
        let f = field(&spec, "types", "MessageEntity", name);
        assert_eq!(
            (f["types"].clone(), f["required"].clone()),
            (json!(["Integer"]), json!(true))
        );
    }
    for method in METHODS {
        let fields = spec["methods"][*method]["fields"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if let Some(chat) = fields.iter().find(|f| f["name"] == "chat_id") {
            assert_eq!(chat["types"], json!(["Integer", "String"]), "{method}");
        }
    }
    let described = field(&spec, "types", "MessageEntity", "type")["description"].clone();
    let quoted: BTreeSet<&str> = described
        .as_str()
        .unwrap_or_default()
        .split('"')
        .skip(1)
        .step_by(2)
        .filter(|w| w.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        .collect();
    assert_eq!(quoted, ENTITY_TYPES.iter().copied().collect());
    let media = field(&spec, "methods", "sendMediaGroup", "media")["types"].clone();
    let kinds: BTreeSet<String> = media
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t.as_str()?.strip_prefix("Array of InputMedia"))
        .map(|t| match t {
            "LivePhoto" => "live_photo".to_owned(),
            other => other.to_ascii_lowercase(),
        })
        .collect();
    let ours: BTreeSet<String> = ALBUM_KINDS.iter().map(|k| (*k).to_owned()).collect();
    assert_eq!(kinds, ours);
}
