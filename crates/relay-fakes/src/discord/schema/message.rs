//! Message bodies of the four routes that take one: create (`MessageCreateRequest`), edit
//! (`MessageEditRequestPartial`), execute a webhook (`IncomingWebhookRequestPartial`) and
//! edit a webhook's message (`IncomingWebhookUpdateRequestPartial`).

use super::spec::{self, Model};
use super::{Check, embed};
use axum::response::Response;
use serde_json::{Map, Value};

/// The route a message body was sent to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    CreateMessage,
    EditMessage,
    ExecuteWebhook,
    EditWebhookMessage,
}

impl Route {
    fn model(self) -> &'static Model {
        match self {
            Route::CreateMessage => &spec::MESSAGE_CREATE,
            Route::EditMessage => &spec::MESSAGE_EDIT,
            Route::ExecuteWebhook => &spec::WEBHOOK_EXECUTE,
            Route::EditWebhookMessage => &spec::WEBHOOK_EDIT,
        }
    }
}

const WEB: &[&str] = &["http", "https"];

/// Checks a message body (JSON, or a multipart body's `payload_json`) sent with `files`
/// uploaded files against the route's schema.
pub(crate) fn check_message(route: Route, body: &Value, files: usize) -> Result<(), Response> {
    let mut c = Check::new();
    let model = route.model();
    if body.is_null() {
        c.fail(
            "MODEL_TYPE_CONVERT",
            "Only dictionaries may be used in a ModelType",
        );
    }
    let Some(msg) = c.object(body, model.fields, &[]) else {
        return c.finish();
    };
    let has = |name: &str| model.fields.contains(&name);
    c.field(msg, "content", |c, v| {
        c.string(v, 0, spec::CONTENT).map(drop)
    });
    c.field(msg, "embeds", embed::check_embeds);
    c.field(msg, "allowed_mentions", allowed_mentions);
    c.field(msg, "components", |c, v| objects(c, v, spec::COMPONENTS));
    c.field(msg, "flags", |c, v| c.int(v, i64::MIN, i64::MAX).map(drop));
    c.field(msg, "attachments", attachments);
    if files > spec::FILES {
        let text = format!("Must be {} or fewer in length.", spec::FILES);
        c.at("attachments", |c| c.fail("BASE_TYPE_MAX_LENGTH", text));
    }
    for name in ["poll", "shared_client_theme"] {
        c.field(msg, name, |c, v| {
            if !v.is_object() && !v.is_null() {
                c.fail(
                    "MODEL_TYPE_CONVERT",
                    "Only dictionaries may be used in a ModelType",
                );
            }
        });
    }
    if has("sticker_ids") {
        c.field(msg, "sticker_ids", |c, v| snowflakes(c, v, spec::STICKERS));
    }
    if has("message_reference") {
        c.field(msg, "message_reference", reference);
    }
    if has("nonce") {
        c.field(msg, "nonce", nonce);
    }
    for name in ["enforce_nonce", "tts"] {
        if has(name) {
            c.field(msg, name, |c, v| c.boolean(v).map(drop));
        }
    }
    if has("username") {
        c.field(msg, "username", username);
        c.field(msg, "avatar_url", |c, v| c.url(v, WEB));
        let thread_name = |c: &mut Check, v: &Value| c.string(v, 0, spec::THREAD_NAME).map(drop);
        c.field(msg, "thread_name", thread_name);
        c.field(msg, "applied_tags", |c, v| {
            snowflakes(c, v, spec::APPLIED_TAGS)
        });
    }
    c.finish()
}

/// An array of at most `max` objects, whose insides the fake does not check.
fn objects(c: &mut Check, v: &Value, max: usize) {
    for (i, item) in c.array(v, max).into_iter().flatten().enumerate() {
        if !item.is_object() {
            c.at(i, |c| {
                c.fail(
                    "MODEL_TYPE_CONVERT",
                    "Only dictionaries may be used in a ModelType",
                )
            });
        }
    }
}

/// An array of at most `max` snowflakes (`null` items allowed where `nullable`).
fn snowflakes(c: &mut Check, v: &Value, max: usize) -> Vec<u64> {
    let items = c.array(v, max).cloned().unwrap_or_default();
    let mut ids = Vec::new();
    for (i, item) in items.iter().enumerate() {
        ids.extend(c.at(i, |c| c.snowflake(item)));
    }
    ids
}

/// `nonce`: an integer (int64) or a string of at most 25 characters.
fn nonce(c: &mut Check, v: &Value) {
    match v {
        Value::Null => {}
        Value::Number(n) if n.is_i64() => {}
        Value::String(s) if s.chars().count() <= spec::NONCE => {}
        Value::String(_) => c.fail(
            "NONCE_TYPE_TOO_LONG",
            format!("Must be {} or fewer characters long.", spec::NONCE),
        ),
        _ => c.fail(
            "NONCE_TYPE_INVALID_TYPE",
            "This field must be a string or integer.",
        ),
    }
}

