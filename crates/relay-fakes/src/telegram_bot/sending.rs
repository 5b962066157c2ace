//! The sending methods: text, media, albums, copies, edits and deletes, with the Bot API's
//! checks (in `schema`) and error descriptions.

use super::FakeBotApi;
use super::params::{MAX_UPLOAD, Params, bad, fail, ok};
use super::schema::text::{self, Kind as TextKind};
use super::schema::{input, refuse};
use super::state::State;
use axum::response::Response;
use serde_json::{Value, json};

pub(super) enum Kind {
    Text,
    Media(&'static str),
}

/// The chat a bot may send to, or the Bot API's error. `chat_id` is an integer or an
/// `@username` (the fake's chats have none); the server reads anything else as 0.
pub(super) fn target(state: &State, bot_id: i64, params: &Params) -> Result<i64, Response> {
    let raw = params.str("chat_id").unwrap_or_default();
    if raw.is_empty() {
        return Err(bad("chat_id is empty"));
    }
    let chat_id = match raw.strip_prefix('@') {
        Some(_) => 0,
        None => raw.trim().parse::<i64>().unwrap_or(0),
    };
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

/// A send's `message_thread_id`: the message goes into that topic of a forum
/// (`is_topic_message`), or the Bot API's 400 when the chat has no such topic.
fn in_topic(
    state: &State,
    chat_id: i64,
    params: &Params,
    content: &mut Value,
) -> Result<(), Response> {
    let thread = params.int("message_thread_id");
    if let Some(topic) = state
        .topic_of(chat_id, thread)
        .map_err(|e| bad(e.trim_start_matches("Bad Request: ")))?
    {
        content["message_thread_id"] = json!(topic);
        content["is_topic_message"] = json!(true);
    }
    Ok(())
}

/// Checks a text or caption parameter with its entities parameter.
fn check_text(
    params: &Params,
    field: &str,
    entities: &str,
    kind: TextKind,
) -> Result<String, Response> {
    let value = params.str(field).unwrap_or_default();
    if kind == TextKind::Text && value.is_empty() {
        return Err(refuse("Message text is empty"));
    }
    let entities = params.json(entities).and_then(Result::ok);
    text::check(&value, entities.as_ref(), kind).map_err(|e| refuse(&e))?;
    Ok(value)
}

/// A media object as the Bot API describes one, for a file of `size` bytes.
pub(super) fn media_object(kind: &str, file_id: &str, size: usize, file_name: &str) -> Value {
    let base =
        json!({"file_id": file_id, "file_unique_id": format!("u{file_id}"), "file_size": size});
    match kind {
        "photo" => {
            json!([{"file_id": file_id, "file_unique_id": format!("u{file_id}"), "file_size": size, "width": 1280, "height": 720}])
        }
        // Telegram names a video's and a document's MIME type (teloxide reads a video
        // without one as no media at all).
        "video" => {
            json!({"file_id": file_id, "file_unique_id": format!("u{file_id}"), "file_size": size, "width": 1280, "height": 720, "duration": 1,
                   "file_name": file_name, "mime_type": "video/mp4"})
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
            doc["mime_type"] = json!(match file_name.rsplit('.').next() {
                Some("pdf") => "application/pdf",
                Some("txt") => "text/plain",
                _ => "application/octet-stream",
            });
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

/// The message replied to, per `reply_parameters` (or `reply_to_message_id`).
pub(super) fn reply_to(
    state: &State,
    chat_id: i64,
    reply: Option<input::Reply>,
) -> Result<Option<Value>, Response> {
    let Some(reply) = reply else {
        return Ok(None);
    };
    match state.find(chat_id, reply.message_id) {
        Some(original) => Ok(Some(original.clone())),
        None if reply.allow_sending_without_reply => Ok(None),
        None => Err(bad("message to be replied not found")),
    }
}

pub(super) fn send(fake: &FakeBotApi, bot_id: i64, params: &Params, kind: Kind) -> Response {
    match try_send(fake, bot_id, params, kind) {
        Ok(r) | Err(r) => r,
    }
}

fn try_send(
    fake: &FakeBotApi,
    bot_id: i64,
    params: &Params,
    kind: Kind,
) -> Result<Response, Response> {
    let reply = input::reply(params).map_err(|e| refuse(&e))?;
    let mut content = json!({});
    let media = match kind {
        Kind::Text => {
            content["text"] = json!(check_text(params, "text", "entities", TextKind::Text)?);
            if let Some(Ok(entities)) = params.json("entities") {
                content["entities"] = entities;
            }
            None
        }
        Kind::Media(field) => {
            let caption = check_text(params, "caption", "caption_entities", TextKind::Caption)?;
            if !caption.is_empty() {
                content["caption"] = json!(caption);
                if let Some(Ok(entities)) = params.json("caption_entities") {
                    content["caption_entities"] = entities;
                }
            }
            Some(field)
        }
    };
    let mut state = fake.state();
    let chat_id = target(&state, bot_id, params)?;
    in_topic(&state, chat_id, params, &mut content)?;
    if let Some(field) = media {
        let Some(reference) = params
            .str(field)
            .or_else(|| params.files.contains_key(field).then(|| field.to_owned()))
        else {
            return Err(bad(&format!("there is no {field} in the request")));
        };
        let (file_id, size, filename) = media_file(&mut state, params, &reference)?;
        content[field] = media_object(field, &file_id, size, &filename);
    }
    if let Some(original) = reply_to(&state, chat_id, reply)? {
        content["reply_to_message"] = original;
    }
    let from = state.bot_user(bot_id);
    match state.store(chat_id, from, content, Some(bot_id)) {
        Some(message) => Ok(ok(message)),
        None => Err(bad("chat not found")),
    }
}

pub(super) fn send_media_group(fake: &FakeBotApi, bot_id: i64, params: &Params) -> Response {
    match try_send_media_group(fake, bot_id, params) {
        Ok(r) | Err(r) => r,
    }
}

fn try_send_media_group(
    fake: &FakeBotApi,
    bot_id: i64,
    params: &Params,
) -> Result<Response, Response> {
    let reply = input::reply(params).map_err(|e| refuse(&e))?;
    let album = input::album(params).map_err(|e| refuse(&e))?;
    let mut state = fake.state();
    let chat_id = target(&state, bot_id, params)?;
    let mut topic = json!({});
    in_topic(&state, chat_id, params, &mut topic)?;
    let replied = reply_to(&state, chat_id, reply)?;
    let mut prepared = Vec::new();
    for item in &album {
        let (file_id, size, filename) = media_file(&mut state, params, &item.media)?;
        let mut content = json!({});
        // The fake keeps a live photo as a photo.
        let kind = if item.kind == "live_photo" {
            "photo"
        } else {
            item.kind.as_str()
        };
        content[kind] = media_object(kind, &file_id, size, &filename);
        if !item.caption.is_empty() {
            content["caption"] = json!(item.caption);
            if let Some(entities) = &item.caption_entities {
                content["caption_entities"] = entities.clone();
            }
        }
        if let Some(original) = &replied {
            content["reply_to_message"] = original.clone();
        }
        if let (Some(content), Some(topic)) = (content.as_object_mut(), topic.as_object()) {
            content.extend(topic.clone());
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
    Ok(ok(Value::Array(sent)))
}

/// A message id parameter as the server reads one: 0 when absent or not a number.
fn message_id(params: &Params) -> i64 {
    params.int("message_id").unwrap_or(0)
}

pub(super) fn copy_message(fake: &FakeBotApi, bot_id: i64, params: &Params) -> Response {
    match try_copy_message(fake, bot_id, params) {
        Ok(r) | Err(r) => r,
    }
}

fn try_copy_message(fake: &FakeBotApi, bot_id: i64, params: &Params) -> Result<Response, Response> {
    let Some(from_chat) = params.str("from_chat_id").filter(|s| !s.is_empty()) else {
        return Err(refuse("Parameter \"from_chat_id\" is required"));
    };
    let caption = if params.has("caption") {
        Some(check_text(
            params,
            "caption",
            "caption_entities",
            TextKind::Caption,
        )?)
    } else {
        None
    };
    let reply = input::reply(params).map_err(|e| refuse(&e))?;
    let mut state = fake.state();
    let chat_id = target(&state, bot_id, params)?;
    let from_chat = from_chat.trim().parse::<i64>().unwrap_or(0);
    let Some(original) = state.find(from_chat, message_id(params)).cloned() else {
        return Err(bad("message to copy not found"));
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
    if let Some(caption) = caption {
        content["caption"] = json!(caption);
        content["caption_entities"] = params
            .json("caption_entities")
            .and_then(Result::ok)
            .unwrap_or(Value::Null);
    }
    if let Some(original) = reply_to(&state, chat_id, reply)? {
        content["reply_to_message"] = original;
    }
    let from = state.bot_user(bot_id);
    match state.store(chat_id, from, content, Some(bot_id)) {
        Some(m) => Ok(ok(json!({"message_id": m["message_id"]}))),
        None => Err(bad("chat not found")),
    }
}

/// What an edit changes: a text message's text, or a media message's caption.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Edited {
    Text,
    Caption,
}

impl Edited {
    /// The parameter and stored field, and its entities'.
    fn fields(self) -> (&'static str, &'static str) {
        match self {
            Edited::Text => ("text", "entities"),
            Edited::Caption => ("caption", "caption_entities"),
        }
    }
}

pub(super) fn edit_text(fake: &FakeBotApi, bot_id: i64, params: &Params) -> Response {
    match try_edit(fake, bot_id, params, Edited::Text) {
        Ok(r) | Err(r) => r,
    }
}

pub(super) fn edit_caption(fake: &FakeBotApi, bot_id: i64, params: &Params) -> Response {
    match try_edit(fake, bot_id, params, Edited::Caption) {
        Ok(r) | Err(r) => r,
    }
}

fn try_edit(
    fake: &FakeBotApi,
    bot_id: i64,
    params: &Params,
    edited: Edited,
) -> Result<Response, Response> {
    let (field, entities_field) = edited.fields();
    let kind = match edited {
        Edited::Text => TextKind::Text,
        Edited::Caption => TextKind::Caption,
    };
    let text = check_text(params, field, entities_field, kind)?;
    let mut state = fake.state();
    let chat_id = target(&state, bot_id, params)?;
    let message_id = message_id(params);
    let Some(existing) = state.find(chat_id, message_id) else {
        return Err(bad("message to edit not found"));
    };
    // A bot edits its own messages, and as a channel's admin any post of the channel
    // (posts carry `sender_chat`, not `from`).
    if existing.get("sender_chat").is_none() && existing["from"]["id"].as_i64() != Some(bot_id) {
        return Err(bad("message can't be edited"));
    }
    // A caption is edited with editMessageCaption (TDLib refuses editMessageText for any
    // non-text), a text with editMessageText.
    match (edited, existing.get("text").is_some()) {
        (Edited::Text, false) => return Err(refuse("There is no text in the message to edit")),
        (Edited::Caption, true) => return Err(bad("there is no caption in the message to edit")),
        _ => {}
    }
    // Telegram compares the text and its entities: a change of formatting is an edit.
    let entities = params.json(entities_field).and_then(Result::ok);
    if existing[field].as_str().unwrap_or_default() == text
        && existing.get(entities_field) == entities.as_ref()
    {
        return Err(bad(
            "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message",
        ));
    }
    match state.edit_text(chat_id, message_id, &text, entities, false) {
        Some(m) => Ok(ok(m)),
        None => Err(bad("message to edit not found")),
    }
}

pub(super) fn delete_message(fake: &FakeBotApi, bot_id: i64, params: &Params) -> Response {
    if params.str("chat_id").is_none_or(|c| c.is_empty()) {
        return refuse("Chat identifier is not specified");
    }
    let message_id = message_id(params);
    if message_id <= 0 {
        return refuse("Message identifier is not specified");
    }
    let mut state = fake.state();
    let chat_id = match target(&state, bot_id, params) {
        Ok(c) => c,
        Err(e) => return e,
    };
    if state.delete(chat_id, message_id) {
        ok(json!(true))
    } else {
        bad("message to delete not found")
    }
}
