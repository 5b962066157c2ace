//! Plans as rows, and a user's subscription with today's usage against each limit.

use crate::{Database, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use relay_core::{PlanId, UserId};

/// A plan: its price, limits, features and queue priority.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Plan {
    pub id: String,
    pub name: String,
    pub price_cents: i32,
    pub currency: String,
    pub max_accounts: i32,
    pub max_pairs: i32,
    pub max_destinations_per_pair: i32,
    pub daily_messages: i32,
    pub max_media_bytes: i64,
    pub backfill_days: i32,
    pub priority: String,
    pub features: serde_json::Value,
}

/// A user's plan as it stands: from a live subscription, or Free without one.
#[derive(Debug, Clone, PartialEq)]
pub struct Subscription {
    pub plan: Plan,
    /// `active`, `past_due`, or `free` (no live subscription).
    pub status: String,
    pub current_period_end: Option<DateTime<Utc>>,
    pub provider: Option<String>,
}

/// What a user uses of the limits that count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    pub accounts: i64,
    pub pairs: i64,
    /// Copies sent today (UTC), as flushed to `usage_daily`.
    pub messages_today: i64,
}

const PLAN_COLUMNS: &str = "id, name, price_cents, currency, max_accounts, max_pairs, \
    max_destinations_per_pair, daily_messages, max_media_bytes, backfill_days, priority, features";

impl Database {
    /// Every plan, cheapest first.
    pub async fn plans(&self) -> Result<Vec<Plan>, StoreError> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {PLAN_COLUMNS} FROM plans ORDER BY price_cents, id"
        )))
        .fetch_all(self.pool())
        .await?)
    }

    /// The user's plan and subscription state.
    pub async fn subscription(&self, user: UserId) -> Result<Subscription, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Live {
            plan_id: String,
            status: String,
            current_period_end: Option<DateTime<Utc>>,
            provider: Option<String>,
        }
        let live: Option<Live> = sqlx::query_as(
            "SELECT plan_id, status, current_period_end, provider FROM subscriptions \
             WHERE user_id = $1 AND status IN ('active', 'past_due') LIMIT 1",
        )
        .bind(user.as_uuid())
        .fetch_optional(self.pool())
        .await?;
        let plan_id = live
            .as_ref()
            .map_or_else(|| PlanId::Free.as_str().to_owned(), |l| l.plan_id.clone());
        let plan: Plan = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {PLAN_COLUMNS} FROM plans WHERE id = $1"
        )))
        .bind(&plan_id)
        .fetch_one(self.pool())
        .await?;
        Ok(match live {
            Some(l) => Subscription {
                plan,
                status: l.status,
                current_period_end: l.current_period_end,
                provider: l.provider,
            },
            None => Subscription {
                plan,
                status: "free".into(),
                current_period_end: None,
                provider: None,
            },
        })
    }

    /// The user's accounts, pairs and copies sent on `day`.
    pub async fn usage(&self, user: UserId, day: NaiveDate) -> Result<Usage, StoreError> {
        let (accounts, pairs, messages): (i64, i64, i64) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM platform_accounts WHERE owner_id = $1), \
                    (SELECT count(*) FROM forwarding_pairs WHERE owner_id = $1), \
                    COALESCE((SELECT messages_forwarded FROM usage_daily \
                              WHERE user_id = $1 AND day = $2), 0)",
        )
        .bind(user.as_uuid())
        .bind(day)
        .fetch_one(self.pool())
        .await?;
        Ok(Usage {
            accounts,
            pairs,
            messages_today: messages,
        })
    }
}

/// How many of a pair's deliveries a rule (or a pause, or the plan) decided, and in which
/// state they are now.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Outcome {
    /// `filters[2]`, `destination.filters[0]`, `rules.delay`, `paused`, `plan.edits`, …
    pub decided_by: String,
    /// `skipped` (filtered) or `pending` (held).
    pub state: String,
    pub deliveries: i64,
}

impl Database {
    /// The pair's deliveries that its rules, its pause or the plan decided, counted per
    /// rule and state (another owner's pair: none).
    pub async fn pair_outcomes(
        &self,
        owner: UserId,
        pair: relay_core::PairId,
    ) -> Result<Vec<Outcome>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT decided_by, state, count(*) AS deliveries FROM deliveries \
             WHERE pair_id = $1 AND owner_id = $2 AND decided_by IS NOT NULL \
             GROUP BY decided_by, state ORDER BY decided_by, state",
        )
        .bind(pair.as_uuid())
        .bind(owner.as_uuid())
        .fetch_all(self.pool())
        .await?)
    }
}
