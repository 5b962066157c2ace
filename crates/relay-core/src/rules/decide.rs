//! What one destination gets from one source message under its rules — the single code
//! path for live forwarding (the worker's router) and for a preview (the API): the
//! message as the transformations leave it, nothing (which filter stopped it), or the
//! message held until its delay or forwarding hours allow. Filters decide on new messages
//! only; an edit is transformed like its message. Also: the rules as a plan allows them.

use super::{CompiledRules, Dropped, Filter, MessageKind, Rules, Subject, Transform};
use crate::messages::{DeliveryPayload, IncomingMessage, MediaRef};
use crate::plans::has_feature;

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

/// A destination's rules over its pair's (both as saved JSON), with what the plan's
/// `features` do not include left out (a downgrade stops a feature applying; the saved
/// rules stay); `None` when nothing is left to apply. Saved rules were checked when saved;
/// any that no longer parse are ignored, and the error returned for the caller to log.
pub fn effective(
    pair: &serde_json::Value,
    destination: Option<&serde_json::Value>,
    features: &serde_json::Value,
) -> Result<Option<CompiledRules>, String> {
    let pair = super::parse(pair).map_err(|e| format!("{e:?}"))?;
    let own = match destination {
        Some(d) => Some(super::parse_destination(d).map_err(|e| format!("{e:?}"))?),
        None => None,
    };
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
    let nothing = Rules {
        time_zone: rules.time_zone.clone(),
        ..Rules::default()
    };
    if rules == nothing {
        return Ok(None);
    }
    CompiledRules::compile(&rules)
        .map(Some)
        .map_err(|e| format!("{e:?}"))
}
