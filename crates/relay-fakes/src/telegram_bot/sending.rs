//! The sending methods: text, media, albums, copies, edits and deletes, with the Bot API's
//! limits and error descriptions.

use super::FakeBotApi;
use super::params::{MAX_CAPTION, MAX_TEXT, MAX_UPLOAD, Params, bad, fail, ok};
use super::state::State;
use axum::response::Response;
use serde_json::{Value, json};

pub(super) enum Kind {
    Text,
    Media(&'static str),
}

/// The chat a bot may send to, or the Bot API's error.
pub(super) fn target(state: &State, bot_id: i64, params: &Params) -> Result<i64, Response> {
    let chat_id = params
        .int("chat_id")
        .ok_or_else(|| bad("chat_id is empty"))?;
    let chat = state
        .chats
        .get(&chat_id)
        .ok_or_else(|| bad("chat not found"))?;
    if !chat.bots.contains(&bot_id) {
        let kind = if chat.kind == "channel" {
            "channel"
        } else {
            "group"
        };
        return Err(fail(
            403,
            &format!("Forbidden: bot is not a member of the {kind} chat"),
        ));
    }
    Ok(chat_id)
}

pub(super) fn utf16_len(text: &str) -> usize {
    text.encode_utf16().count()
}

/// A media object as the Bot API describes one, for a file of `size` bytes.
pub(super) fn media_object(kind: &str, file_id: &str, size: usize, file_name: &str) -> Value {
    let base =
        json!({"file_id": file_id, "file_unique_id": format!("u{file_id}"), "file_size": size});
    match kind {
        "photo" => {
            json!([{"file_id": file_id, "file_unique_id": format!("u{file_id}"), "file_size": size, "width": 1280, "height": 720}])
        }
        "video" => {
            json!({"file_id": file_id, "file_unique_id": format!("u{file_id}"), "file_size": size, "width": 1280, "height": 720, "duration": 1})
        }
        "voice" => {
            json!({"file_id": file_id, "file_unique_id": format!("u{file_id}"), "file_size": size, "duration": 1})
        }
        "sticker" => {
            json!({"file_id": file_id, "file_unique_id": format!("u{file_id}"), "file_size": size, "type": "regular",
                            "width": 512, "height": 512, "is_animated": false, "is_video": false})
        }
        _ => {
            let mut doc = base;
            doc["file_name"] = json!(file_name);
            doc
        }
    }
}

/// Resolves a media parameter: an uploaded file (by field name or `attach://name`) or an
/// existing file id.
pub(super) fn media_file(
    state: &mut State,
    params: &Params,
    reference: &str,
) -> Result<(String, usize, String), Response> {
    let field = reference.strip_prefix("attach://").unwrap_or(reference);
    if let Some((filename, bytes)) = params.files.get(field) {
        if bytes.len() > MAX_UPLOAD {
            return Err(fail(413, "Request Entity Too Large"));
        }
        let size = bytes.len();
        let id = state.file_id(bytes.clone());
        return Ok((id, size, filename.clone()));
    }
    match state.files.get(reference) {
        Some(bytes) => Ok((reference.to_owned(), bytes.len(), "file".into())),
        None => Err(bad("wrong file identifier/HTTP URL specified")),
    }
}

pub(super) fn reply_to(
    state: &State,
    chat_id: i64,
    params: &Params,
) -> Result<Option<Value>, Response> {
    let id = params
        .json("reply_parameters")
        .and_then(|r| r["message_id"].as_i64())
        .or_else(|| params.int("reply_to_message_id"));
    match id {
        None => Ok(None),
        Some(id) => state
            .find(chat_id, id)
            .cloned()
            .map(Some)
            .ok_or_else(|| bad("message to be replied not found")),
    }
}

pub(super) fn send(fake: &FakeBotApi, bot_id: i64, params: &Params, kind: Kind) -> Response {
    let mut state = fake.state();
    let chat_id = match target(&state, bot_id, params) {
        Ok(c) => c,
        Err(e) => return e,
    };
    let mut content = json!({});
    match kind {
        Kind::Text => {
            let text = params.str("text").unwrap_or_default();
            if text.trim().is_empty() {
                return bad("message text is empty");
            }
            if utf16_len(&text) > MAX_TEXT {
                return bad("message is too long");
            }
            content["text"] = json!(text);
            if let Some(entities) = params.json("entities") {
                content["entities"] = entities;
            }
        }
        Kind::Media(field) => {
            let Some(reference) = params
                .str(field)
                .or_else(|| params.files.contains_key(field).then(|| field.to_owned()))
            else {
                return bad(&format!("there is no {field} in the request"));
            };
            let caption = params.str("caption").unwrap_or_default();
            if utf16_len(&caption) > MAX_CAPTION {
                return bad("message caption is too long");
            }
            let (file_id, size, filename) = match media_file(&mut state, params, &reference) {
                Ok(f) => f,
                Err(e) => return e,
            };
            content[field] = media_object(field, &file_id, size, &filename);
            if !caption.is_empty() {
                content["caption"] = json!(caption);
                if let Some(entities) = params.json("caption_entities") {
                    content["caption_entities"] = entities;
                }
            }
        }
    }
    match reply_to(&state, chat_id, params) {
        Ok(Some(original)) => content["reply_to_message"] = original,
        Ok(None) => {}
        Err(e) => return e,
    }
    let from = state.bot_user(bot_id);
    match state.store(chat_id, from, content, Some(bot_id)) {
        Some(message) => ok(message),
        None => bad("chat not found"),
    }
}

pub(super) fn send_media_group(fake: &FakeBotApi, bot_id: i64, params: &Params) -> Response {
    let mut state = fake.state();
    let chat_id = match target(&state, bot_id, params) {
        Ok(c) => c,
        Err(e) => return e,
    };
    let Some(Value::Array(items)) = params.json("media") else {
        return bad("media is required");
    };
    if items.len() < 2 || items.len() > 10 {
        return bad("wrong number of media in the group: send 2 to 10 items");
    }
    let mut prepared = Vec::new();
    for item in &items {
        let kind = item["type"].as_str().unwrap_or_default();
        if !matches!(kind, "photo" | "video" | "document" | "audio") {
            return bad("unsupported media type in the group");
        }
        let caption = item["caption"].as_str().unwrap_or_default();
        if utf16_len(caption) > MAX_CAPTION {
            return bad("message caption is too long");
        }
        let reference = item["media"].as_str().unwrap_or_default();
        let (file_id, size, filename) = match media_file(&mut state, params, reference) {
            Ok(f) => f,
            Err(e) => return e,
        };
        let mut content = json!({});
        content[kind] = media_object(kind, &file_id, size, &filename);
        if !caption.is_empty() {
            content["caption"] = json!(caption);
        }
        prepared.push(content);
    }
    state.next_group_id += 1;
    let group = format!("album{}", state.next_group_id);
    let from = state.bot_user(bot_id);
    let mut sent = Vec::new();
    for mut content in prepared {
        content["media_group_id"] = json!(group);
        if let Some(m) = state.store(chat_id, from.clone(), content, Some(bot_id)) {
            sent.push(m);
        }
    }
    ok(Value::Array(sent))
}

pub(super) fn copy_message(fake: &FakeBotApi, bot_id: i64, params: &Params) -> Response {
    let mut state = fake.state();
    let chat_id = match target(&state, bot_id, params) {
        Ok(c) => c,
        Err(e) => return e,
    };
    let (Some(from_chat), Some(message_id)) =
        (params.int("from_chat_id"), params.int("message_id"))
    else {
        return bad("from_chat_id and message_id are required");
    };
    let Some(original) = state.find(from_chat, message_id).cloned() else {
        return bad("message to copy not found");
    };
    let mut content = json!({});
    for key in [
        "text",
        "entities",
        "caption",
        "caption_entities",
        "photo",
        "video",
        "document",
        "voice",
        "sticker",
        "audio",
    ] {
        if let Some(v) = original.get(key) {
            content[key] = v.clone();
        }
    }
    let from = state.bot_user(bot_id);
    match state.store(chat_id, from, content, Some(bot_id)) {
        Some(m) => ok(json!({"message_id": m["message_id"]})),
        None => bad("chat not found"),
    }
}

pub(super) fn edit_text(fake: &FakeBotApi, bot_id: i64, params: &Params) -> Response {
    let mut state = fake.state();
    let chat_id = match target(&state, bot_id, params) {
        Ok(c) => c,
        Err(e) => return e,
    };
    let Some(message_id) = params.int("message_id") else {
        return bad("message_id is required");
    };
    let text = params.str("text").unwrap_or_default();
    if text.trim().is_empty() {
        return bad("message text is empty");
    }
    if utf16_len(&text) > MAX_TEXT {
        return bad("message is too long");
    }
    let Some(existing) = state.find(chat_id, message_id) else {
        return bad("message to edit not found");
    };
    if existing["from"]["id"].as_i64() != Some(bot_id) {
        return bad("message can't be edited");
    }
    if existing["text"].as_str() == Some(text.as_str()) {
        return bad(
            "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message",
        );
    }
    match state.edit_text(chat_id, message_id, &text, false) {
        Some(m) => ok(m),
        None => bad("message to edit not found"),
    }
}

pub(super) fn delete_message(fake: &FakeBotApi, bot_id: i64, params: &Params) -> Response {
    let mut state = fake.state();
    let chat_id = match target(&state, bot_id, params) {
        Ok(c) => c,
        Err(e) => return e,
    };
    let Some(message_id) = params.int("message_id") else {
        return bad("message_id is required");
    };
    if state.delete(chat_id, message_id) {
        ok(json!(true))
    } else {
        bad("message to delete not found")
    }
}
