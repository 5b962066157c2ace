//! The router's per-pair step: what each destination's outbox row becomes under the pair's
//! rules and the destination's own (`relay_core::rules::decide`, the same code a preview
//! runs), a holding pause, and the plan (edits and deletes only where it includes them).
//! Rules are compiled once per pair version and plan.

use chrono::{DateTime, Utc};
use relay_core::DestinationId;
use relay_core::delivery::DeliveryAction;
use relay_core::messages::{DeliveryPayload, IncomingMessage};
use relay_core::plans::has_feature;
use relay_core::rules::{CompiledRules, Decision, Event, decide, effective};
use relay_store::pairs::{Route, RouteDestination};
use relay_store::{NewDelivery, RowDecision};
use std::collections::HashMap;
use std::sync::Arc;

/// Compiled rules per destination of each pair, kept while the pair's rules, the
/// destination's and the owner's plan stay as they were (a route reload that changed none
/// of them compiles nothing).
#[derive(Default)]
pub struct RulesCache {
    compiled: std::sync::Mutex<HashMap<DestinationId, Cached>>,
}

struct Cached {
    pair: serde_json::Value,
    destination: Option<serde_json::Value>,
    features: serde_json::Value,
    rules: Option<Arc<CompiledRules>>,
}

impl RulesCache {
    /// The rules of one destination of `route` as its owner's plan allows them; `None`
    /// when there are none.
    fn rules(&self, route: &Route, destination: &RouteDestination) -> Option<Arc<CompiledRules>> {
        let mut compiled = self.compiled.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = compiled.get(&destination.id)
            && c.pair == route.rules
            && c.destination == destination.rules
            && c.features == route.features
        {
            return c.rules.clone();
        }
        let rules = match effective(&route.rules, destination.rules.as_ref(), &route.features) {
            Ok(rules) => rules.map(Arc::new),
            Err(errors) => {
                tracing::warn!(pair = %route.pair_id, errors, "saved rules do not apply; ignored");
                None
            }
        };
        compiled.insert(
            destination.id,
            Cached {
                pair: route.rules.clone(),
                destination: destination.rules.clone(),
                features: route.features.clone(),
                rules: rules.clone(),
            },
        );
        rules
    }

    /// What the pair's rules, its pause and the owner's plan make of one outbox row
    /// (`row`, as fanned out for `destination`).
    pub fn apply(
        &self,
        route: &Route,
        destination: &RouteDestination,
        incoming: Option<&IncomingMessage>,
        payload: &DeliveryPayload,
        mut row: NewDelivery,
        now_ms: i64,
    ) -> NewDelivery {
        if route.held {
            row.decision = RowDecision::held_until_released("paused");
            return row;
        }
        let unsold = match row.action {
            DeliveryAction::Edit => (!has_feature(&route.features, "edits")).then_some("edits"),
            DeliveryAction::Delete => {
                (!has_feature(&route.features, "deletes")).then_some("deletes")
            }
            DeliveryAction::Create => None,
        };
        if let Some(feature) = unsold {
            row.decision = RowDecision::Filtered {
                rule: format!("plan.{feature}"),
            };
            return row;
        }
        let (Some(m), Some(rules)) = (incoming, self.rules(route, destination)) else {
            return row;
        };
        let event = if row.action == DeliveryAction::Edit {
            Event::Edit
        } else {
            Event::Create
        };
        let to_json = |p: &DeliveryPayload| serde_json::to_value(p).unwrap_or_default();
        match decide(&rules, event, m, payload, &route.name, now_ms) {
            Decision::Send(sent) => {
                if sent != *payload {
                    row.payload = to_json(&sent);
                }
            }
            Decision::Filtered(dropped) => {
                row.decision = RowDecision::Filtered { rule: dropped.rule };
            }
            Decision::Held {
                payload: held,
                until_ms,
                reason,
            } => {
                row.payload = to_json(&held);
                row.decision = match DateTime::<Utc>::from_timestamp_millis(until_ms) {
                    Some(until) => RowDecision::Held {
                        until,
                        reason: reason.into(),
                    },
                    None => RowDecision::held_until_released(reason),
                };
            }
        }
        row
    }
}

