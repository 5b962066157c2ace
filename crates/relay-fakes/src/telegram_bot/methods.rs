//! The methods the fake serves, with the Bot API's parameter handling (query, JSON or
//! multipart), limits and error descriptions.

use super::FakeBotApi;
use super::state::State;
use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Path, Request, State as AxState};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::time::Duration;

pub const MAX_TEXT: usize = 4096;
pub const MAX_CAPTION: usize = 1024;
pub const MAX_UPLOAD: usize = 50 * 1024 * 1024;

fn reply(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

fn ok(result: Value) -> Response {
    reply(StatusCode::OK, json!({"ok": true, "result": result}))
}

fn fail(code: u16, description: &str) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST);
    reply(
        status,
        json!({"ok": false, "error_code": code, "description": description}),
    )
}

fn bad(description: &str) -> Response {
    fail(400, &format!("Bad Request: {description}"))
}

/// A call's parameters, wherever they came from, and its uploaded files.
#[derive(Default)]
struct Params {
    values: Map<String, Value>,
    files: HashMap<String, (String, Vec<u8>)>,
}

impl Params {
    fn int(&self, name: &str) -> Option<i64> {
        match self.values.get(name)? {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.parse().ok(),
            _ => None,
        }
    }

    fn str(&self, name: &str) -> Option<String> {
        match self.values.get(name)? {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        }
    }

    /// A JSON-valued parameter (sent as JSON in a JSON body, as a string in multipart).
    fn json(&self, name: &str) -> Option<Value> {
        match self.values.get(name)? {
            Value::String(s) => serde_json::from_str(s).ok(),
            other => Some(other.clone()),
        }
    }
}

async fn read_params(request: Request) -> Result<Params, Response> {
    let mut params = Params::default();
    if let Some(query) = request.uri().query() {
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            params
                .values
                .insert(k.to_owned(), Value::String(v.replace("%20", " ")));
        }
    }
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    if content_type.starts_with("multipart/form-data") {
        let mut multipart = Multipart::from_request(request, &())
            .await
            .map_err(IntoResponse::into_response)?;
        while let Ok(Some(field)) = multipart.next_field().await {
            let name = field.name().unwrap_or_default().to_owned();
            let filename = field.file_name().map(str::to_owned);
            let bytes = field
                .bytes()
                .await
                .map_err(|_| bad("invalid multipart body"))?;
            match filename {
                Some(filename) => {
                    params.files.insert(name, (filename, bytes.to_vec()));
                }
                None => {
                    params.values.insert(
                        name,
                        Value::String(String::from_utf8_lossy(&bytes).into_owned()),
                    );
                }
            }
        }
    } else {
        let bytes = Bytes::from_request(request, &())
            .await
            .map_err(IntoResponse::into_response)?;
        if !bytes.is_empty() {
            let body: Map<String, Value> =
                serde_json::from_slice(&bytes).map_err(|_| bad("can't parse JSON object"))?;
            params.values.extend(body);
        }
    }
    Ok(params)
}

pub async fn handle(
    AxState(fake): AxState<FakeBotApi>,
    Path((bot_token, method)): Path<(String, String)>,
    request: Request,
) -> Response {
    let Some(token) = bot_token.strip_prefix("bot") else {
        return fail(404, "Not Found");
    };
    let params = match read_params(request).await {
        Ok(p) => p,
        Err(e) => return e,
    };
    let bot = {
        let mut state = fake.state();
        state.calls.push(method.clone());
        let Some(bot) = state.bot_by_token(token).cloned() else {
            return fail(401, "Unauthorized");
        };
        if let Some(i) = state
            .forced
            .iter()
            .position(|(m, _)| m.eq_ignore_ascii_case(&method))
        {
            let (_, wait) = state.forced.remove(i);
            return reply(
                StatusCode::TOO_MANY_REQUESTS,
                json!({"ok": false, "error_code": 429, "description": format!("Too Many Requests: retry after {wait}"),
                       "parameters": {"retry_after": wait}}),
            );
        }
        bot
    };
    match method.to_ascii_lowercase().as_str() {
        "getme" => {
            // getMe adds the bot's capabilities to the User object.
            let mut me = State::bot_json(&bot);
            for flag in [
                "can_join_groups",
                "can_connect_to_business",
                "has_main_web_app",
            ] {
                me[flag] = json!(flag == "can_join_groups");
            }
            me["can_read_all_group_messages"] = json!(false);
            me["supports_inline_queries"] = json!(false);
            ok(me)
        }
        "getupdates" => get_updates(&fake, bot.id, &params).await,
        "getfile" => get_file(&fake, &params),
        "sendmessage" => send(&fake, bot.id, &params, Kind::Text),
        "sendphoto" => send(&fake, bot.id, &params, Kind::Media("photo")),
        "sendvideo" => send(&fake, bot.id, &params, Kind::Media("video")),
        "senddocument" => send(&fake, bot.id, &params, Kind::Media("document")),
        "sendvoice" => send(&fake, bot.id, &params, Kind::Media("voice")),
        "sendsticker" => send(&fake, bot.id, &params, Kind::Media("sticker")),
        "sendmediagroup" => send_media_group(&fake, bot.id, &params),
        "copymessage" => copy_message(&fake, bot.id, &params),
        "editmessagetext" => edit_text(&fake, bot.id, &params),
        "deletemessage" => delete_message(&fake, bot.id, &params),
        _ => fail(404, "Not Found: method not found"),
    }
}

