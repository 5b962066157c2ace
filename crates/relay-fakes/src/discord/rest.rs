//! REST v10: users, guilds, channels, messages (JSON and multipart), webhooks, with
//! Discord's validation, error codes, rate-limit headers and 429s.

use super::FakeDiscord;
use super::model::{self, NewMessage, error_body};
use super::state::{Bot, GLOBAL_LIMIT_PER_SEC, State};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{
    DefaultBodyLimit, FromRequest, Multipart, Path, Query, Request, State as AxState,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use twilight_model::channel::message::Embed;
use twilight_model::channel::{Attachment, Message};
use twilight_model::id::Id;

pub const MAX_CONTENT_CHARS: usize = 2000;
pub const MAX_EMBEDS: usize = 10;
pub const MAX_EMBED_CHARS: usize = 6000;
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;

type Fake = AxState<FakeDiscord>;

pub fn router(fake: FakeDiscord) -> Router {
    Router::new()
        .route("/api/v10/users/@me", get(current_user))
        .route("/api/v10/users/@me/guilds", get(current_user_guilds))
        .route("/api/v10/gateway/bot", get(gateway_bot))
        .route("/api/v10/guilds/{gid}/channels", get(guild_channels))
        .route("/api/v10/channels/{cid}", get(channel))
        .route(
            "/api/v10/channels/{cid}/messages",
            get(list_messages).post(create_message),
        )
        .route(
            "/api/v10/channels/{cid}/messages/{mid}",
            get(get_message).patch(patch_message).delete(remove_message),
        )
        .route(
            "/api/v10/webhooks/{wid}/{token}",
            get(get_webhook).post(execute_webhook),
        )
        .route(
            "/api/v10/webhooks/{wid}/{token}/messages/{mid}",
            axum::routing::patch(patch_webhook_message).delete(delete_webhook_message),
        )
        .route("/attachments/{aid}/{filename}", get(attachment))
        .layer(axum::middleware::from_fn_with_state(
            fake.clone(),
            rate_limits,
        ))
        .layer(DefaultBodyLimit::max(30 * 1024 * 1024))
        .with_state(fake)
}

fn discord_error(status: StatusCode, code: u32, message: &str) -> Response {
    (status, axum::Json(error_body(code, message))).into_response()
}

fn invalid_form(field: &str, code: &str, message: &str) -> Response {
    let body = json!({"code": 50035, "message": "Invalid Form Body",
        "errors": {field: {"_errors": [{"code": code, "message": message}]}}});
    (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
}

fn unauthorized() -> Response {
    discord_error(StatusCode::UNAUTHORIZED, 0, "401: Unauthorized")
}

fn bot(state: &State, headers: &HeaderMap) -> Result<Bot, Response> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bot "))
        .ok_or_else(unauthorized)?;
    state.bot_by_token(token).cloned().ok_or_else(unauthorized)
}

fn json_ok<T: serde::Serialize>(value: &T) -> Response {
    axum::Json(value).into_response()
}

// ---- rate limits ----

async fn rate_limits(AxState(fake): Fake, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let Some(route) = path.strip_prefix("/api/v10/") else {
        return next.run(request).await;
    };
    let method = request.method().to_string();
    let who = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_else(|| route.split('/').take(3).collect::<Vec<_>>().join("/"));
    // The bucket: method plus the route up to its major parameter (channel, guild, webhook).
    let bucket = format!(
        "{method} {}",
        route.split('/').take(2).collect::<Vec<_>>().join("/")
    );
    let verdict = {
        let mut state = fake.state();
        state.requests.push(format!("{method} {path}"));
        limit_verdict(&mut state, route, &who, &bucket)
    };
    match verdict {
        Verdict::Limited {
            retry_after,
            global,
        } => too_many(retry_after, global, &bucket),
        Verdict::Allowed {
            limit,
            remaining,
            reset_after,
        } => {
            let mut response = next.run(request).await;
            let headers = response.headers_mut();
            let mut set = |name: &'static str, value: String| {
                if let Ok(v) = HeaderValue::from_str(&value) {
                    headers.insert(name, v);
                }
            };
            set("x-ratelimit-limit", limit.to_string());
            set("x-ratelimit-remaining", remaining.to_string());
            set(
                "x-ratelimit-reset-after",
                format!("{:.3}", reset_after.as_secs_f64()),
            );
            set("x-ratelimit-bucket", bucket_hash(&bucket));
            response
        }
    }
}

