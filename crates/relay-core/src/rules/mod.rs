//! Pair rules: filters, transformations, delay and forwarding hours — data the customer
//! saves on a pair (and may add to or override per destination), checked once when saved
//! ([`parse`], [`CompiledRules::compile`], errors naming the field: `filters[2].pattern`)
//! and applied by the router to each source message ([`CompiledRules::check`],
//! [`CompiledRules::transform`], [`CompiledRules::hold_until`]). Pure code, no I/O.
//!
//! Regular expressions use the `regex` crate (no backtracking: matching is linear in the
//! text), with limits on pattern length, compiled size and nesting, so no saved pattern can
//! be slow or large.

mod compiled;
mod decide;
mod edits;
mod model;
mod schedule;
mod template;

pub use compiled::{CompiledRules, Dropped, Subject};
pub use decide::{Decision, Event, decide, effective, kinds_of};
pub use edits::{Edit, apply as apply_edits};
pub use model::{
    Combine, DestinationRules, Filter, Keep, KeywordMode, MessageKind, Removable, Rules, Schedule,
    Transform, Weekday, Window,
};

/// A problem with saved rules: where (a path into the rules' JSON, such as
/// `filters[2].pattern`) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    pub path: String,
    pub message: String,
}

impl RuleError {
    fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        RuleError {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// Longest regular expression accepted, in characters.
pub const MAX_PATTERN_CHARS: usize = 500;
/// Most filters or transformations in one list.
pub const MAX_RULES: usize = 50;

/// Reads a pair's rules from JSON and checks them (patterns, templates, hours, time zone),
/// every error with its path; rules it returns compile ([`CompiledRules::compile`]).
pub fn parse(value: &serde_json::Value) -> Result<Rules, Vec<RuleError>> {
    let Some(object) = value.as_object() else {
        return Err(vec![RuleError::new("", "must be an object")]);
    };
    let mut errors = Vec::new();
    let filters = list(object.get("filters"), "filters", &mut errors);
    let transforms = list(object.get("transforms"), "transforms", &mut errors);
    check_lists(&filters, &transforms, "", &mut errors);
    // The rest is flat: serde's own message names the field.
    let mut rest = object.clone();
    rest.remove("filters");
    rest.remove("transforms");
    let rules = match serde_json::from_value::<Rules>(serde_json::Value::Object(rest)) {
        Ok(rules) => rules,
        Err(e) => {
            errors.push(serde_error("", &e));
            Rules::default()
        }
    };
    if let Err(e) = CompiledRules::compile(&Rules {
        filters: Vec::new(),
        transforms: Vec::new(),
        ..rules.clone()
    }) {
        errors.extend(e);
    }
    if errors.is_empty() {
        Ok(Rules {
            filters: filters.into_iter().flatten().collect(),
            transforms: transforms.into_iter().flatten().collect(),
            ..rules
        })
    } else {
        Err(errors)
    }
}

/// The checks compiling makes, on each element read, at its place in the list.
fn check_lists(
    filters: &[Option<Filter>],
    transforms: &[Option<Transform>],
    prefix: &str,
    errors: &mut Vec<RuleError>,
) {
    for (i, filter) in filters.iter().enumerate() {
        if let Some(filter) = filter {
            compiled::check(filter, &format!("{prefix}filters[{i}]"), errors);
        }
    }
    for (i, transform) in transforms.iter().enumerate() {
        if let Some(transform) = transform {
            compiled::step(transform, &format!("{prefix}transforms[{i}]"), errors);
        }
    }
}

/// Reads a destination's rules (`mode`, `filters`, `transforms`) from JSON.
pub fn parse_destination(value: &serde_json::Value) -> Result<DestinationRules, Vec<RuleError>> {
    let Some(object) = value.as_object() else {
        return Err(vec![RuleError::new("", "must be an object")]);
    };
    let mut errors = Vec::new();
    for key in object.keys() {
        if !matches!(key.as_str(), "mode" | "filters" | "transforms") {
            errors.push(RuleError::new(
                key.clone(),
                "is not a destination rule (mode, filters, transforms)",
            ));
        }
    }
    let mode = match object.get("mode") {
        None => Combine::Add,
        Some(mode) => serde_json::from_value(mode.clone()).unwrap_or_else(|_| {
            errors.push(RuleError::new("mode", "must be \"add\" or \"replace\""));
            Combine::Add
        }),
    };
    let filters = list(object.get("filters"), "filters", &mut errors);
    let transforms = list(object.get("transforms"), "transforms", &mut errors);
    check_lists(&filters, &transforms, "", &mut errors);
    if errors.is_empty() {
        Ok(DestinationRules {
            mode,
            filters: filters.into_iter().flatten().collect(),
            transforms: transforms.into_iter().flatten().collect(),
        })
    } else {
        Err(errors)
    }
}

/// The elements of a list, each read on its own so an error names its index (`None` for
/// one that could not be read).
fn list<T: serde::de::DeserializeOwned>(
    value: Option<&serde_json::Value>,
    name: &str,
    errors: &mut Vec<RuleError>,
) -> Vec<Option<T>> {
    let Some(value) = value else {
        return Vec::new();
    };
    let Some(items) = value.as_array() else {
        errors.push(RuleError::new(name, "must be a list"));
        return Vec::new();
    };
    if items.len() > MAX_RULES {
        errors.push(RuleError::new(
            name,
            format!("may hold at most {MAX_RULES} entries"),
        ));
        return Vec::new();
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            serde_json::from_value(item.clone())
                .map_err(|e| errors.push(serde_error(&format!("{name}[{i}]"), &e)))
                .ok()
        })
        .collect()
}

/// serde's message, with the field it names moved into the path where it names one.
fn serde_error(at: &str, e: &serde_json::Error) -> RuleError {
    let message = e.to_string();
    let message = message
        .split(" at line ")
        .next()
        .unwrap_or(&message)
        .to_owned();
    let join = |field: &str| {
        if at.is_empty() {
            field.to_owned()
        } else {
            format!("{at}.{field}")
        }
    };
    let quoted = |m: &str| m.split('`').nth(1).map(str::to_owned);
    if let Some(rest) = message.strip_prefix("missing field ")
        && let Some(field) = quoted(rest)
    {
        return RuleError::new(join(&field), "is required");
    }
    if message.starts_with("unknown field ")
        && let Some(field) = quoted(&message)
    {
        let expected = message.split(", expected ").nth(1).unwrap_or_default();
        return RuleError::new(
            join(&field),
            format!("is not a known field (expected {expected})"),
        );
    }
    let tag = message.contains("`keywords`") || message.contains("`replace`");
    if message.starts_with("unknown variant ") && tag {
        return RuleError::new(join("type"), message);
    }
    RuleError::new(at, message)
}

#[cfg(test)]
mod tests;
