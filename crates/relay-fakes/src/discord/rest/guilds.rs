//! The current user, its guilds and their channels, and message history.

use super::*;

pub(super) async fn current_user(AxState(fake): Fake, headers: HeaderMap) -> Response {
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

pub(super) async fn current_user_guilds(AxState(fake): Fake, headers: HeaderMap) -> Response {
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

pub(super) async fn gateway_bot(AxState(fake): Fake, headers: HeaderMap) -> Response {
    if let Err(e) = bot(&fake.state(), &headers) {
        return e;
    }
    let url = fake.base_url().replacen("http", "ws", 1);
    json_ok(&json!({"url": url, "shards": 1,
        "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 86_400_000, "max_concurrency": 1}}))
}

pub(super) fn channel_json(c: &crate::discord::state::Channel) -> Value {
    match c.parent_id {
        // A public thread (type 11).
        Some(parent) => {
            json!({"id": c.id.to_string(), "type": 11, "guild_id": c.guild_id.to_string(),
            "name": c.name, "parent_id": parent.to_string()})
        }
        None => {
            json!({"id": c.id.to_string(), "type": 0, "guild_id": c.guild_id.to_string(), "name": c.name, "position": 0})
        }
    }
}

pub(super) async fn guild_channels(
    AxState(fake): Fake,
    headers: HeaderMap,
    Path(gid): Path<u64>,
) -> Response {
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
    let mut channels: Vec<&crate::discord::state::Channel> = state
        .channels
        .values()
        // Threads are not among a guild's channels (Discord lists them elsewhere).
        .filter(|c| c.guild_id == gid && c.parent_id.is_none())
        .collect();
    channels.sort_by_key(|c| c.id);
    json_ok(&channels.into_iter().map(channel_json).collect::<Vec<_>>())
}

/// The calling bot, when it may use the channel; else Discord's error.
pub(super) fn bot_in_channel(
    state: &State,
    headers: &HeaderMap,
    cid: u64,
) -> Result<Bot, Response> {
    let bot = bot(state, headers)?;
    usable_channel(state, &bot, cid)?;
    Ok(bot)
}

/// The channel a bot may use, or Discord's error for why not.
pub(super) fn usable_channel(state: &State, bot: &Bot, cid: u64) -> Result<(), Response> {
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

pub(super) async fn channel(
    AxState(fake): Fake,
    headers: HeaderMap,
    Path(cid): Path<u64>,
) -> Response {
    let state = fake.state();
    if let Err(e) = bot_in_channel(&state, &headers, cid) {
        return e;
    }
    json_ok(&state.channels.get(&cid).map(channel_json))
}

pub(super) async fn list_messages(
    AxState(fake): Fake,
    headers: HeaderMap,
    Path(cid): Path<u64>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let state = fake.state();
    if let Err(e) = bot_in_channel(&state, &headers, cid) {
        return e;
    }
    if let Err(e) = schema::check_query(QueryOf::ListMessages, &q) {
        return e;
    }
    let number = |name: &str| q.get(name).and_then(|v| v.parse::<u64>().ok());
    let limit = number("limit").map_or(50, |n| n as usize);
    let all = state
        .channels
        .get(&cid)
        .map(|c| c.messages.clone())
        .unwrap_or_default();
    // Newest first, as Discord answers; `after` takes the oldest ones after the cursor.
    let mut page: Vec<Message> = match number("after") {
        Some(after) => all
            .into_iter()
            .filter(|m| m.id.get() > after)
            .take(limit)
            .collect(),
        None => {
            let before = number("before").unwrap_or(u64::MAX);
            let older: Vec<Message> = all.into_iter().filter(|m| m.id.get() < before).collect();
            older[older.len().saturating_sub(limit)..].to_vec()
        }
    };
    page.reverse();
    json_ok(&page)
}

pub(super) async fn get_message(
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
