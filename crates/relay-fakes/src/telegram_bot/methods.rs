//! The methods the fake serves: routing by method name, forced errors, getMe, getUpdates,
//! getFile and file downloads (the sending methods are in `sending`).

use super::FakeBotApi;
use super::params::{MAX_DOWNLOAD, Params, bad, fail, ok, read_params, reply};
use super::schema::{UPDATES_LIMIT, refuse};
use super::sending::{
    Kind, copy_message, delete_message, edit_caption, edit_text, send, send_media_group,
};
use super::state::{Bot, State};
use axum::extract::{Path, Request, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::time::Duration;

/// `GET /file/bot<token>/<file_path>`: a file's bytes, where getFile's `file_path`
/// (`files/<file_id>`) points; the slash may come percent-encoded (teloxide does that).
pub async fn download(
    AxState(fake): AxState<FakeBotApi>,
    Path((bot_token, path)): Path<(String, String)>,
) -> Response {
    let file_id = path
        .strip_prefix("files/")
        .or_else(|| path.strip_prefix("files%2F"))
        .unwrap_or(&path)
        .to_owned();
    let state = fake.state();
    let known_bot = bot_token
        .strip_prefix("bot")
        .is_some_and(|token| state.bot_by_token(token).is_some());
    match state.files.get(&file_id) {
        Some(bytes) if known_bot => bytes.clone().into_response(),
        _ => fail(404, "Not Found"),
    }
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
    let (bot, late) = {
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
        let late = state
            .late
            .iter()
            .position(|(m, _)| m.eq_ignore_ascii_case(&method))
            .map(|i| state.late.remove(i).1);
        (bot, late)
    };
    let response = answer(&fake, &bot, &method, &params).await;
    if let Some(wait) = late {
        // Done (the message is stored), but the client hears of it only now.
        tokio::time::sleep(wait).await;
    }
    response
}

async fn answer(fake: &FakeBotApi, bot: &Bot, method: &str, params: &Params) -> Response {
    match method.to_ascii_lowercase().as_str() {
        "getme" => {
            // getMe adds the bot's capabilities to the User object.
            let mut me = State::bot_json(bot);
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
        "getupdates" => get_updates(fake, bot.id, params).await,
        "getfile" => get_file(fake, params),
        "sendmessage" => send(fake, bot.id, params, Kind::Text),
        "sendphoto" => send(fake, bot.id, params, Kind::Media("photo")),
        "sendvideo" => send(fake, bot.id, params, Kind::Media("video")),
        "senddocument" => send(fake, bot.id, params, Kind::Media("document")),
        "sendvoice" => send(fake, bot.id, params, Kind::Media("voice")),
        "sendsticker" => send(fake, bot.id, params, Kind::Media("sticker")),
        "sendmediagroup" => send_media_group(fake, bot.id, params),
        "copymessage" => copy_message(fake, bot.id, params),
        "editmessagetext" => edit_text(fake, bot.id, params),
        "editmessagecaption" => edit_caption(fake, bot.id, params),
        "deletemessage" => delete_message(fake, bot.id, params),
        _ => fail(404, "Not Found: method not found"),
    }
}

async fn get_updates(fake: &FakeBotApi, bot_id: i64, params: &Params) -> Response {
    let offset = params.int("offset").unwrap_or(0);
    let limit = match params.str("limit").filter(|l| !l.is_empty()) {
        None => UPDATES_LIMIT,
        // The server reads a non-number as 0.
        Some(l) => l.trim().parse::<i64>().unwrap_or(0),
    };
    if !(1..=UPDATES_LIMIT).contains(&limit) {
        return refuse(&format!(
            "Limit {limit}: the Bot API documents values between 1-{UPDATES_LIMIT} (the server would clamp it; the fake refuses it)"
        ));
    }
    let limit = limit as usize;
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
        return bad("file_id not specified");
    };
    match fake.state().files.get(&file_id) {
        Some(bytes) if bytes.len() > MAX_DOWNLOAD => bad("file is too big"),
        Some(bytes) => ok(
            json!({"file_id": file_id, "file_unique_id": file_id, "file_size": bytes.len(), "file_path": format!("files/{file_id}")}),
        ),
        None => bad("invalid file_id"),
    }
}
