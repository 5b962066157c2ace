//! Webhooks: get, execute (`wait`), edit and delete their messages (in the webhook's
//! channel, or a thread of it with `?thread_id=`); attachments.

use super::*;

pub(super) fn webhook(
    state: &State,
    wid: u64,
    token: &str,
) -> Result<crate::discord::state::Webhook, Response> {
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

/// Where a webhook's message goes: its channel, or with `?thread_id=` a thread of that
/// channel (anything else is refused as Discord does).
fn target_channel(
    state: &State,
    hook: &crate::discord::state::Webhook,
    query: &HashMap<String, String>,
) -> Result<u64, Response> {
    let Some(thread) = query.get("thread_id") else {
        return Ok(hook.channel_id);
    };
    match thread
        .parse::<u64>()
        .ok()
        .and_then(|t| state.channels.get(&t))
    {
        Some(c) if c.parent_id == Some(hook.channel_id) => Ok(c.id),
        _ => Err(discord_error(
            StatusCode::BAD_REQUEST,
            10003,
            "Unknown Channel",
        )),
    }
}

pub(super) async fn get_webhook(
    AxState(fake): Fake,
    Path((wid, token)): Path<(u64, String)>,
) -> Response {
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

pub(super) async fn execute_webhook(
    AxState(fake): Fake,
    Path((wid, token)): Path<(u64, String)>,
    Query(query): Query<HashMap<String, String>>,
    request: Request,
) -> Response {
    let hook = match webhook(&fake.state(), wid, &token) {
        Ok(h) => h,
        Err(e) => return e,
    };
    if let Err(e) = schema::check_query(QueryOf::ExecuteWebhook, &query) {
        return e;
    }
    let (payload, files) = match checked_body::<Payload>(Route::ExecuteWebhook, request).await {
        Ok(body) => body,
        Err(e) => return e,
    };
    let base = fake.base_url();
    let mut state = fake.state();
    let channel = match target_channel(&state, &hook, &query) {
        Ok(channel) => channel,
        Err(e) => return e,
    };
    let mut new = match build(&mut state, &base, &fake.inner.ids, channel, &payload, files) {
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
    let Some(msg) = state.create_message(&fake.inner.ids, channel, author, new) else {
        return discord_error(StatusCode::NOT_FOUND, 10003, "Unknown Channel");
    };
    if let Some(avatar) = payload.avatar_url {
        state.webhook_avatars.insert(msg.id.get(), avatar);
    }
    let wait = query.get("wait").and_then(|w| schema::query_bool(w));
    if wait == Some(true) {
        json_ok(&msg)
    } else {
        StatusCode::NO_CONTENT.into_response()
    }
}

pub(super) async fn patch_webhook_message(
    AxState(fake): Fake,
    Path((wid, token, mid)): Path<(u64, String, u64)>,
    Query(query): Query<HashMap<String, String>>,
    request: Request,
) -> Response {
    let hook = match webhook(&fake.state(), wid, &token) {
        Ok(h) => h,
        Err(e) => return e,
    };
    if let Err(e) = schema::check_query(QueryOf::WebhookMessage, &query) {
        return e;
    }
    let payload = match checked_body::<EditPayload>(Route::EditWebhookMessage, request).await {
        Ok((payload, _files)) => payload,
        Err(e) => return e,
    };
    let mut state = fake.state();
    match target_channel(&state, &hook, &query) {
        Ok(channel) => apply_edit(&mut state, channel, mid, hook.id, payload),
        Err(e) => e,
    }
}

pub(super) async fn delete_webhook_message(
    AxState(fake): Fake,
    Path((wid, token, mid)): Path<(u64, String, u64)>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Err(e) = schema::check_query(QueryOf::WebhookMessage, &query) {
        return e;
    }
    let mut state = fake.state();
    let hook = match webhook(&state, wid, &token) {
        Ok(h) => h,
        Err(e) => return e,
    };
    let channel = match target_channel(&state, &hook, &query) {
        Ok(channel) => channel,
        Err(e) => return e,
    };
    let own = state
        .find_message(channel, mid)
        .is_some_and(|m| m.webhook_id.is_some_and(|w| w.get() == wid));
    if own && delete_message(&mut state, channel, mid) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        discord_error(StatusCode::NOT_FOUND, 10008, "Unknown Message")
    }
}

pub(super) async fn attachment(
    AxState(fake): Fake,
    Path((aid, _name)): Path<(u64, String)>,
) -> Response {
    match fake.download_attachment(aid) {
        Some(bytes) => bytes.into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