#[cfg(test)]
mod tests {
    //! The decision as the router takes it (`relay_core::rules::decide`).
    use super::*;
    use relay_core::messages::{Author, MediaRef, MediaSource};
    use relay_core::rules::{Dropped, MessageKind, kinds_of};
    use serde_json::json;

    fn rules(value: serde_json::Value) -> CompiledRules {
        CompiledRules::compile(&relay_core::rules::parse(&value).expect("rules")).expect("compiles")
    }

    fn message(text: &str) -> IncomingMessage {
        IncomingMessage {
            chat_id: "-100".into(),
            message_id: "7".into(),
            author: Author {
                id: "42".into(),
                name: "Alice".into(),
                avatar_url: None,
            },
            text: text.into(),
            posted_at_ms: 1_000_000,
            ..IncomingMessage::default()
        }
    }

    fn payload(m: &IncomingMessage) -> DeliveryPayload {
        DeliveryPayload {
            text: m.text.clone(),
            posted_at_ms: m.posted_at_ms,
            ..DeliveryPayload::default()
        }
    }

    #[test]
    fn filters_decide_new_messages_and_transforms_apply_to_edits_too() {
        let r = rules(json!({
            "filters": [{"type": "keywords", "words": ["news"]}],
            "transforms": [{"type": "header", "template": "{source_chat}"}]
        }));
        let m = message("other");
        assert_eq!(
            decide(&r, Event::Create, &m, &payload(&m), "My pair", 1_000_000),
            Decision::Filtered(Dropped {
                rule: "filters[0]".into(),
                kind: "keywords"
            })
        );
        let Decision::Send(edit) = decide(&r, Event::Edit, &m, &payload(&m), "My pair", 1_000_000)
        else {
            panic!("an edit is not filtered")
        };
        assert_eq!(edit.text.text, "My pair\nother");
        let m = message("good news");
        let Decision::Send(sent) =
            decide(&r, Event::Create, &m, &payload(&m), "My pair", 1_000_000)
        else {
            panic!("sent")
        };
        assert_eq!(sent.text.text, "My pair\ngood news");
    }

    #[test]
    fn a_delay_holds_new_messages_from_when_they_were_posted() {
        let r = rules(json!({"delay_seconds": 30}));
        let m = message("later");
        match decide(&r, Event::Create, &m, &payload(&m), "p", 1_005_000) {
            Decision::Held { until_ms, .. } => assert_eq!(until_ms, 1_030_000),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            decide(&r, Event::Create, &m, &payload(&m), "p", 1_031_000),
            Decision::Send(_)
        ));
    }

    #[test]
    fn kinds_follow_the_files() {
        let file = |name: &str, content_type: Option<&str>| MediaRef {
            filename: name.into(),
            source: MediaSource::Url {
                url: "https://cdn.discordapp.com/x".into(),
            },
            size: 1,
            content_type: content_type.map(str::to_owned),
        };
        let mut m = message("");
        assert_eq!(kinds_of(&m), [MessageKind::Text]);
        m.media = vec![file("photo.jpg", None)];
        assert_eq!(kinds_of(&m), [MessageKind::Photo]);
        m.media = vec![
            file("a.png", Some("image/png")),
            file("b.mp4", Some("video/mp4")),
        ];
        assert_eq!(
            kinds_of(&m),
            [MessageKind::Photo, MessageKind::Video, MessageKind::Album]
        );
        m.media = vec![file("voice.ogg", None)];
        assert_eq!(kinds_of(&m), [MessageKind::Voice]);
        m.media = vec![file("report.pdf", Some("application/pdf"))];
        assert_eq!(kinds_of(&m), [MessageKind::Document]);
    }
}
