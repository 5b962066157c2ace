//! Creating (JSON or multipart), editing and deleting messages, with Discord's limits,
//! nonces and error codes.

use super::*;

/// A message body as Discord takes it (JSON, or `payload_json` of a multipart body),
/// once `schema::check_message` has found it well formed.
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
    fail_if_not_exists: Option<bool>,
}

/// A multipart file part: its file name and bytes.
pub(super) type Upload = (String, Bytes);

/// Reads a body and checks it against the route's schema: the payload and the files.
pub(super) async fn checked_body<T: serde::de::DeserializeOwned>(
    route: Route,
    request: Request,
) -> Result<(T, Vec<Upload>), Response> {
    let body = schema::read_body(request).await?;
    schema::check_message(route, &body.payload, body.files.len())?;
    let payload = serde_json::from_value(body.payload).map_err(|e| {
        discord_error(
            StatusCode::BAD_REQUEST,
            50035,
            &format!("Invalid Form Body: {e}"),
        )
    })?;
    Ok((payload, body.files))
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
    // Lengths, counts and the embeds' total size were checked with the body's schema.
    let embeds = payload
        .embeds
        .clone()
        .unwrap_or_default()
        .into_iter()
        .map(embed_model)
        .collect::<Result<Vec<_>, _>>()?;
    if files.iter().any(|(_, bytes)| bytes.len() > MAX_FILE_BYTES) {
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
    let reference = payload.message_reference.as_ref();
    let mut reply_to = reference
        .and_then(|r| r.message_id.as_ref())
        .and_then(id_of);
    if let Some(mid) = reply_to
        && state.find_message(cid, mid).is_none()
    {
        // With `fail_if_not_exists: false` Discord sends the message as no reply.
        if reference.and_then(|r| r.fail_if_not_exists) != Some(false) {
            return Err(invalid_form(
                "message_reference",
                "MESSAGE_REFERENCE_UNKNOWN_MESSAGE",
                "Unknown message",
            ));
        }
        reply_to = None;
    }
    let attachments = files
        .into_iter()
        .map(|(filename, bytes)| {
            let id = ids.next();
            let url = format!("{base_url}/attachments/{id}/{filename}");
            let size = bytes.len() as u64;
            state.attachments.insert(id, bytes.to_vec());
            Attachment {
                content_type: None,
                ephemeral: false,
                duration_secs: None,
                filename,
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
    let (payload, files) = match checked_body::<Payload>(Route::CreateMessage, request).await {
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

/// An edit of a message the caller (`author_id`) wrote, with a body already checked.
pub(super) fn apply_edit(
    state: &mut State,
    cid: u64,
    mid: u64,
    author_id: u64,
    payload: EditPayload,
) -> Response {
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
    let embeds: Option<Vec<Embed>> = match payload.embeds {
        Some(raw) => match raw.into_iter().map(embed_model).collect() {
            Ok(e) => Some(e),
            Err(e) => return e,
        },
        None => None,
    };
    // An edit may not leave the message with nothing in it.
    let text_left = content.as_deref().unwrap_or(&existing.content);
    let embeds_left = embeds.as_ref().map_or(existing.embeds.len(), Vec::len);
    if text_left.trim().is_empty() && embeds_left == 0 && existing.attachments.is_empty() {
        return discord_error(
            StatusCode::BAD_REQUEST,
            50006,
            "Cannot send an empty message",
        );
    }
    match edit_message(state, cid, mid, content, embeds) {
        Some(m) => json_ok(&m),
        None => discord_error(StatusCode::NOT_FOUND, 10008, "Unknown Message"),
    }
}

/// An embed of a request as twilight models it (`type` defaults to `rich`).
pub(super) fn embed_model(mut raw: Value) -> Result<Embed, Response> {
    if raw.get("type").is_none_or(Value::is_null) {
        raw["type"] = json!("rich");
    }
    serde_json::from_value(raw)
        .map_err(|_| invalid_form("embeds", "MODEL_TYPE_CONVERT", "Invalid embed"))
}

pub(super) async fn patch_message(
    AxState(fake): Fake,
    Path((cid, mid)): Path<(u64, u64)>,
    request: Request,
) -> Response {
    let headers = request.headers().clone();
    let bot = match bot_in_channel(&fake.state(), &headers, cid) {
        Ok(b) => b,
        Err(e) => return e,
    };
    let payload = match checked_body::<EditPayload>(Route::EditMessage, request).await {
        Ok((payload, _files)) => payload,
        Err(e) => return e,
    };
    apply_edit(&mut fake.state(), cid, mid, bot.user.id.get(), payload)
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
