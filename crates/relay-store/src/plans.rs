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

impl Database {
    /// Writes owners' totals for `day` (from the Redis counter, which holds the truth):
    /// each row becomes the larger of what it had and the total.
    pub async fn flush_usage(
        &self,
        day: NaiveDate,
        totals: &[(UserId, i64)],
    ) -> Result<(), StoreError> {
        if totals.is_empty() {
            return Ok(());
        }
        let users: Vec<uuid::Uuid> = totals.iter().map(|(u, _)| u.as_uuid()).collect();
        let counts: Vec<i64> = totals.iter().map(|(_, n)| *n).collect();
        sqlx::query(
            "INSERT INTO usage_daily (user_id, day, messages_forwarded) \
             SELECT t.user_id, $1, t.n FROM UNNEST($2::uuid[], $3::int8[]) AS t(user_id, n) \
             WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = t.user_id) \
             ON CONFLICT (user_id, day) DO UPDATE \
             SET messages_forwarded = GREATEST(usage_daily.messages_forwarded, EXCLUDED.messages_forwarded)",
        )
        .bind(day)
        .bind(&users)
        .bind(&counts)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Owners with deliveries the daily quota holds: how many, and their plan's daily limit.
    pub async fn quota_holds(&self) -> Result<Vec<(UserId, i64, i32)>, StoreError> {
        let rows: Vec<(uuid::Uuid, i64, i32)> = sqlx::query_as(
            "SELECT d.owner_id, count(*), pl.daily_messages FROM deliveries d \
             JOIN plans pl ON pl.id = COALESCE((SELECT s.plan_id FROM subscriptions s \
                  WHERE s.user_id = d.owner_id AND s.status IN ('active', 'past_due') LIMIT 1), 'free') \
             WHERE d.decided_by = 'quota' AND d.state = 'pending' \
             GROUP BY d.owner_id, pl.daily_messages",
        )
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(user, n, limit)| (user.into(), n, limit))
            .collect())
    }

    /// Sends now (in order) up to `n` of the deliveries the daily quota held for `user`;
    /// how many. One release runs at a time across workers (an advisory lock), so two
    /// cannot both hand out the same room.
    pub async fn release_quota_holds(&self, user: UserId, n: i64) -> Result<u64, StoreError> {
        let mut tx = self.pool().begin().await?;
        let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock(7243100417)")
            .fetch_one(&mut *tx)
            .await?;
        if !locked {
            return Ok(0);
        }
        let done = sqlx::query(
            "UPDATE deliveries SET next_attempt_at = now(), decided_by = NULL, \
             updated_at = now() - interval '1 hour' \
             WHERE id IN (SELECT id FROM deliveries WHERE owner_id = $1 AND state = 'pending' \
                 AND decided_by = 'quota' ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)",
        )
        .bind(user.as_uuid())
        .bind(n.max(0))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }
}

impl Database {
    /// Pauses, with a visible reason, the pairs over their owner's plan's pair limit (the
    /// newest first; the oldest stay running) — after a downgrade or an expiry. Nothing is
    /// deleted; the owner deletes pairs or upgrades, then resumes. `user` limits it to one
    /// owner. Returns the pairs paused.
    pub async fn pause_pairs_over_limit(
        &self,
        user: Option<UserId>,
    ) -> Result<Vec<relay_core::PairId>, StoreError> {
        let paused: Vec<uuid::Uuid> = sqlx::query_scalar(
            "WITH ranked AS ( \
                 SELECT p.id, pl.max_pairs, pl.name, \
                        row_number() OVER (PARTITION BY p.owner_id ORDER BY p.created_at, p.id) AS n \
                 FROM forwarding_pairs p \
                 JOIN plans pl ON pl.id = COALESCE((SELECT s.plan_id FROM subscriptions s \
                      WHERE s.user_id = p.owner_id AND s.status IN ('active', 'past_due') LIMIT 1), 'free') \
                 WHERE $1::uuid IS NULL OR p.owner_id = $1) \
             UPDATE forwarding_pairs f SET paused_at = now(), updated_at = now(), \
                 paused_reason = format('over the %s plan''s limit of %s pairs: delete a pair or upgrade, then resume', r.name, r.max_pairs) \
             FROM ranked r WHERE f.id = r.id AND r.n > r.max_pairs AND f.paused_at IS NULL \
             RETURNING f.id",
        )
        .bind(user.map(|u| u.as_uuid()))
        .fetch_all(self.pool())
        .await?;
        Ok(paused.into_iter().map(Into::into).collect())
    }
}
