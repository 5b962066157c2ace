//! Payments and paid subscriptions: what a checkout created, the providers' webhook events
//! (stored before anything else, unique per provider event), their effects on
//! `payments` and `subscriptions`, and the lifecycle sweep that ends subscriptions past
//! their period. Deciding what an event means is the caller's (relay-payments); this
//! module writes the outcome, each in one transaction.

use crate::{Database, StoreError};
use chrono::{DateTime, Months, Utc};
use relay_core::UserId;
use serde::Serialize;
use uuid::Uuid;

/// A payment row as the customer sees it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PaymentRow {
    pub id: Uuid,
    pub provider: String,
    pub kind: String,
    pub plan_id: String,
    pub amount_minor: i64,
    pub currency: String,
    pub status: String,
    pub provider_status: Option<String>,
    pub provider_payment_id: Option<String>,
    pub checkout_url: Option<String>,
    pub created_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
}

/// A subscription as the customer sees it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct SubscriptionRow {
    pub id: Uuid,
    pub plan_id: String,
    pub status: String,
    pub provider: Option<String>,
    pub provider_subscription_id: Option<String>,
    pub current_period_start: DateTime<Utc>,
    pub current_period_end: Option<DateTime<Utc>>,
    pub renews: bool,
    pub end_reason: Option<String>,
    pub ended_at: Option<DateTime<Utc>>,
}

/// What a checkout records before sending the customer to the provider.
#[derive(Debug, Clone)]
pub struct NewCheckout<'a> {
    pub user: UserId,
    pub provider: &'a str,
    pub plan_id: &'a str,
    pub amount_minor: i64,
    pub currency: &'a str,
    /// Our reference at the provider (PayPal `custom_id`, NOWPayments `order_id`).
    pub reference: &'a str,
    /// The provider's id of what was created (PayPal `I-…`, NOWPayments invoice id).
    pub provider_payment_id: &'a str,
    pub provider_subscription_id: Option<&'a str>,
    pub provider_status: &'a str,
    pub checkout_url: &'a str,
}

/// A checkout row looked up by what a webhook names.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CheckoutRef {
    pub id: Uuid,
    pub user_id: Uuid,
    pub plan_id: String,
    pub provider_status: Option<String>,
    pub granted_at: Option<DateTime<Utc>>,
}

/// A PayPal sale as the events describe it.
#[derive(Debug, Clone, PartialEq)]
pub struct SaleRecord {
    pub sale_id: String,
    pub amount_minor: i64,
    pub currency: String,
    /// `completed` or `refunded`.
    pub status: &'static str,
    pub at: DateTime<Utc>,
}

/// The state of a provider subscription, computed from all its events.
#[derive(Debug, Clone, PartialEq)]
pub struct SubscriptionState {
    /// `active`, `past_due` or `expired`.
    pub status: &'static str,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    pub renews: bool,
    pub end_reason: Option<String>,
    pub ended_at: Option<DateTime<Utc>>,
    /// The provider's own status word (`ACTIVE`, `SUSPENDED`, …).
    pub provider_status: String,
}

/// What applying a NOWPayments status did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvoiceOutcome {
    /// The status was not newer than the one recorded: nothing changed.
    Stale,
    /// The payment's status moved on; nothing granted or revoked.
    Updated,
    /// The payment finished: the subscription was extended by a month.
    Granted,
    /// The payment was refunded after granting: the subscription ended.
    Revoked,
}

/// A NOWPayments checkout row, locked while a status is applied.
#[derive(sqlx::FromRow)]
struct InvoiceRow {
    id: Uuid,
    user_id: Uuid,
    plan_id: String,
    provider_status: Option<String>,
    granted_at: Option<DateTime<Utc>>,
    subscription_id: Option<Uuid>,
}

const PAYMENT_COLUMNS: &str = "id, provider, kind, plan_id, amount_minor, currency, status, \
     provider_status, provider_payment_id, checkout_url, created_at, completed_at";
