//! A pair's rules and its destinations' as the API takes them: read and checked with
//! `relay_core::rules` (every problem a 422 field error pointing into the JSON, such as
//! `rules.filters[2].pattern` or `destinations[0].rules.transforms[1].template`), then held
//! against the plan: a rule needing a feature the plan lacks is a 403 `plan_feature`.

use crate::ApiError;
use crate::gate::Gate;
use crate::routes::Fields;
use relay_core::rules::{DestinationRules, Rules, parse, parse_destination};
use serde_json::Value;

fn join(at: &str, path: &str) -> String {
    if path.is_empty() {
        at.to_owned()
    } else {
        format!("{at}.{path}")
    }
}

/// A pair's rules, checked; `None` (and field errors under `at`) when they are not sound.
/// Left out or `null`: no rules.
pub(super) fn check_pair_rules(
    fields: &mut Fields,
    at: &str,
    value: Option<&Value>,
) -> Option<Rules> {
    match value {
        None | Some(Value::Null) => Some(Rules::default()),
        Some(value) => match parse(value) {
            Ok(rules) => Some(rules),
            Err(errors) => {
                for e in errors {
                    fields.add(&join(at, &e.path), e.message);
                }
                None
            }
        },
    }
}

/// A destination's rules, checked; `Some(None)` when it has none.
pub(super) fn check_destination_rules(
    fields: &mut Fields,
    at: &str,
    value: Option<&Value>,
) -> Option<Option<DestinationRules>> {
    match value {
        None | Some(Value::Null) => Some(None),
        Some(value) => match parse_destination(value) {
            Ok(rules) => Some(Some(rules)),
            Err(errors) => {
                for e in errors {
                    fields.add(&join(at, &e.path), e.message);
                }
                None
            }
        },
    }
}

/// Refuses rules whose features the owner's plan lacks (the first one missing).
pub(super) fn gate_rules<'a>(
    gate: &Gate,
    pair: &Rules,
    destinations: impl IntoIterator<Item = &'a DestinationRules>,
) -> Result<(), ApiError> {
    let mut features = pair.features();
    for d in destinations {
        let as_rules = Rules {
            filters: d.filters.clone(),
            transforms: d.transforms.clone(),
            ..Rules::default()
        };
        features.extend(as_rules.features());
    }
    for feature in features {
        gate.feature(feature)?;
    }
    Ok(())
}

/// Rules as stored: their canonical JSON.
pub(super) fn stored(rules: &Rules) -> Value {
    serde_json::to_value(rules).unwrap_or_else(|_| Value::Object(Default::default()))
}

pub(super) fn stored_destination(rules: &Option<DestinationRules>) -> Option<Value> {
    rules.as_ref().and_then(|r| serde_json::to_value(r).ok())
}
