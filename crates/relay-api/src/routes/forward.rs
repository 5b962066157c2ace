//! The API path of the data flow: `POST /api/v1/pairs/{id}/forward` queues a message
//! through a pair by hand — an outbox row per destination first, then a job per row, with
//! the same pieces the worker's router uses for what listeners read (`relay_store::fan_out`,
//! `JobQueue::enqueue_deliveries`).

use super::Fields;
use crate::auth::AuthUser;
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::Utc;
use relay_core::PairId;
use relay_core::delivery::DeliveryAction;
use relay_core::format::from_discord_markdown;
use relay_core::messages::{Author, DeliveryPayload};
use relay_store::{NewDelivery, SourceMessage, Through, fan_out};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Longest text accepted. A text over a destination's own limit goes out in parts, as a
/// long live message does.
const MAX_TEXT_CHARS: usize = 20_000;

#[derive(Debug, Deserialize, ToSchema)]
pub struct ForwardRequest {
    /// Discord-style markdown (`**bold**`, `*italic*`, `` `code` ``, `[link](url)`, `\\`
    /// to escape); each destination gets it in its own form. Up to 20,000 characters: a
    /// text over a destination's limit goes out in parts, in order.
    pub text: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ForwardView {
    /// The id this message has as a source message (`api-…`), as deliveries show it.
    pub source_message_id: String,
    /// Deliveries queued: one per destination.
    pub deliveries: usize,
}

/// A message's `text` as a live one could be: present, not blank, within
/// [`MAX_TEXT_CHARS`] (field errors otherwise). Manual forwards and previews take it.
pub(crate) fn check_text(fields: &mut Fields, text: &Option<String>) -> String {
    let text = fields.required("text", text).unwrap_or_default().to_owned();
    if !text.is_empty() && text.trim().is_empty() {
        // A message of spaces is refused by every platform: it would only be dead-lettered.
        fields.add("text", "must not be blank");
    } else if text.chars().count() > MAX_TEXT_CHARS {
        fields.add(
            "text",
            format!("is longer than {MAX_TEXT_CHARS} characters"),
        );
    }
    text
}

/// Queue a message through the pair to all its destinations.
#[utoipa::path(post, path = "/api/v1/pairs/{id}/forward", tag = "pairs", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)), request_body = ForwardRequest, responses(
    (status = 202, description = "Queued", body = ForwardView),
    (status = 404, description = "No such pair", body = crate::ErrorBody),
    (status = 409, description = "The pair is paused or disabled (`pair_paused`)", body = crate::ErrorBody),
    (status = 422, description = "No text, blank text, or too long", body = crate::ErrorBody)))]
pub async fn forward(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
    Json(body): Json<ForwardRequest>,
) -> Result<(StatusCode, Json<ForwardView>), ApiError> {
    let id: PairId = id.parse().map_err(|_| ApiError::NotFound)?;
    let mut fields = Fields::default();
    let text = check_text(&mut fields, &body.text);
    fields.finish()?;
    let pair = state.db.pair(auth.id(), id).await?;
    if !pair.enabled || pair.paused_at.is_some() {
        return Err(ApiError::refused(
            StatusCode::CONFLICT,
            "pair_paused",
            "the pair is paused or disabled; resume it first",
        ));
    }
    let priority = state.db.plan_of(auth.id()).await?.priority;
    let now = Utc::now();
    let source_message_id = format!("api-{}", uuid::Uuid::new_v4().simple());
    let payload = serde_json::to_value(DeliveryPayload {
        text: from_discord_markdown(&text),
        author: Some(Author {
            id: auth.id().to_string(),
            name: "Relay".into(),
            avatar_url: None,
        }),
        posted_at_ms: now.timestamp_millis(),
        ..DeliveryPayload::default()
    })
    .map_err(ApiError::internal)?;
    let message = SourceMessage {
        chat_id: &pair.source_chat_id,
        message_id: &source_message_id,
        action: DeliveryAction::Create,
        revision: 0,
        payload: &payload,
        at: now,
    };
    let through = Through {
        owner_id: auth.id(),
        pair_id: pair.id,
        priority,
    };
    let rows: Vec<NewDelivery> = fan_out(
        through,
        pair.destinations.iter().map(|d| (d.id, d.account_id)),
        &message,
    )
    .collect();
    let queued = state.db.insert_deliveries(&rows).await?;
    // The rows are in the outbox: if Redis does not take the jobs now, the sweeper will.
    if let Some(queue) = &state.queue
        && let Err(e) = queue.enqueue_deliveries(&queued).await
    {
        tracing::warn!(error = %e, "enqueueing a manual forward failed; the sweeper will retry");
    }
    tracing::info!(user = %auth.id(), pair = %pair.id, deliveries = queued.len(), "manual forward queued");
    Ok((
        StatusCode::ACCEPTED,
        Json(ForwardView {
            source_message_id,
            deliveries: queued.len(),
        }),
    ))
}
