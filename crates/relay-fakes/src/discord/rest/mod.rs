//! REST v10: users, guilds, channels, messages (JSON and multipart), webhooks, with
//! Discord's error codes, rate-limit headers and 429s. Every request is checked as Discord
//! checks it (headers, query, body against the route's schema) by `schema` first.

use super::FakeDiscord;
use super::model::{self, NewMessage, error_body};
use super::state::{Bot, GLOBAL_LIMIT_PER_SEC, State};
use crate::discord::schema::{self, QueryOf, Route};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State as AxState};
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

mod guilds;
mod limits;
mod messages;
mod webhooks;

use guilds::*;
use limits::*;
use messages::*;
use webhooks::*;

pub use messages::{delete_message, edit_message};

pub(super) const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;

pub(super) type Fake = AxState<FakeDiscord>;

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
        // Outside the rate limits: Discord's edge refuses these before the API counts them.
        .layer(axum::middleware::from_fn(schema::require_user_agent))
        .layer(DefaultBodyLimit::max(30 * 1024 * 1024))
        .with_state(fake)
}

pub(super) fn discord_error(status: StatusCode, code: u32, message: &str) -> Response {
    (status, axum::Json(error_body(code, message))).into_response()
}

pub(super) fn invalid_form(field: &str, code: &str, message: &str) -> Response {
    let body = json!({"code": 50035, "message": "Invalid Form Body",
        "errors": {field: {"_errors": [{"code": code, "message": message}]}}});
    (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
}

pub(super) fn unauthorized() -> Response {
    discord_error(StatusCode::UNAUTHORIZED, 0, "401: Unauthorized")
}

pub(super) fn bot(state: &State, headers: &HeaderMap) -> Result<Bot, Response> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bot "))
        .ok_or_else(unauthorized)?;
    state.bot_by_token(token).cloned().ok_or_else(unauthorized)
}

pub(super) fn json_ok<T: serde::Serialize>(value: &T) -> Response {
    axum::Json(value).into_response()
}
