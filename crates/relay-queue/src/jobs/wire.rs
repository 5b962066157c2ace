//! Encoding jobs as stream fields and delayed-set members, and picking Redis' replies
//! (RESP2 arrays or RESP3 maps) apart.

use super::{Job, StreamKind};
use redis::Value;
use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub(super) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

pub(super) fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Whether Redis answered with this error code, such as `NOGROUP`.
pub(super) fn is_code(err: &redis::RedisError, code: &str) -> bool {
    err.code() == Some(code)
}

pub(super) fn job_fields(job: &Job) -> [(&'static str, String); 4] {
    [
        ("d", job.delivery_id.to_string()),
        ("dest", job.destination.clone()),
        ("prio", job.priority.as_str().to_owned()),
        ("a", job.attempt.to_string()),
    ]
}

pub(super) fn delayed_member(job: &Job) -> String {
    format!(
        "{}|{}|{}|{}",
        job.delivery_id,
        job.attempt.saturating_add(1),
        job.priority.as_str(),
        job.destination
    )
}

/// The text of a reply element.
pub(super) fn text(value: &Value) -> Option<String> {
    match value {
        Value::BulkString(bytes) => String::from_utf8(bytes.clone()).ok(),
        Value::SimpleString(s) => Some(s.clone()),
        Value::Int(n) => Some(n.to_string()),
        Value::VerbatimString { text, .. } => Some(text.clone()),
        Value::Okay => Some("OK".to_owned()),
        _ => None,
    }
}

pub(super) fn items(value: &Value) -> &[Value] {
    match value {
        Value::Array(items) | Value::Set(items) => items,
        _ => &[],
    }
}

/// Field/value pairs of a stream entry (a flat array, or a map under RESP3).
pub(super) fn field_map(value: &Value) -> Option<HashMap<String, String>> {
    match value {
        Value::Map(pairs) => pairs
            .iter()
            .map(|(k, v)| Some((text(k)?, text(v)?)))
            .collect(),
        Value::Array(flat) => flat
            .chunks(2)
            .map(|pair| match pair {
                [k, v] => Some((text(k)?, text(v)?)),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

pub(super) fn decode_job(fields: &HashMap<String, String>) -> Option<Job> {
    Some(Job {
        delivery_id: fields.get("d")?.parse().ok()?,
        destination: fields.get("dest")?.clone(),
        priority: fields.get("prio")?.parse().ok()?,
        attempt: fields.get("a")?.parse().ok()?,
    })
}

/// An entry as Redis returned it: its stream, id and fields (`None`: deleted while pending).
pub(super) type RawEntry = (StreamKind, String, Option<HashMap<String, String>>);

/// `(id, fields)` of the entries in an entry list such as XRANGE's; `None` fields for
/// entries that were deleted while pending.
pub(super) fn entry_list(value: &Value) -> Vec<(String, Option<HashMap<String, String>>)> {
    items(value)
        .iter()
        .filter_map(|entry| match items(entry) {
            [id, fields, ..] => Some((text(id)?, field_map(fields))),
            [id] => Some((text(id)?, None)),
            _ => None,
        })
        .collect()
}