enum Verdict {
    Allowed {
        limit: u32,
        remaining: u32,
        reset_after: Duration,
    },
    Limited {
        retry_after: Duration,
        global: bool,
    },
}

fn limit_verdict(state: &mut State, route: &str, who: &str, bucket: &str) -> Verdict {
    let forced = state
        .limits
        .forced
        .iter()
        .position(|(prefix, _)| route.starts_with(prefix.as_str()));
    if let Some(i) = forced
        && let Some((_, wait)) = state.limits.forced.remove(i)
    {
        return Verdict::Limited {
            retry_after: wait,
            global: false,
        };
    }
    let now = Instant::now();
    let global = state
        .limits
        .global
        .entry(who.to_owned())
        .or_insert((0, now));
    if now.duration_since(global.1) >= Duration::from_secs(1) {
        *global = (0, now);
    }
    global.0 += 1;
    if global.0 > GLOBAL_LIMIT_PER_SEC {
        let wait = Duration::from_secs(1).saturating_sub(now.duration_since(global.1));
        return Verdict::Limited {
            retry_after: wait,
            global: true,
        };
    }
    let Some((limit, window)) = state.limits.per_bucket else {
        return Verdict::Allowed {
            limit: 5,
            remaining: 4,
            reset_after: Duration::from_secs(1),
        };
    };
    let counter = state
        .limits
        .buckets
        .entry((who.to_owned(), bucket.to_owned()))
        .or_insert((0, now));
    if now.duration_since(counter.1) >= window {
        *counter = (0, now);
    }
    let reset_after = window.saturating_sub(now.duration_since(counter.1));
    if counter.0 >= limit {
        return Verdict::Limited {
            retry_after: reset_after,
            global: false,
        };
    }
    counter.0 += 1;
    Verdict::Allowed {
        limit,
        remaining: limit - counter.0,
        reset_after,
    }
}

fn bucket_hash(bucket: &str) -> String {
    let hash = bucket.bytes().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
    });
    format!("{hash:016x}")
}

fn too_many(retry_after: Duration, global: bool, bucket: &str) -> Response {
    let secs = retry_after.as_secs_f64();
    let body =
        json!({"message": "You are being rate limited.", "retry_after": secs, "global": global});
    let mut response = (StatusCode::TOO_MANY_REQUESTS, axum::Json(body)).into_response();
    let headers = response.headers_mut();
    let whole = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
    for (name, value) in [
        ("retry-after", whole.max(1).to_string()),
        (
            "x-ratelimit-scope",
            if global { "global" } else { "user" }.to_owned(),
        ),
        ("x-ratelimit-limit", "1".to_owned()),
        ("x-ratelimit-remaining", "0".to_owned()),
        ("x-ratelimit-reset-after", format!("{secs:.3}")),
        ("x-ratelimit-bucket", bucket_hash(bucket)),
    ] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    }
    if global && let Ok(v) = HeaderValue::from_str("true") {
        headers.insert("x-ratelimit-global", v);
    }
    response
}

// ---- users, guilds, channels ----

async fn current_user(AxState(fake): Fake, headers: HeaderMap) -> Response {
    let state = fake.state();
    match bot(&state, &headers) {
        Ok(bot) => {
            let u = bot.user;
            json_ok(
                &json!({"id": u.id.to_string(), "username": u.name, "discriminator": "0",
                "global_name": null, "avatar": null, "bot": true, "mfa_enabled": false, "flags": 0}),
            )
        }
        Err(e) => e,
    }
}

