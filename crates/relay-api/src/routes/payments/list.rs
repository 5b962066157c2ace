//! `GET /api/v1/payments`: the customer's payments with their states, the plan they are on
//! now, and their subscriptions (an ended one says why).

use crate::auth::AuthUser;
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentView {
    pub id: Uuid,
    /// `paypal` or `nowpayments`.
    pub provider: String,
    /// `checkout` (what the customer started) or `sale` (a PayPal billing cycle paid).
    pub kind: String,
    pub plan: String,
    pub amount_cents: i64,
    pub currency: String,
    /// `created`, `pending`, `partially_paid`, `completed`, `failed`, `refunded`, `expired`.
    pub status: String,
    /// The provider's own word for it (`APPROVAL_PENDING`, `partially_paid`, …).
    pub provider_status: Option<String>,
    /// Where the customer pays (checkouts).
    pub url: Option<String>,
    pub created_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriptionView {
    pub id: Uuid,
    pub plan: String,
    /// `active`, `past_due`, `canceled` or `expired`.
    pub status: String,
    pub provider: Option<String>,
    pub current_period_end: Option<DateTime<Utc>>,
    /// False: it ends at `current_period_end`.
    pub renews: bool,
    /// Why it ends or ended: `cancelled`, `suspended`, `refunded`, `period_ended`, `replaced`.
    pub end_reason: Option<String>,
    pub ended_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentsView {
    /// The plan in force now (`free` without a live subscription).
    pub plan: String,
    pub items: Vec<PaymentView>,
    pub subscriptions: Vec<SubscriptionView>,
}

/// The signed-in user's payments and subscriptions.
#[utoipa::path(get, path = "/api/v1/payments", tag = "payments", security(("bearer" = [])), responses(
    (status = 200, description = "Payments, newest first", body = PaymentsView),
    (status = 401, description = "Not signed in", body = crate::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<Json<PaymentsView>, ApiError> {
    let items = state
        .db
        .user_payments(auth.id())
        .await?
        .into_iter()
        .map(|p| PaymentView {
            id: p.id,
            provider: p.provider,
            kind: p.kind,
            plan: p.plan_id,
            amount_cents: p.amount_minor,
            currency: p.currency,
            status: p.status,
            provider_status: p.provider_status,
            url: p.checkout_url,
            created_at: p.created_at,
            completed_at: p.completed_at,
        })
        .collect();
    let subscriptions: Vec<SubscriptionView> = state
        .db
        .user_subscriptions(auth.id())
        .await?
        .into_iter()
        .map(|s| SubscriptionView {
            id: s.id,
            plan: s.plan_id,
            status: s.status,
            provider: s.provider,
            current_period_end: s.current_period_end,
            renews: s.renews,
            end_reason: s.end_reason,
            ended_at: s.ended_at,
        })
        .collect();
    let plan = subscriptions
        .iter()
        .find(|s| matches!(s.status.as_str(), "active" | "past_due"))
        .map_or_else(|| "free".to_owned(), |s| s.plan.clone());
    Ok(Json(PaymentsView {
        plan,
        items,
        subscriptions,
    }))
}
