//! Creating (JSON or multipart), editing and deleting messages, with Discord's limits,
//! nonces and error codes.

use super::*;

/// A message body as Discord takes it (JSON, or `payload_json` of a multipart body).
#[derive(Debug, Default, Deserialize)]
pub(super) struct Payload {
    pub(super) content: Option<String>,
    pub(super) embeds: Option<Vec<Value>>,
    pub(super) nonce: Option<Value>,
    pub(super) enforce_nonce: Option<bool>,
    pub(super) message_reference: Option<Reference>,
    pub(super) username: Option<String>,
    pub(super) avatar_url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct Reference {
    message_id: Option<Value>,
}

pub(super) struct Upload {
    filename: String,
    bytes: Bytes,
}

/// Reads a JSON or multipart body into the payload and the uploaded files.
pub(super) async fn read_body(request: Request) -> Result<(Payload, Vec<Upload>), Response> {
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

pub(super) fn id_of(value: &Value) -> Option<u64> {
    match value {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    }
}

/// Checks Discord's limits and builds the new message's parts.
pub(super) fn build(
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

pub(super) const NONCE_WINDOW: Duration = Duration::from_secs(300);

pub(super) async fn create_message(
    AxState(fake): Fake,
    Path(cid): Path<u64>,
    request: Request,
) -> Response {
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
pub(super) struct EditPayload {
    #[serde(default, deserialize_with = "present")]
    content: Option<Option<String>>,
    embeds: Option<Vec<Value>>,
}

/// Distinguishes `"content": null` (clear) from a missing field (keep).
pub(super) fn present<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

pub(super) fn apply_edit(
    state: &mut State,
    cid: u64,
    mid: u64,
    author_id: u64,
    body: &[u8],
) -> Response {
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

pub(super) async fn patch_message(
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

pub(super) async fn remove_message(
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
