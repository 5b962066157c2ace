//! The router's per-pair step: what one destination of a pair gets from a source event
//! under the pair's rules (and the destination's own): the message as its transformations
//! leave it, nothing (a filter dropped it: which one is recorded), or the message held until
//! its delay or forwarding hours allow. Filters decide on new messages only; an edit is
//! transformed like its message (a message no filter let through has no copy to edit), and
//! a delete always follows. Pure; the rules were compiled once per pair version.

use chrono::{DateTime, Utc};
use relay_core::DestinationId;
use relay_core::delivery::DeliveryAction;
use relay_core::messages::{DeliveryPayload, IncomingMessage, MediaRef};
use relay_core::plans::has_feature;
use relay_core::rules::{CompiledRules, Dropped, Filter, MessageKind, Rules, Subject, Transform};
use relay_store::pairs::{Route, RouteDestination};
use relay_store::{NewDelivery, RowDecision};
use std::collections::HashMap;
use std::sync::Arc;

/// What a destination gets.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Send this now.
    Send(DeliveryPayload),
    /// Not sent: the filter that stopped it.
    Filtered(Dropped),
    /// Sent at `until_ms` (ms since the epoch), not before.
    Held {
        payload: DeliveryPayload,
        until_ms: i64,
        reason: &'static str,
    },
}

/// Which event of a message it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    Create,
    Edit,
}

/// The decision for one destination. `pair_name` stands in for `{source_chat}` when the
/// source does not report its chat's title.
pub fn decide(
    rules: &CompiledRules,
    event: Event,
    m: &IncomingMessage,
    payload: &DeliveryPayload,
    pair_name: &str,
    now_ms: i64,
) -> Decision {
    let kinds = kinds_of(m);
    let subject = Subject {
        text: &m.text,
        kinds: &kinds,
        author_id: &m.author.id,
        author_name: &m.author.name,
        author_is_bot: m.author_is_bot,
        forwarded: m.forwarded,
        reply: m.reply_to.is_some(),
        has_media: !m.media.is_empty(),
        source_chat: m.chat_title.as_deref().unwrap_or(pair_name),
        link: m.link.as_deref(),
        posted_at_ms: m.posted_at_ms,
    };
    if event == Event::Create
        && let Err(dropped) = rules.check(&subject)
    {
        return Decision::Filtered(dropped);
    }
    let payload = if rules.transforms() {
        DeliveryPayload {
            text: rules.transform(&subject),
            ..payload.clone()
        }
    } else {
        payload.clone()
    };
    if event == Event::Create
        && let Some(until_ms) = rules.hold_until(m.posted_at_ms, now_ms)
    {
        return Decision::Held {
            payload,
            until_ms,
            reason: "rules.delay",
        };
    }
    Decision::Send(payload)
}

/// What a message is, for the kinds filter: `text` without files; each file's kind; and
/// `album` for several files.
pub fn kinds_of(m: &IncomingMessage) -> Vec<MessageKind> {
    let mut kinds: Vec<MessageKind> = m.media.iter().map(kind_of).collect();
    if m.media.len() > 1 || !m.grouped_ids.is_empty() {
        kinds.push(MessageKind::Album);
    }
    if kinds.is_empty() {
        kinds.push(MessageKind::Text);
    }
    kinds.dedup();
    kinds
}

fn kind_of(media: &MediaRef) -> MessageKind {
    let content_type = media.content_type.as_deref().unwrap_or_default();
    let name = media.filename.to_ascii_lowercase();
    if name.starts_with("sticker.") || content_type == "application/x-tgsticker" {
        MessageKind::Sticker
    } else if name.starts_with("voice.") || content_type == "audio/ogg" {
        MessageKind::Voice
    } else if content_type.starts_with("image/") || name.ends_with(".jpg") || name.ends_with(".png")
    {
        MessageKind::Photo
    } else if content_type.starts_with("video/") || name.ends_with(".mp4") {
        MessageKind::Video
    } else {
        MessageKind::Document
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use relay_core::messages::{Author, MediaSource};
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

/// The time a holding pause's messages wait for: until the pair is resumed.
fn until_resumed() -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(253_402_300_799, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
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
        let rules = compile(route, destination);
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
            row.decision = RowDecision::Held {
                until: until_resumed(),
                reason: "paused".into(),
            };
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
                row.decision = RowDecision::Held {
                    until: DateTime::<Utc>::from_timestamp_millis(until_ms)
                        .unwrap_or_else(until_resumed),
                    reason: reason.into(),
                };
            }
        }
        row
    }
}

/// A destination's rules, with what the plan does not include left out (a downgrade stops
/// a feature applying; the saved rules stay as they were).
fn compile(route: &Route, destination: &RouteDestination) -> Option<Arc<CompiledRules>> {
    let features = &route.features;
    let pair = relay_core::rules::parse(&route.rules)
        .map_err(|e| tracing::warn!(pair = %route.pair_id, errors = ?e, "saved pair rules do not parse; ignored"))
        .unwrap_or_default();
    let own = destination
        .rules
        .as_ref()
        .and_then(|r| relay_core::rules::parse_destination(r).ok());
    let mut rules = match &own {
        Some(own) => pair.with_destination(own),
        None => pair,
    };
    let has = |f: &str| has_feature(features, f);
    if !has("regex") {
        rules.filters.retain(|f| !matches!(f, Filter::Regex { .. }));
        rules
            .transforms
            .retain(|t| !matches!(t, Transform::RegexReplace { .. }));
    }
    if !has("filters") {
        rules.filters.clear();
    }
    if !has("transforms") {
        rules.transforms.clear();
    }
    if !has("delay") {
        rules.delay_seconds = None;
        rules.schedule = None;
    }
    if rules.is_empty()
        || rules
            == (Rules {
                time_zone: rules.time_zone.clone(),
                ..Rules::default()
            })
    {
        return None;
    }
    CompiledRules::compile(&rules)
        .map_err(|e| tracing::warn!(pair = %route.pair_id, errors = ?e, "saved rules do not compile; ignored"))
        .ok()
        .map(Arc::new)
}
