//! Discord's request schemas for the routes the fake serves, written by hand from Discord's
//! OpenAPI description (the parts used are copied in `specs/discord-openapi.extract.json`;
//! the tests in `spec_tests` hold the limits here, that copy and, when present,
//! `../shared/specs/discord-openapi.json` together).
//!
//! A request that breaks them gets Discord's answer: 400 `{"code": 50035, "message":
//! "Invalid Form Body", "errors": …}` with the errors nested by field path, e.g.
//! `{"embeds": {"0": {"title": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message":
//! "Must be 256 or fewer in length."}]}}}}`. The codes and messages are Discord's where
//! they are known from its answers; the ones for a value of the wrong JSON type are the
//! best known guess.
//!
//! One deliberate difference: a field no schema of the request names is refused with the
//! code `UNKNOWN_FIELD`, where Discord would silently ignore it, so that a misspelt field
//! (`allowed_mention`, `embed`) fails in tests instead of quietly doing nothing.

mod embed;
mod http;
mod message;
pub(crate) mod spec;
#[cfg(test)]
mod spec_tests;
mod value;

pub(crate) use http::{QueryOf, check_query, query_bool, read_body, require_user_agent};
pub(crate) use message::{Route, check_message};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

/// Collects field errors at their paths, as Discord reports them all at once.
#[derive(Debug, Default)]
pub(crate) struct Check {
    errors: Map<String, Value>,
    path: Vec<String>,
}

impl Check {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Runs `f` one level down, at `key` (a field name or an array index).
    pub(crate) fn at<T>(&mut self, key: impl ToString, f: impl FnOnce(&mut Self) -> T) -> T {
        self.path.push(key.to_string());
        let result = f(self);
        self.path.pop();
        result
    }

    /// Records an error at the current path.
    pub(crate) fn fail(&mut self, code: &str, message: impl Into<String>) {
        let mut node = &mut self.errors;
        for key in &self.path {
            let entry = node
                .entry(key.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            let Value::Object(next) = entry else {
                return;
            };
            node = next;
        }
        let list = node
            .entry("_errors")
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(list) = list {
            list.push(json!({"code": code, "message": message.into()}));
        }
    }

    /// Discord's 50035 answer with every error recorded, or `Ok` when there is none.
    pub(crate) fn finish(self) -> Result<(), Response> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(invalid_form_body(Value::Object(self.errors)))
        }
    }
}

/// 400 `{"code": 50035, "message": "Invalid Form Body", "errors": errors}`.
pub(crate) fn invalid_form_body(errors: Value) -> Response {
    let body = json!({"code": 50035, "message": "Invalid Form Body", "errors": errors});
    (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_nest_by_path_and_collect() {
        let mut check = Check::new();
        check.at("embeds", |c| {
            c.at(0, |c| c.at("title", |c| c.fail("A", "first")));
            c.at(0, |c| c.at("title", |c| c.fail("B", "second")));
        });
        check.fail("ROOT", "at the top");
        assert_eq!(
            check.errors,
            *json!({
                "embeds": {"0": {"title": {"_errors": [
                    {"code": "A", "message": "first"}, {"code": "B", "message": "second"}]}}},
                "_errors": [{"code": "ROOT", "message": "at the top"}]
            })
            .as_object()
            .expect("object")
        );
    }
}