async fn current_user_guilds(AxState(fake): Fake, headers: HeaderMap) -> Response {
    let state = fake.state();
    let bot = match bot(&state, &headers) {
        Ok(b) => b,
        Err(e) => return e,
    };
    let guilds: Vec<Value> = state
        .guilds
        .iter()
        .filter(|g| g.bots.contains(&bot.user.id.get()))
        .map(|g| {
            json!({"id": g.id.to_string(), "name": g.name, "icon": null, "owner": false,
            "permissions": "2048", "features": []})
        })
        .collect();
    json_ok(&guilds)
}

async fn gateway_bot(AxState(fake): Fake, headers: HeaderMap) -> Response {
    if let Err(e) = bot(&fake.state(), &headers) {
        return e;
    }
    let url = fake.base_url().replacen("http", "ws", 1);
    json_ok(&json!({"url": url, "shards": 1,
        "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 86_400_000, "max_concurrency": 1}}))
}

fn channel_json(c: &super::state::Channel) -> Value {
    json!({"id": c.id.to_string(), "type": 0, "guild_id": c.guild_id.to_string(), "name": c.name, "position": 0})
}

async fn guild_channels(AxState(fake): Fake, headers: HeaderMap, Path(gid): Path<u64>) -> Response {
    let state = fake.state();
    let bot = match bot(&state, &headers) {
        Ok(b) => b,
        Err(e) => return e,
    };
    let Some(guild) = state.guild(gid) else {
        return discord_error(StatusCode::NOT_FOUND, 10004, "Unknown Guild");
    };
    if !guild.bots.contains(&bot.user.id.get()) {
        return discord_error(StatusCode::FORBIDDEN, 50001, "Missing Access");
    }
    let mut channels: Vec<&super::state::Channel> = state
        .channels
        .values()
        .filter(|c| c.guild_id == gid)
        .collect();
    channels.sort_by_key(|c| c.id);
    json_ok(&channels.into_iter().map(channel_json).collect::<Vec<_>>())
}

/// The calling bot, when it may use the channel; else Discord's error.
fn bot_in_channel(state: &State, headers: &HeaderMap, cid: u64) -> Result<Bot, Response> {
    let bot = bot(state, headers)?;
    usable_channel(state, &bot, cid)?;
    Ok(bot)
}

/// The channel a bot may use, or Discord's error for why not.
fn usable_channel(state: &State, bot: &Bot, cid: u64) -> Result<(), Response> {
    if !state.channels.contains_key(&cid) {
        return Err(discord_error(
            StatusCode::NOT_FOUND,
            10003,
            "Unknown Channel",
        ));
    }
    if !state.bot_in_channel(bot.user.id.get(), cid) {
        return Err(discord_error(
            StatusCode::FORBIDDEN,
            50001,
            "Missing Access",
        ));
    }
    Ok(())
}

async fn channel(AxState(fake): Fake, headers: HeaderMap, Path(cid): Path<u64>) -> Response {
    let state = fake.state();
    if let Err(e) = bot_in_channel(&state, &headers, cid) {
        return e;
    }
    json_ok(&state.channels.get(&cid).map(channel_json))
}

#[derive(Deserialize)]
struct HistoryQuery {
    after: Option<u64>,
    before: Option<u64>,
    limit: Option<usize>,
}

async fn list_messages(
    AxState(fake): Fake,
    headers: HeaderMap,
    Path(cid): Path<u64>,
    Query(q): Query<HistoryQuery>,
) -> Response {
    let state = fake.state();
    if let Err(e) = bot_in_channel(&state, &headers, cid) {
        return e;
    }
    let limit = q.limit.unwrap_or(50);
    if !(1..=100).contains(&limit) {
        return invalid_form(
            "limit",
            "NUMBER_TYPE_MAX",
            "int value should be less than or equal to 100.",
        );
    }
    let all = state
        .channels
        .get(&cid)
        .map(|c| c.messages.clone())
        .unwrap_or_default();
    // Newest first, as Discord answers; `after` takes the oldest ones after the cursor.
    let mut page: Vec<Message> = match q.after {
        Some(after) => all
            .into_iter()
            .filter(|m| m.id.get() > after)
            .take(limit)
            .collect(),
        None => {
            let before = q.before.unwrap_or(u64::MAX);
            let older: Vec<Message> = all.into_iter().filter(|m| m.id.get() < before).collect();
            older[older.len().saturating_sub(limit)..].to_vec()
        }
    };
    page.reverse();
    json_ok(&page)
}

async fn get_message(
    AxState(fake): Fake,
    headers: HeaderMap,
    Path((cid, mid)): Path<(u64, u64)>,
) -> Response {
    let state = fake.state();
    if let Err(e) = bot_in_channel(&state, &headers, cid) {
        return e;
    }
    match state.find_message(cid, mid) {
        Some(m) => json_ok(m),
        None => discord_error(StatusCode::NOT_FOUND, 10008, "Unknown Message"),
    }
}

// ---- creating messages ----

/// A message body as Discord takes it (JSON, or `payload_json` of a multipart body).
#[derive(Debug, Default, Deserialize)]
struct Payload {
    content: Option<String>,
    embeds: Option<Vec<Value>>,
    nonce: Option<Value>,
    enforce_nonce: Option<bool>,
    message_reference: Option<Reference>,
    username: Option<String>,
    avatar_url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Reference {
    message_id: Option<Value>,
}

struct Upload {
    filename: String,
    bytes: Bytes,
}

/// Reads a JSON or multipart body into the payload and the uploaded files.
async fn read_body(request: Request) -> Result<(Payload, Vec<Upload>), Response> {
    let is_multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !is_multipart {
        let bytes = Bytes::from_request(request, &())
            .await
            .map_err(IntoResponse::into_response)?;
        if bytes.is_empty() {
            return Ok((Payload::default(), Vec::new()));
        }
        let payload = serde_json::from_slice(&bytes).map_err(|_| {
            discord_error(
                StatusCode::BAD_REQUEST,
                50109,
                "The request body contains invalid JSON.",
            )
        })?;
        return Ok((payload, Vec::new()));
    }
    let mut multipart = Multipart::from_request(request, &())
        .await
        .map_err(IntoResponse::into_response)?;
    let mut payload = Payload::default();
    let mut files = Vec::new();
    while let Ok(Some(field)) = multipart.next_field().await {
        let name = field.name().unwrap_or_default().to_owned();
        let filename = field.file_name().map(str::to_owned);
        let bytes = field
            .bytes()
            .await
            .map_err(|_| discord_error(StatusCode::BAD_REQUEST, 50035, "Invalid Form Body"))?;
        if name == "payload_json" {
            payload = serde_json::from_slice(&bytes).map_err(|_| {
                discord_error(
                    StatusCode::BAD_REQUEST,
                    50109,
                    "The request body contains invalid JSON.",
                )
            })?;
        } else if name.starts_with("files[") {
            files.push(Upload {
                filename: filename.unwrap_or_else(|| "file".into()),
                bytes,
            });
        }
    }
    Ok((payload, files))
}

fn id_of(value: &Value) -> Option<u64> {
    match value {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    }
}

/// Checks Discord's limits and builds the new message's parts.
fn build(
    state: &mut State,
    base_url: &str,
    ids: &super::model::Snowflakes,
    cid: u64,
    payload: &Payload,
    files: Vec<Upload>,
) -> Result<NewMessage, Response> {
    let content = payload.content.clone().unwrap_or_default();
    if content.chars().count() > MAX_CONTENT_CHARS {
        return Err(invalid_form(
            "content",
            "BASE_TYPE_MAX_LENGTH",
            "Must be 2000 or fewer in length.",
        ));
    }
    let raw_embeds = payload.embeds.clone().unwrap_or_default();
    if raw_embeds.len() > MAX_EMBEDS {
        return Err(invalid_form(
            "embeds",
            "BASE_TYPE_MAX_LENGTH",
            "Must be 10 or fewer in length.",
        ));
    }
    let mut embeds = Vec::new();
    let mut embed_chars = 0;
    for mut raw in raw_embeds {
        if raw.get("type").is_none() {
            raw["type"] = json!("rich");
        }
        let embed: Embed = serde_json::from_value(raw)
            .map_err(|_| invalid_form("embeds", "MODEL_TYPE_CONVERT", "Invalid embed"))?;
        embed_chars += embed.title.as_deref().map_or(0, |t| t.chars().count())
            + embed
                .description
                .as_deref()
                .map_or(0, |t| t.chars().count())
            + embed
                .fields
                .iter()
                .map(|f| f.name.chars().count() + f.value.chars().count())
                .sum::<usize>();
        embeds.push(embed);
    }
    if embed_chars > MAX_EMBED_CHARS {
        return Err(invalid_form(
            "embeds",
            "MAX_EMBED_SIZE_EXCEEDED",
            "Embed size exceeds maximum size of 6000",
        ));
    }
    if files.iter().any(|f| f.bytes.len() > MAX_FILE_BYTES) {
        return Err(discord_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            40005,
            "Request entity too large",
        ));
    }
    if content.trim().is_empty() && embeds.is_empty() && files.is_empty() {
        return Err(discord_error(
            StatusCode::BAD_REQUEST,
            50006,
            "Cannot send an empty message",
        ));
    }
    let reply_to = payload
        .message_reference
        .as_ref()
        .and_then(|r| r.message_id.as_ref())
        .and_then(id_of);
    if let Some(mid) = reply_to
        && state.find_message(cid, mid).is_none()
    {
        return Err(invalid_form(
            "message_reference",
            "MESSAGE_REFERENCE_UNKNOWN_MESSAGE",
            "Unknown message",
        ));
    }
    let attachments = files
        .into_iter()
        .map(|f| {
            let id = ids.next();
            let url = format!("{base_url}/attachments/{id}/{}", f.filename);
            let size = f.bytes.len() as u64;
            state.attachments.insert(id, f.bytes.to_vec());
            Attachment {
                content_type: None,
                ephemeral: false,
                duration_secs: None,
                filename: f.filename,
                flags: None,
                description: None,
                height: None,
                id: Id::new(id),
                placeholder: None,
                placeholder_version: None,
                proxy_url: url.clone(),
                size,
                title: None,
                url,
                waveform: None,
                width: None,
            }
        })
        .collect();
    Ok(NewMessage {
        content,
        embeds,
        attachments,
        reply_to,
        webhook_id: None,
    })
}

const NONCE_WINDOW: Duration = Duration::from_secs(300);

async fn create_message(AxState(fake): Fake, Path(cid): Path<u64>, request: Request) -> Response {
    let headers = request.headers().clone();
    let author = {
        let state = fake.state();
        match bot_in_channel(&state, &headers, cid) {
            Ok(b) => b,
            Err(e) => return e,
        }
    };
    let (payload, files) = match read_body(request).await {
        Ok(body) => body,
        Err(e) => return e,
    };
    let base = fake.base_url();
    let mut state = fake.state();
    let author_id = author.user.id.get();
    let nonce = payload.nonce.as_ref().map(|n| match n {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    });
    if let (Some(nonce), Some(true)) = (&nonce, payload.enforce_nonce)
        && let Some((channel, mid, at)) = state.nonces.get(&(author_id, nonce.clone())).copied()
        && at.elapsed() < NONCE_WINDOW
        && let Some(existing) = state.find_message(channel, mid)
    {
        return json_ok(&existing.clone());
    }
    let new = match build(&mut state, &base, &fake.inner.ids, cid, &payload, files) {
        Ok(new) => new,
        Err(e) => return e,
    };
    let Some(msg) = state.create_message(&fake.inner.ids, cid, author.user, new) else {
        return discord_error(StatusCode::NOT_FOUND, 10003, "Unknown Channel");
    };
    if let (Some(nonce), Some(true)) = (nonce, payload.enforce_nonce) {
        state
            .nonces
            .insert((author_id, nonce), (cid, msg.id.get(), Instant::now()));
    }
    json_ok(&msg)
}

// ---- editing and deleting ----

/// Applies an edit and dispatches MESSAGE_UPDATE (a full message, as twilight needs).
pub fn edit_message(
    state: &mut State,
    cid: u64,
    mid: u64,
    content: Option<String>,
    embeds: Option<Vec<Embed>>,
) -> Option<Message> {
    let channel = state.channels.get_mut(&cid)?;
    let msg = channel.messages.iter_mut().find(|m| m.id.get() == mid)?;
    if let Some(content) = content {
        msg.content = content;
    }
    if let Some(embeds) = embeds {
        msg.embeds = embeds;
    }
    msg.edited_timestamp = Some(model::now());
    let updated = msg.clone();
    let guild = channel.guild_id;
    let data = serde_json::to_value(&updated).unwrap_or_default();
    state.dispatch(guild, "MESSAGE_UPDATE", data, Some(&updated));
    Some(updated)
}

pub fn delete_message(state: &mut State, cid: u64, mid: u64) -> bool {
    let Some(channel) = state.channels.get_mut(&cid) else {
        return false;
    };
    let before = channel.messages.len();
    channel.messages.retain(|m| m.id.get() != mid);
    if channel.messages.len() == before {
        return false;
    }
    let guild = channel.guild_id;
    let data = json!({"id": mid.to_string(), "channel_id": cid.to_string(), "guild_id": guild.to_string()});
    state.dispatch(guild, "MESSAGE_DELETE", data, None);
    true
}

#[derive(Debug, Default, Deserialize)]
struct EditPayload {
    #[serde(default, deserialize_with = "present")]
    content: Option<Option<String>>,
    embeds: Option<Vec<Value>>,
}

/// Distinguishes `"content": null` (clear) from a missing field (keep).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

fn apply_edit(state: &mut State, cid: u64, mid: u64, author_id: u64, body: &[u8]) -> Response {
    let payload: EditPayload = if body.is_empty() {
        EditPayload::default()
    } else {
        match serde_json::from_slice(body) {
            Ok(p) => p,
            Err(_) => {
                return discord_error(
                    StatusCode::BAD_REQUEST,
                    50109,
                    "The request body contains invalid JSON.",
                );
            }
        }
    };
    let Some(existing) = state.find_message(cid, mid) else {
        return discord_error(StatusCode::NOT_FOUND, 10008, "Unknown Message");
    };
    if existing.author.id.get() != author_id {
        return discord_error(
            StatusCode::FORBIDDEN,
            50005,
            "Cannot edit a message authored by another user",
        );
    }
    let content = payload.content.map(Option::unwrap_or_default);
    if content
        .as_ref()
        .is_some_and(|c| c.chars().count() > MAX_CONTENT_CHARS)
    {
        return invalid_form(
            "content",
            "BASE_TYPE_MAX_LENGTH",
            "Must be 2000 or fewer in length.",
        );
    }
    let embeds = match payload.embeds {
        Some(raw) => {
            let parsed: Result<Vec<Embed>, _> = raw
                .into_iter()
                .map(|mut e| {
                    if e.get("type").is_none() {
                        e["type"] = json!("rich");
                    }
                    serde_json::from_value(e)
                })
                .collect();
            match parsed {
                Ok(e) => Some(e),
                Err(_) => return invalid_form("embeds", "MODEL_TYPE_CONVERT", "Invalid embed"),
            }
        }
        None => None,
    };
    match edit_message(state, cid, mid, content, embeds) {
        Some(m) => json_ok(&m),
        None => discord_error(StatusCode::NOT_FOUND, 10008, "Unknown Message"),
    }
}

async fn patch_message(
    AxState(fake): Fake,
    headers: HeaderMap,
    Path((cid, mid)): Path<(u64, u64)>,
    body: Bytes,
) -> Response {
    let mut state = fake.state();
    let bot = match bot_in_channel(&state, &headers, cid) {
        Ok(b) => b,
        Err(e) => return e,
    };
    apply_edit(&mut state, cid, mid, bot.user.id.get(), &body)
}

async fn remove_message(
    AxState(fake): Fake,
    headers: HeaderMap,
    Path((cid, mid)): Path<(u64, u64)>,
) -> Response {
    let mut state = fake.state();
    if let Err(e) = bot_in_channel(&state, &headers, cid) {
        return e;
    }
    if delete_message(&mut state, cid, mid) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        discord_error(StatusCode::NOT_FOUND, 10008, "Unknown Message")
    }
}

// ---- webhooks ----

fn webhook(state: &State, wid: u64, token: &str) -> Result<super::state::Webhook, Response> {
    let hook = state
        .webhooks
        .get(&wid)
        .ok_or_else(|| discord_error(StatusCode::NOT_FOUND, 10015, "Unknown Webhook"))?;
    if hook.token != token {
        return Err(discord_error(
            StatusCode::UNAUTHORIZED,
            50027,
            "Invalid Webhook Token",
        ));
    }
    Ok(hook.clone())
}

async fn get_webhook(AxState(fake): Fake, Path((wid, token)): Path<(u64, String)>) -> Response {
    let state = fake.state();
    match webhook(&state, wid, &token) {
        Ok(h) => {
            let guild = state
                .channels
                .get(&h.channel_id)
                .map(|c| c.guild_id.to_string());
            json_ok(
                &json!({"id": h.id.to_string(), "type": 1, "channel_id": h.channel_id.to_string(),
                "guild_id": guild, "name": h.name, "avatar": null, "token": h.token, "application_id": null}),
            )
        }
        Err(e) => e,
    }
}

async fn execute_webhook(
    AxState(fake): Fake,
    Path((wid, token)): Path<(u64, String)>,
    Query(query): Query<HashMap<String, String>>,
    request: Request,
) -> Response {
    let hook = match webhook(&fake.state(), wid, &token) {
        Ok(h) => h,
        Err(e) => return e,
    };
    let (payload, files) = match read_body(request).await {
        Ok(body) => body,
        Err(e) => return e,
    };
    if payload
        .username
        .as_ref()
        .is_some_and(|u| u.chars().count() > 80 || u.trim().is_empty())
    {
        return invalid_form(
            "username",
            "BASE_TYPE_BAD_LENGTH",
            "Must be between 1 and 80 in length.",
        );
    }
    let base = fake.base_url();
    let mut state = fake.state();
    let mut new = match build(
        &mut state,
        &base,
        &fake.inner.ids,
        hook.channel_id,
        &payload,
        files,
    ) {
        Ok(new) => new,
        Err(e) => return e,
    };
    new.webhook_id = Some(hook.id);
    let mut author = model::user(
        hook.id,
        payload.username.as_deref().unwrap_or(&hook.name),
        true,
    );
    author.avatar = None;
    let Some(msg) = state.create_message(&fake.inner.ids, hook.channel_id, author, new) else {
        return discord_error(StatusCode::NOT_FOUND, 10003, "Unknown Channel");
    };
    if let Some(avatar) = payload.avatar_url {
        state.webhook_avatars.insert(msg.id.get(), avatar);
    }
    if query.get("wait").is_some_and(|w| w == "true") {
        json_ok(&msg)
    } else {
        StatusCode::NO_CONTENT.into_response()
    }
}

async fn patch_webhook_message(
    AxState(fake): Fake,
    Path((wid, token, mid)): Path<(u64, String, u64)>,
    body: Bytes,
) -> Response {
    let mut state = fake.state();
    let hook = match webhook(&state, wid, &token) {
        Ok(h) => h,
        Err(e) => return e,
    };
    apply_edit(&mut state, hook.channel_id, mid, hook.id, &body)
}

async fn delete_webhook_message(
    AxState(fake): Fake,
    Path((wid, token, mid)): Path<(u64, String, u64)>,
) -> Response {
    let mut state = fake.state();
    let hook = match webhook(&state, wid, &token) {
        Ok(h) => h,
        Err(e) => return e,
    };
    let own = state
        .find_message(hook.channel_id, mid)
        .is_some_and(|m| m.webhook_id.is_some_and(|w| w.get() == wid));
    if own && delete_message(&mut state, hook.channel_id, mid) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        discord_error(StatusCode::NOT_FOUND, 10008, "Unknown Message")
    }
}

async fn attachment(AxState(fake): Fake, Path((aid, _name)): Path<(u64, String)>) -> Response {
    match fake.attachment_bytes(aid) {
        Some(bytes) => bytes.into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
