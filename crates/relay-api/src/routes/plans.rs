//! Plans and the signed-in user's subscription: `GET /api/v1/plans` (public: what each plan
//! costs, allows and includes) and `GET /api/v1/subscription` (the user's plan, its state,
//! and today's usage against each limit).

use crate::auth::AuthUser;
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use relay_store::plans::Plan;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct PlanView {
    /// `free`, `pro` or `elite`.
    pub id: String,
    pub name: String,
    /// Per month, in the currency's minor unit (cents).
    pub price_cents: i32,
    pub currency: String,
    /// `high`, `medium` or `low`: the queue priority of the plan's deliveries.
    pub priority: String,
    pub limits: LimitsView,
    /// Every feature by name (see the API description): `true`/`false`, or a number for
    /// `analytics_history_days`.
    #[schema(value_type = Object)]
    pub features: serde_json::Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LimitsView {
    pub max_accounts: i32,
    pub max_pairs: i32,
    pub max_destinations_per_pair: i32,
    /// Copies sent per day (UTC); deliveries beyond it wait for the next day.
    pub daily_messages: i32,
    /// Largest file forwarded; larger ones arrive as a notice.
    pub max_media_bytes: i64,
    /// How far back a backfill may reach, in days (0: no backfill).
    pub backfill_days: i32,
}

impl From<Plan> for PlanView {
    fn from(p: Plan) -> Self {
        PlanView {
            id: p.id,
            name: p.name,
            price_cents: p.price_cents,
            currency: p.currency,
            priority: p.priority,
            limits: LimitsView {
                max_accounts: p.max_accounts,
                max_pairs: p.max_pairs,
                max_destinations_per_pair: p.max_destinations_per_pair,
                daily_messages: p.daily_messages,
                max_media_bytes: p.max_media_bytes,
                backfill_days: p.backfill_days,
            },
            features: p.features,
        }
    }
}

/// The plans on offer, cheapest first. No sign-in needed.
#[utoipa::path(get, path = "/api/v1/plans", tag = "billing", responses(
    (status = 200, description = "Every plan", body = Vec<PlanView>)))]
pub async fn list(State(state): State<AppState>) -> Result<Json<Vec<PlanView>>, ApiError> {
    let plans = state.db.plans().await?;
    Ok(Json(plans.into_iter().map(PlanView::from).collect()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriptionView {
    pub plan: PlanView,
    /// `active`, `past_due` (a renewal failed; the plan holds until the period ends), or
    /// `free` (no paid subscription).
    pub status: String,
    pub current_period_end: Option<DateTime<Utc>>,
    /// `paypal`, `nowpayments` or `admin`, for a paid subscription.
    pub provider: Option<String>,
    pub usage: UsageView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UsageView {
    pub accounts: Used,
    pub pairs: Used,
    /// Copies sent today (UTC).
    pub messages_today: Used,
}

/// How much of a limit is used.
#[derive(Debug, Serialize, ToSchema)]
pub struct Used {
    pub used: i64,
    pub limit: i64,
}

/// The signed-in user's plan, its state, and today's usage against each limit.
#[utoipa::path(get, path = "/api/v1/subscription", tag = "billing", security(("bearer" = [])), responses(
    (status = 200, description = "The user's subscription", body = SubscriptionView),
    (status = 401, description = "Not signed in", body = crate::ErrorBody)))]
pub async fn subscription(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<Json<SubscriptionView>, ApiError> {
    let sub = state.db.subscription(auth.id()).await?;
    let usage = state.db.usage(auth.id(), Utc::now().date_naive()).await?;
    let used = |used: i64, limit: i32| Used {
        used,
        limit: i64::from(limit),
    };
    Ok(Json(SubscriptionView {
        usage: UsageView {
            accounts: used(usage.accounts, sub.plan.max_accounts),
            pairs: used(usage.pairs, sub.plan.max_pairs),
            messages_today: used(usage.messages_today, sub.plan.daily_messages),
        },
        plan: sub.plan.into(),
        status: sub.status,
        current_period_end: sub.current_period_end,
        provider: sub.provider,
    }))
}