const SUBSCRIPTION_COLUMNS: &str = "id, plan_id, status, provider, provider_subscription_id, \
     current_period_start, current_period_end, renews, end_reason, ended_at";

impl Database {
    /// A plan's monthly price: (name, price in cents, currency).
    pub async fn plan_price(&self, plan: &str) -> Result<(String, i64, String), StoreError> {
        let row: Option<(String, i32, String)> =
            sqlx::query_as("SELECT name, price_cents, currency FROM plans WHERE id = $1")
                .bind(plan)
                .fetch_optional(self.pool())
                .await?;
        let (name, cents, currency) = row.ok_or(StoreError::NotFound)?;
        Ok((name, i64::from(cents), currency))
    }

    /// An object made at a provider earlier (a PayPal product or plan), by our key.
    pub async fn provider_object(
        &self,
        provider: &str,
        kind: &str,
        key: &str,
    ) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT external_id FROM payment_provider_objects WHERE provider = $1 AND kind = $2 AND key = $3",
        )
        .bind(provider)
        .bind(kind)
        .bind(key)
        .fetch_optional(self.pool())
        .await?)
    }

    /// Remembers an object made at a provider.
    pub async fn save_provider_object(
        &self,
        provider: &str,
        kind: &str,
        key: &str,
        external_id: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO payment_provider_objects (provider, kind, key, external_id) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (provider, kind, key) DO UPDATE SET external_id = EXCLUDED.external_id",
        )
        .bind(provider)
        .bind(kind)
        .bind(key)
        .bind(external_id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Records a checkout (a payment in state `created`); returns its id.
    pub async fn create_checkout(&self, c: &NewCheckout<'_>) -> Result<Uuid, StoreError> {
        Ok(sqlx::query_scalar(
            "INSERT INTO payments (user_id, provider, kind, provider_payment_id, plan_id, amount_minor, currency, \
                 status, provider_status, checkout_url, reference, provider_subscription_id) \
             VALUES ($1, $2, 'checkout', $3, $4, $5, $6, 'created', $7, $8, $9, $10) RETURNING id",
        )
        .bind(c.user.as_uuid())
        .bind(c.provider)
        .bind(c.provider_payment_id)
        .bind(c.plan_id)
        .bind(c.amount_minor)
        .bind(c.currency)
        .bind(c.provider_status)
        .bind(c.checkout_url)
        .bind(c.reference)
        .bind(c.provider_subscription_id)
        .fetch_one(self.pool())
        .await?)
    }

    /// The user's payments, newest first.
    pub async fn user_payments(&self, user: UserId) -> Result<Vec<PaymentRow>, StoreError> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {PAYMENT_COLUMNS} FROM payments WHERE user_id = $1 ORDER BY created_at DESC, id"
        )))
        .bind(user.as_uuid())
        .fetch_all(self.pool())
        .await?)
    }

    /// The user's live subscription (active or past due), if any: without one the user is
    /// on Free.
    pub async fn live_subscription(
        &self,
        user: UserId,
    ) -> Result<Option<SubscriptionRow>, StoreError> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions \
             WHERE user_id = $1 AND status IN ('active', 'past_due') LIMIT 1"
        )))
        .bind(user.as_uuid())
        .fetch_optional(self.pool())
        .await?)
    }

    /// The user's subscriptions, newest first (ended ones say why).
    pub async fn user_subscriptions(
        &self,
        user: UserId,
    ) -> Result<Vec<SubscriptionRow>, StoreError> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE user_id = $1 ORDER BY created_at DESC, id"
        )))
        .bind(user.as_uuid())
        .fetch_all(self.pool())
        .await?)
    }

    /// Stores a verified webhook event. `None` when the provider sent this event before
    /// (its id is already stored).
    pub async fn record_payment_event(
        &self,
        provider: &str,
        provider_event_id: &str,
        event_type: &str,
        payload: &serde_json::Value,
    ) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "INSERT INTO payment_events (provider, provider_event_id, event_type, payload) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (provider, provider_event_id) DO NOTHING RETURNING id",
        )
        .bind(provider)
        .bind(provider_event_id)
        .bind(event_type)
        .bind(payload)
        .fetch_optional(self.pool())
        .await?)
    }

    /// Marks an event processed, with the error if processing failed.
    pub async fn finish_payment_event(
        &self,
        id: i64,
        payment: Option<Uuid>,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE payment_events SET processed_at = now(), error = $3, payment_id = COALESCE($2, payment_id) WHERE id = $1",
        )
        .bind(id)
        .bind(payment)
        .bind(error)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Every stored PayPal event about one provider subscription (its own events and
    /// those of its sales), as received.
    pub async fn paypal_events_of(
        &self,
        subscription_id: &str,
    ) -> Result<Vec<serde_json::Value>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT payload FROM payment_events WHERE provider = 'paypal' AND \
             (payload->'resource'->>'id' = $1 OR payload->'resource'->>'billing_agreement_id' = $1) ORDER BY id",
        )
        .bind(subscription_id)
        .fetch_all(self.pool())
        .await?)
    }

    /// The checkout a provider object belongs to (PayPal `I-…`, NOWPayments invoice id)
    /// or that carries our reference.
    pub async fn checkout_of(
        &self,
        provider: &str,
        provider_id: Option<&str>,
        reference: Option<&str>,
    ) -> Result<Option<CheckoutRef>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, user_id, plan_id, provider_status, granted_at FROM payments \
             WHERE provider = $1 AND kind = 'checkout' AND \
             (($2::text IS NOT NULL AND provider_payment_id = $2) OR ($3::text IS NOT NULL AND reference = $3)) \
             ORDER BY created_at LIMIT 1",
        )
        .bind(provider)
        .bind(provider_id)
        .bind(reference)
        .fetch_optional(self.pool())
        .await?)
    }

    /// Writes a PayPal subscription's state, computed from all its events, with its
    /// sales. A subscription the lifecycle or a refund already ended stays ended; a live
    /// one replaces the user's other live subscription.
    pub async fn apply_paypal_subscription(
        &self,
        checkout: &CheckoutRef,
        provider_subscription_id: &str,
        state: &SubscriptionState,
        sales: &[SaleRecord],
    ) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        let user = checkout.user_id;
        sqlx::query("SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE")
            .bind(user)
            .execute(&mut *tx)
            .await?;
        let existing: Option<(Uuid, String)> = sqlx::query_as(
            "SELECT id, status FROM subscriptions WHERE provider = 'paypal' AND provider_subscription_id = $1",
        )
        .bind(provider_subscription_id)
        .fetch_optional(&mut *tx)
        .await?;
        let ended = matches!(&existing, Some((_, status)) if status == "expired");
        let live = matches!(state.status, "active" | "past_due");
        let sub_id = if ended {
            existing.map(|(id, _)| id)
        } else {
            if live {
                end_other_live(&mut tx, user, provider_subscription_id).await?;
            }
            Some(
                sqlx::query_scalar(
                    "INSERT INTO subscriptions (user_id, plan_id, status, current_period_start, current_period_end, \
                         provider, provider_subscription_id, renews, end_reason, ended_at) \
                     VALUES ($1, $2, $3, $4, $5, 'paypal', $6, $7, $8, $9) \
                     ON CONFLICT (provider, provider_subscription_id) WHERE provider_subscription_id IS NOT NULL \
                     DO UPDATE SET status = EXCLUDED.status, current_period_start = EXCLUDED.current_period_start, \
                         current_period_end = EXCLUDED.current_period_end, renews = EXCLUDED.renews, \
                         end_reason = EXCLUDED.end_reason, ended_at = EXCLUDED.ended_at, updated_at = now() \
                     RETURNING id",
                )
                .bind(user)
                .bind(&checkout.plan_id)
                .bind(state.status)
                .bind(state.period_start)
                .bind(state.period_end)
                .bind(provider_subscription_id)
                .bind(state.renews)
                .bind(&state.end_reason)
                .bind(state.ended_at)
                .fetch_one(&mut *tx)
                .await?,
            )
        };
        let checkout_status = if sales.is_empty() && state.status != "expired" {
            "pending"
        } else if sales.iter().any(|s| s.status == "completed") {
            "completed"
        } else if sales.iter().any(|s| s.status == "refunded") {
            "refunded"
        } else {
            "pending"
        };
        sqlx::query(
            "UPDATE payments SET provider_status = $2, status = $3, subscription_id = COALESCE($4, subscription_id), \
                 completed_at = CASE WHEN $3 = 'completed' THEN COALESCE(completed_at, now()) ELSE completed_at END, \
                 updated_at = now() WHERE id = $1",
        )
        .bind(checkout.id)
        .bind(&state.provider_status)
        .bind(checkout_status)
        .bind(sub_id)
        .execute(&mut *tx)
        .await?;
        for sale in sales {
            sqlx::query(
                "INSERT INTO payments (user_id, provider, kind, provider_payment_id, plan_id, amount_minor, currency, \
                     status, provider_status, provider_subscription_id, subscription_id, completed_at) \
                 VALUES ($1, 'paypal', 'sale', $2, $3, $4, $5, $6, $6, $7, $8, $9) \
                 ON CONFLICT (provider, provider_payment_id) WHERE provider_payment_id IS NOT NULL \
                 DO UPDATE SET status = EXCLUDED.status, provider_status = EXCLUDED.provider_status, updated_at = now()",
            )
            .bind(user)
            .bind(&sale.sale_id)
            .bind(&checkout.plan_id)
            .bind(sale.amount_minor)
            .bind(&sale.currency)
            .bind(sale.status)
            .bind(provider_subscription_id)
            .bind(sub_id)
            .bind(sale.at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Applies a NOWPayments status to the checkout with our `reference`. `rank` orders
    /// statuses (a status not above the recorded one changes nothing, so replays and late
    /// events are no-ops); `finished` extends the user's subscription on the checkout's
    /// plan by a month from max(now, its end), once; `refunded` after that ends it at once.
    pub async fn apply_invoice_status(
        &self,
        reference: &str,
        status: &str,
        payment_status: &'static str,
        rank: fn(&str) -> i32,
        now: DateTime<Utc>,
    ) -> Result<InvoiceOutcome, StoreError> {
        let mut tx = self.pool().begin().await?;
        let row: Option<InvoiceRow> =
            sqlx::query_as(
                "SELECT id, user_id, plan_id, provider_status, granted_at, subscription_id FROM payments \
                 WHERE provider = 'nowpayments' AND reference = $1 FOR UPDATE",
            )
            .bind(reference)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(InvoiceRow {
            id: payment,
            user_id: user,
            plan_id: plan,
            provider_status: current,
            granted_at,
            subscription_id: sub,
        }) = row
        else {
            return Err(StoreError::NotFound);
        };
        if rank(status) <= current.as_deref().map(rank).unwrap_or(-1) {
            return Ok(InvoiceOutcome::Stale);
        }
        sqlx::query(
            "UPDATE payments SET provider_status = $2, status = $3, updated_at = now(), \
                 completed_at = CASE WHEN $3 = 'completed' THEN $4 ELSE completed_at END WHERE id = $1",
        )
        .bind(payment)
        .bind(status)
        .bind(payment_status)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let outcome = match (payment_status, granted_at, sub) {
            ("completed", None, _) => {
                let sub = extend_by_month(&mut tx, user, &plan, now).await?;
                sqlx::query(
                    "UPDATE payments SET granted_at = $2, subscription_id = $3 WHERE id = $1",
                )
                .bind(payment)
                .bind(now)
                .bind(sub)
                .execute(&mut *tx)
                .await?;
                InvoiceOutcome::Granted
            }
            ("refunded", Some(_), Some(sub)) => {
                sqlx::query(
                    "UPDATE subscriptions SET status = 'expired', end_reason = 'refunded', ended_at = $2, \
                         current_period_end = LEAST(current_period_end, $2), renews = false, updated_at = now() \
                     WHERE id = $1 AND status IN ('active', 'past_due')",
                )
                .bind(sub)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                InvoiceOutcome::Revoked
            }
            _ => InvoiceOutcome::Updated,
        };
        tx.commit().await?;
        Ok(outcome)
    }

    /// Ends every live subscription whose period ended more than `grace` before `now`
    /// (status `expired`, the reason kept or `period_ended`): their users are on Free.
    /// Returns how many ended.
    pub async fn expire_subscriptions(
        &self,
        now: DateTime<Utc>,
        grace: std::time::Duration,
    ) -> Result<u64, StoreError> {
        let grace = chrono::Duration::from_std(grace).unwrap_or(chrono::Duration::zero());
        let done = sqlx::query(
            "UPDATE subscriptions SET status = 'expired', ended_at = $1, updated_at = now(), \
                 end_reason = CASE WHEN renews THEN 'period_ended' ELSE COALESCE(end_reason, 'period_ended') END \
             WHERE status IN ('active', 'past_due') AND current_period_end IS NOT NULL AND current_period_end < $2",
        )
        .bind(now)
        .bind(now - grace)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected())
    }
}

