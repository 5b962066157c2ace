//! What Discord checks before it reads a body: a `User-Agent` on every API request, a
//! `Content-Type` it reads (JSON or multipart), JSON that parses, and query parameters of
//! the right types (`?wait=` a boolean, `limit` within its range, ids as snowflakes).

use super::Check;
use super::spec;
use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use std::collections::HashMap;

/// A request body: the message fields (from JSON or `payload_json`; `{}` when there was no
/// body) and the files of a multipart body.
#[derive(Debug, Default)]
pub(crate) struct Body {
    pub(crate) payload: Value,
    pub(crate) files: Vec<(String, Bytes)>,
}

/// Refuses an API request without a `User-Agent`, as Discord's edge does ("Clients must
/// provide a valid User-Agent"; its blocks answer 403 with code 40333).
pub(crate) async fn require_user_agent(request: Request, next: Next) -> Response {
    let has_agent = request
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| !v.trim().is_empty());
    if has_agent || !request.uri().path().starts_with("/api/") {
        return next.run(request).await;
    }
    let body = json!({"message": "internal network error", "code": 40333});
    (StatusCode::FORBIDDEN, axum::Json(body)).into_response()
}

fn invalid_json() -> Response {
    let body = json!({"code": 50109, "message": "The request body contains invalid JSON."});
    (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
}

fn content_type_invalid() -> Response {
    let quoted: Vec<String> = spec::CONTENT_TYPES
        .iter()
        .map(|t| format!("'{t}'"))
        .collect();
    let message = format!(
        "Expected \"Content-Type\" header to be one of {{{}}}.",
        quoted.join(", ")
    );
    super::invalid_form_body(
        json!({"_misc": {"_errors": [{"code": "CONTENT_TYPE_INVALID", "message": message}]}}),
    )
}

/// Reads a message body: JSON with `Content-Type: application/json`, or
/// `multipart/form-data` with `payload_json` (or plain text fields) and `files[n]` parts.
pub(crate) async fn read_body(request: Request) -> Result<Body, Response> {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        });
    if content_type.as_deref() == Some("multipart/form-data") {
        return read_multipart(request).await;
    }
    let bytes = Bytes::from_request(request, &())
        .await
        .map_err(IntoResponse::into_response)?;
    if bytes.is_empty() {
        return Ok(Body {
            payload: Value::Object(Map::new()),
            files: Vec::new(),
        });
    }
    match content_type.as_deref() {
        Some("application/json") => {}
        Some("application/x-www-form-urlencoded") => {
            let body = json!({"code": 0, "message":
                "The fake Discord reads JSON and multipart bodies only (Discord also takes application/x-www-form-urlencoded)."});
            return Err((StatusCode::BAD_REQUEST, axum::Json(body)).into_response());
        }
        _ => return Err(content_type_invalid()),
    }
    let payload = serde_json::from_slice(&bytes).map_err(|_| invalid_json())?;
    Ok(Body {
        payload,
        files: Vec::new(),
    })
}

async fn read_multipart(request: Request) -> Result<Body, Response> {
    let mut multipart = Multipart::from_request(request, &())
        .await
        .map_err(IntoResponse::into_response)?;
    let mut payload = None;
    let mut fields = Map::new();
    let mut files = Vec::new();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(_) => return Err(invalid_form_misc("Invalid multipart body.")),
        };
        let name = field.name().unwrap_or_default().to_owned();
        let filename = field.file_name().map(str::to_owned);
        let bytes = field
            .bytes()
            .await
            .map_err(|_| invalid_form_misc("Invalid multipart body."))?;
        if name == "payload_json" {
            payload = Some(serde_json::from_slice(&bytes).map_err(|_| invalid_json())?);
        } else if name.starts_with("files[") || filename.is_some() {
            files.push((filename.unwrap_or_else(|| "file".into()), bytes));
        } else {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            fields.insert(name, Value::String(text));
        }
    }
    Ok(Body {
        payload: payload.unwrap_or(Value::Object(fields)),
        files,
    })
}

fn invalid_form_misc(message: &str) -> Response {
    super::invalid_form_body(
        json!({"_misc": {"_errors": [{"code": "BASE_TYPE_INVALID", "message": message}]}}),
    )
}

/// The query parameters of the routes that take some.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum QueryOf {
    /// `GET channels/{id}/messages`: `around`, `before`, `after`, `limit` (1 to 100).
    ListMessages,
    /// `POST webhooks/{id}/{token}`: `wait`, `thread_id`, `with_components`.
    ExecuteWebhook,
    /// `PATCH`/`DELETE webhooks/{id}/{token}/messages/{id}`: `thread_id`, `with_components`.
    WebhookMessage,
}

/// Checks the query parameters `route` takes (others are ignored, as Discord does).
pub(crate) fn check_query(route: QueryOf, query: &HashMap<String, String>) -> Result<(), Response> {
    let mut c = Check::new();
    let (snowflakes, booleans): (&[&str], &[&str]) = match route {
        QueryOf::ListMessages => (&["around", "before", "after"], &[]),
        QueryOf::ExecuteWebhook => (&["thread_id"], &["wait", "with_components"]),
        QueryOf::WebhookMessage => (&["thread_id"], &["with_components"]),
    };
    for name in snowflakes {
        if let Some(v) = query.get(*name) {
            c.at(name, |c| c.snowflake(&Value::String(v.clone())));
        }
    }
    for name in booleans {
        if let Some(v) = query.get(*name) {
            c.at(name, |c| {
                if query_bool(v).is_none() {
                    c.fail("BOOLEAN_TYPE_CONVERT", "Must be either true or false.");
                }
            });
        }
    }
    if route == QueryOf::ListMessages
        && let Some(v) = query.get("limit")
    {
        c.at("limit", |c| match v.parse::<i64>() {
            Ok(n) => drop(c.int(&Value::from(n), 1, spec::HISTORY_LIMIT)),
            Err(_) => c.fail("NUMBER_TYPE_COERCE", format!("Value \"{v}\" is not int.")),
        });
    }
    c.finish()
}

/// A boolean query value: `true` or `false` in any case, or `1` or `0`.
pub(crate) fn query_bool(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}
