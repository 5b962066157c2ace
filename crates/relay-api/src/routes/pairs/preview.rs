//! `POST /api/v1/pairs/{id}/preview`: what each destination would get from a sample
//! message under the pair's rules, the destination's own and the owner's plan — through
//! `relay_core::rules::decide`, the code the worker runs on live messages — rendered as the
//! destination's platform takes it (Discord markdown, or Telegram text with entities).

use super::parse_id;
use crate::auth::AuthUser;
use crate::routes::Fields;
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use relay_core::format::{DiscordOptions, from_discord_markdown, to_discord_markdown, to_telegram};
use relay_core::messages::{Author, DeliveryPayload, IncomingMessage};
use relay_core::rules::{Decision, Event, decide, effective};
use relay_core::{AccountKind, DestinationId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
pub struct PreviewRequest {
    /// The sample message, as Discord-style markdown (up to 20,000 characters).
    pub text: Option<String>,
    /// Who wrote it (for `{author}` and the senders filter); "Preview" when left out.
    pub author: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewView {
    #[schema(value_type = String, format = Uuid)]
    pub destination_id: DestinationId,
    #[schema(value_type = String)]
    pub account_kind: AccountKind,
    /// `send`, `filtered` or `held`.
    pub outcome: &'static str,
    /// For `filtered`: the rule that stopped it (`filters[1]`, `destination.filters[0]`).
    pub rule: Option<String>,
    /// For `held`: when it would go out.
    pub held_until: Option<DateTime<Utc>>,
    /// What would be sent: Discord markdown, or the plain text Telegram gets with
    /// `entities` (`null` when filtered).
    pub text: Option<String>,
    #[schema(value_type = Option<Vec<Object>>)]
    pub entities: Option<serde_json::Value>,
}

/// What each destination would get from a sample message, under the rules as saved.
#[utoipa::path(post, path = "/api/v1/pairs/{id}/preview", tag = "pairs", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)), request_body = PreviewRequest, responses(
    (status = 200, description = "Per destination, in order", body = [PreviewView]),
    (status = 404, description = "No such pair", body = crate::ErrorBody),
    (status = 422, description = "No text, blank text, or too long", body = crate::ErrorBody)))]
pub async fn preview(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
    Json(body): Json<PreviewRequest>,
) -> Result<Json<Vec<PreviewView>>, ApiError> {
    let id = parse_id(&id)?;
    let mut fields = Fields::default();
    let text = crate::routes::forward::check_text(&mut fields, &body.text);
    fields.finish()?;
    let pair = state.db.pair(auth.id(), id).await?;
    let features = state.db.subscription(auth.id()).await?.plan.features;
    let accounts = state.db.accounts(auth.id()).await?;
    let now = Utc::now();
    let sample = IncomingMessage {
        chat_id: pair.source_chat_id.clone(),
        message_id: "preview".into(),
        author: Author {
            id: "preview".into(),
            name: body.author.unwrap_or_else(|| "Preview".into()),
            avatar_url: None,
        },
        text: from_discord_markdown(&text),
        posted_at_ms: now.timestamp_millis(),
        ..IncomingMessage::default()
    };
    let payload = DeliveryPayload {
        text: sample.text.clone(),
        author: Some(sample.author.clone()),
        posted_at_ms: sample.posted_at_ms,
        ..DeliveryPayload::default()
    };
    let mut views = Vec::with_capacity(pair.destinations.len());
    for d in &pair.destinations {
        let Some(account) = accounts.iter().find(|a| a.id == d.account_id) else {
            continue;
        };
        let rules = effective(&pair.rules, d.rules.as_ref(), &features).unwrap_or_default();
        let decision = match &rules {
            Some(rules) => decide(
                rules,
                Event::Create,
                &sample,
                &payload,
                &pair.name,
                now.timestamp_millis(),
            ),
            None => Decision::Send(payload.clone()),
        };
        let (outcome, rule, held_until, sent) = match decision {
            Decision::Send(p) => ("send", None, None, Some(p)),
            Decision::Filtered(dropped) => ("filtered", Some(dropped.rule), None, None),
            Decision::Held {
                payload, until_ms, ..
            } => (
                "held",
                None,
                DateTime::<Utc>::from_timestamp_millis(until_ms),
                Some(payload),
            ),
        };
        let (text, entities) = match (sent, account.kind) {
            (None, _) => (None, None),
            (Some(p), AccountKind::DiscordBot | AccountKind::DiscordWebhook) => (
                Some(to_discord_markdown(&p.text, &DiscordOptions::default())),
                None,
            ),
            (Some(p), AccountKind::TelegramBot | AccountKind::TelegramUser) => {
                let (text, entities) = to_telegram(&p.text);
                (Some(text), serde_json::to_value(entities).ok())
            }
        };
        views.push(PreviewView {
            destination_id: d.id,
            account_kind: account.kind,
            outcome,
            rule,
            held_until,
            text,
            entities,
        });
    }
    Ok(Json(views))
}