/// Ends the user's live subscriptions other than `keep` (an upgrade replaces them).
async fn end_other_live(
    tx: &mut sqlx::PgConnection,
    user: Uuid,
    keep: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE subscriptions SET status = 'expired', end_reason = 'replaced', ended_at = now(), updated_at = now() \
         WHERE user_id = $1 AND status IN ('active', 'past_due') AND provider_subscription_id IS DISTINCT FROM $2",
    )
    .bind(user)
    .bind(keep)
    .execute(tx)
    .await?;
    Ok(())
}

/// One more month on the user's live NOWPayments subscription of `plan` (from max(now,
/// its end)), or a new one replacing any other live subscription.
async fn extend_by_month(
    tx: &mut sqlx::PgConnection,
    user: Uuid,
    plan: &str,
    now: DateTime<Utc>,
) -> Result<Uuid, StoreError> {
    let live: Option<(Uuid, Option<DateTime<Utc>>)> = sqlx::query_as(
        "SELECT id, current_period_end FROM subscriptions WHERE user_id = $1 AND provider = 'nowpayments' \
         AND plan_id = $2 AND status IN ('active', 'past_due') FOR UPDATE",
    )
    .bind(user)
    .bind(plan)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some((id, end)) = live {
        let from = end.map_or(now, |end| end.max(now));
        sqlx::query(
            "UPDATE subscriptions SET current_period_end = $2, status = 'active', updated_at = now() WHERE id = $1",
        )
        .bind(id)
        .bind(plus_month(from))
        .execute(&mut *tx)
        .await?;
        return Ok(id);
    }
    sqlx::query(
        "UPDATE subscriptions SET status = 'expired', end_reason = 'replaced', ended_at = $2, updated_at = now() \
         WHERE user_id = $1 AND status IN ('active', 'past_due')",
    )
    .bind(user)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    Ok(sqlx::query_scalar(
        "INSERT INTO subscriptions (user_id, plan_id, status, current_period_start, current_period_end, provider, renews) \
         VALUES ($1, $2, 'active', $3, $4, 'nowpayments', false) RETURNING id",
    )
    .bind(user)
    .bind(plan)
    .bind(now)
    .bind(plus_month(now))
    .fetch_one(&mut *tx)
    .await?)
}

/// The same time a calendar month later (the month's last day when it is shorter).
pub fn plus_month(t: DateTime<Utc>) -> DateTime<Utc> {
    t.checked_add_months(Months::new(1)).unwrap_or(t)
}
