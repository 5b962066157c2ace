//! What every method shares: a call's parameters (query, JSON or multipart) with its
//! uploaded files, the Bot API's limits, and its answers (`{"ok": true, "result": …}` or an
//! error description). `methods` and `sending` both use these; neither needs the other's.

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use std::collections::HashMap;

pub(super) const MAX_UPLOAD: usize = 50 * 1024 * 1024;
/// The largest file getFile hands a bot; larger ones are "too big" to download.
pub(super) const MAX_DOWNLOAD: usize = 20 * 1024 * 1024;

pub(super) fn reply(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

pub(super) fn ok(result: Value) -> Response {
    reply(StatusCode::OK, json!({"ok": true, "result": result}))
}

pub(super) fn fail(code: u16, description: &str) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST);
    reply(
        status,
        json!({"ok": false, "error_code": code, "description": description}),
    )
}

pub(super) fn bad(description: &str) -> Response {
    fail(400, &format!("Bad Request: {description}"))
}

/// A call's parameters, wherever they came from, and its uploaded files.
#[derive(Default)]
pub(super) struct Params {
    values: Map<String, Value>,
    pub(super) files: HashMap<String, (String, Vec<u8>)>,
}

impl Params {
    pub(super) fn int(&self, name: &str) -> Option<i64> {
        match self.values.get(name)? {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.parse().ok(),
            _ => None,
        }
    }

    pub(super) fn str(&self, name: &str) -> Option<String> {
        match self.values.get(name)? {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        }
    }

    /// A JSON-valued parameter (sent as JSON in a JSON body, as a string in multipart);
    /// `None` when absent or empty, `Err` when the string is not JSON.
    pub(super) fn json(&self, name: &str) -> Option<Result<Value, ()>> {
        match self.values.get(name)? {
            Value::Null => None,
            Value::String(s) if s.is_empty() => None,
            Value::String(s) => Some(serde_json::from_str(s).map_err(drop)),
            other => Some(Ok(other.clone())),
        }
    }

    /// Whether the call has the parameter at all (even empty).
    pub(super) fn has(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }

    /// A boolean parameter as the server reads one: `true`, `yes` or `1`, in any case.
    pub(super) fn flag(&self, name: &str) -> bool {
        self.str(name)
            .is_some_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "true" | "yes" | "1"))
    }
}

pub(super) async fn read_params(request: Request) -> Result<Params, Response> {
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