async fn get_updates(fake: &FakeBotApi, bot_id: i64, params: &Params) -> Response {
    let offset = params.int("offset").unwrap_or(0);
    let limit = params.int("limit").unwrap_or(100).clamp(1, 100) as usize;
    let timeout = Duration::from_secs(params.int("timeout").unwrap_or(0).clamp(0, 50) as u64);
    {
        let mut state = fake.state();
        let Some(bot) = state.bots.iter_mut().find(|b| b.id == bot_id) else {
            return fail(401, "Unauthorized");
        };
        if bot.polling {
            return fail(
                409,
                "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
            );
        }
        bot.polling = true;
    }
    let deadline = tokio::time::Instant::now() + timeout;
    let result = loop {
        let notified = fake.inner.updates.notified();
        {
            let mut state = fake.state();
            let Some(bot) = state.bots.iter_mut().find(|b| b.id == bot_id) else {
                break Vec::new();
            };
            if offset > 0 {
                bot.updates
                    .retain(|u| u["update_id"].as_i64().unwrap_or(0) >= offset);
            }
            if !bot.updates.is_empty() || tokio::time::Instant::now() >= deadline {
                break bot.updates.iter().take(limit).cloned().collect::<Vec<_>>();
            }
        }
        let _ = tokio::time::timeout_at(deadline, notified).await;
    };
    if let Some(bot) = fake.state().bots.iter_mut().find(|b| b.id == bot_id) {
        bot.polling = false;
    }
    ok(Value::Array(result))
}

fn get_file(fake: &FakeBotApi, params: &Params) -> Response {
    let Some(file_id) = params.str("file_id") else {
        return bad("file_id is required");
    };
    match fake.state().files.get(&file_id) {
        Some(bytes) => ok(
            json!({"file_id": file_id, "file_unique_id": file_id, "file_size": bytes.len(), "file_path": format!("files/{file_id}")}),
        ),
        None => bad("invalid file_id"),
    }
}

enum Kind {
    Text,
    Media(&'static str),
}

/// The chat a bot may send to, or the Bot API's error.
fn target(state: &State, bot_id: i64, params: &Params) -> Result<i64, Response> {
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

fn utf16_len(text: &str) -> usize {
    text.encode_utf16().count()
}

/// A media object as the Bot API describes one, for a file of `size` bytes.
fn media_object(kind: &str, file_id: &str, size: usize, file_name: &str) -> Value {
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
fn media_file(
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

fn reply_to(state: &State, chat_id: i64, params: &Params) -> Result<Option<Value>, Response> {
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

fn send(fake: &FakeBotApi, bot_id: i64, params: &Params, kind: Kind) -> Response {
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
    let from = State::bot_json(
        state
            .bots
            .iter()
            .find(|b| b.id == bot_id)
            .expect("the caller is a bot"),
    );
    match state.store(chat_id, from, content, Some(bot_id)) {
        Some(message) => ok(message),
        None => bad("chat not found"),
    }
}

fn send_media_group(fake: &FakeBotApi, bot_id: i64, params: &Params) -> Response {
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
    let from = State::bot_json(
        state
            .bots
            .iter()
            .find(|b| b.id == bot_id)
            .expect("the caller is a bot"),
    );
    let mut sent = Vec::new();
    for mut content in prepared {
        content["media_group_id"] = json!(group);
        if let Some(m) = state.store(chat_id, from.clone(), content, Some(bot_id)) {
            sent.push(m);
        }
    }
    ok(Value::Array(sent))
}

fn copy_message(fake: &FakeBotApi, bot_id: i64, params: &Params) -> Response {
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
    let from = State::bot_json(
        state
            .bots
            .iter()
            .find(|b| b.id == bot_id)
            .expect("the caller is a bot"),
    );
    match state.store(chat_id, from, content, Some(bot_id)) {
        Some(m) => ok(json!({"message_id": m["message_id"]})),
        None => bad("chat not found"),
    }
}

fn edit_text(fake: &FakeBotApi, bot_id: i64, params: &Params) -> Response {
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

fn delete_message(fake: &FakeBotApi, bot_id: i64, params: &Params) -> Response {
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