fn allowed_mentions(c: &mut Check, v: &Value) {
    let model = &spec::ALLOWED_MENTIONS;
    let Some(am) = c.object(v, model.fields, model.echoed) else {
        return;
    };
    let parse: Vec<String> = c.field(am, "parse", |c, v| {
        let items = c.array(v, 1521).cloned().unwrap_or_default();
        let mut kinds = Vec::new();
        for (i, item) in items.iter().enumerate() {
            match item {
                Value::Null => {}
                Value::String(s) if spec::MENTION_TYPES.contains(&s.as_str()) => {
                    kinds.push(s.clone())
                }
                other => c.at(i, |c| {
                    let shown = other
                        .as_str()
                        .map_or_else(|| other.to_string(), str::to_owned);
                    let text = format!("Value \"{shown}\" is not a valid enum value.");
                    c.fail("ENUM_TYPE_COERCE", text)
                }),
            }
        }
        kinds
    });
    for kind in ["users", "roles"] {
        let ids = c.field(am, kind, |c, v| snowflakes(c, v, spec::MENTION_IDS));
        if !ids.is_empty() && parse.iter().any(|p| p == kind) {
            let text = format!("parse:[\"{kind}\"] and {kind}: [ids...] are mutually exclusive.");
            c.fail("MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE", text);
        }
    }
    c.field(am, "replied_user", |c, v| c.boolean(v).map(drop));
}

fn reference(c: &mut Check, v: &Value) {
    let model = &spec::MESSAGE_REFERENCE;
    let Some(r) = c.object(v, model.fields, model.echoed) else {
        return;
    };
    c.required(r, "message_id");
    for id in ["message_id", "channel_id", "guild_id"] {
        c.field(r, id, |c, v| c.snowflake(v).map(drop));
    }
    c.field(r, "fail_if_not_exists", |c, v| c.boolean(v).map(drop));
    c.field(r, "type", |c, v| {
        let kind = c.int(v, i64::MIN, i64::MAX)?;
        if !spec::REFERENCE_TYPES.contains(&kind) {
            let text = format!("Value \"{kind}\" is not a valid enum value.");
            c.fail("ENUM_TYPE_COERCE", text);
        }
        Some(())
    });
}

fn attachments(c: &mut Check, v: &Value) {
    let items = c.array(v, spec::ATTACHMENTS).cloned().unwrap_or_default();
    for (i, item) in items.iter().enumerate() {
        c.at(i, |c| {
            let model = &spec::ATTACHMENT;
            if item.is_null() {
                c.fail(
                    "MODEL_TYPE_CONVERT",
                    "Only dictionaries may be used in a ModelType",
                );
            }
            let Some(a) = c.object(item, model.fields, model.echoed) else {
                return;
            };
            if c.required(a, "id") {
                c.field(a, "id", |c, v| c.snowflake(v).map(drop));
            }
            attachment_fields(c, a);
        });
    }
}

fn attachment_fields(c: &mut Check, a: &Map<String, Value>) {
    let text = spec::ATTACHMENT_TEXT;
    c.field(a, "filename", |c, v| c.string(v, 1, text).map(drop));
    c.field(a, "description", |c, v| c.string(v, 0, text).map(drop));
    c.field(a, "title", |c, v| c.string(v, 0, text).map(drop));
    c.field(a, "waveform", |c, v| {
        c.string(v, 0, spec::WAVEFORM).map(drop)
    });
    c.field(a, "duration_secs", |c, v| {
        if !v.is_null()
            && !v
                .as_f64()
                .is_some_and(|d| (0.0..=2_147_483_647.0).contains(&d))
        {
            let text = format!("Value \"{v}\" is not a valid number between 0 and 2147483647.");
            c.fail("NUMBER_TYPE_COERCE", text);
        }
    });
    for flag in ["is_spoiler", "is_remix"] {
        c.field(a, flag, |c, v| c.boolean(v).map(drop));
    }
}

/// A webhook's `username`: 1 to 80 characters, and none of the names Discord keeps for
/// itself. Seen in its answers: "clyde" and "discord" anywhere in the name (any case), and
/// "here" or "everyone" (`groundsphere` was refused with `Username cannot be "here"`).
fn username(c: &mut Check, v: &Value) {
    let Some(name) = c.string(v, 1, spec::USERNAME) else {
        return;
    };
    if name.is_empty() {
        return;
    }
    if name.trim().is_empty() {
        let text = format!("Must be between 1 and {} in length.", spec::USERNAME);
        c.fail("BASE_TYPE_BAD_LENGTH", text);
        return;
    }
    let lower = name.to_lowercase();
    for word in ["clyde", "discord"] {
        if lower.contains(word) {
            let text = format!("Username cannot contain \"{word}\"");
            c.fail("USERNAME_INVALID_CONTAINS", text);
        }
    }
    for word in ["everyone", "here"] {
        if lower.contains(word) {
            c.fail("USERNAME_INVALID", format!("Username cannot be \"{word}\""));
        }
    }
}
