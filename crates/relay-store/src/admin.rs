//! What the admin API reads and changes: the address allowlist, the audit log (append
//! only: nothing here updates or deletes a row of it), users by search, and a user's
//! status and plan.

use crate::{Database, StoreError};
use chrono::{DateTime, Utc};
use ipnet::IpNet;
use relay_core::UserId;
use std::net::IpAddr;
use uuid::Uuid;

/// An allowlisted network stored in the database.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AllowEntry {
    pub id: Uuid,
    pub network: IpNet,
    pub note: String,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

/// An admin action, as the audit log keeps it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AuditEntry {
    pub id: i64,
    pub admin_id: Option<Uuid>,
    pub action: String,
    pub target_type: String,
    pub target_id: Option<String>,
    /// `{"before": …, "after": …}` and whatever else the action records.
    pub details: serde_json::Value,
    pub ip: Option<IpNet>,
    pub created_at: DateTime<Utc>,
}

/// A user as the admin search lists them.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct UserRow {
    pub id: Uuid,
    pub email: String,
    pub role: String,
    pub status: String,
    pub plan: String,
    pub created_at: DateTime<Utc>,
}

/// What a search looks for (all optional, combined with AND).
#[derive(Debug, Clone, Default)]
pub struct UserSearch {
    /// A part of the email, any case.
    pub email: Option<String>,
    pub plan: Option<String>,
    pub status: Option<String>,
    pub created_after: Option<DateTime<Utc>>,
    pub created_before: Option<DateTime<Utc>>,
    pub limit: i64,
}

impl Database {
    /// Whether a stored allowlist entry contains `ip`.
    pub async fn ip_allowlisted(&self, ip: IpAddr) -> Result<bool, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM ip_allowlist WHERE network >>= $1::inet)",
        )
        .bind(IpNet::from(ip))
        .fetch_one(self.pool())
        .await?)
    }

    pub async fn allowlist(&self) -> Result<Vec<AllowEntry>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, network, note, created_by, created_at FROM ip_allowlist ORDER BY created_at, id",
        )
        .fetch_all(self.pool())
        .await?)
    }

    /// Adds a network (`Duplicate("network")` when it is there already).
    pub async fn add_allowed(
        &self,
        network: IpNet,
        note: &str,
        by: UserId,
    ) -> Result<AllowEntry, StoreError> {
        sqlx::query_as(
            "INSERT INTO ip_allowlist (network, note, created_by) VALUES ($1, $2, $3) \
             RETURNING id, network, note, created_by, created_at",
        )
        .bind(network.trunc())
        .bind(note)
        .bind(by.as_uuid())
        .fetch_one(self.pool())
        .await
        .map_err(|e| StoreError::on_unique(e, "ip_allowlist_network_key", "network"))
    }

    /// Removes an entry; the removed entry, or `NotFound`.
    pub async fn remove_allowed(&self, id: Uuid) -> Result<AllowEntry, StoreError> {
        sqlx::query_as(
            "DELETE FROM ip_allowlist WHERE id = $1 \
             RETURNING id, network, note, created_by, created_at",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)
    }

    /// Appends to the audit log.
    pub async fn audit(
        &self,
        admin: UserId,
        ip: IpAddr,
        action: &str,
        target: (&str, Option<&str>),
        details: serde_json::Value,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO admin_audit_log (admin_id, action, target_type, target_id, details, ip) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(admin.as_uuid())
        .bind(action)
        .bind(target.0)
        .bind(target.1)
        .bind(details)
        .bind(IpNet::from(ip))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The audit log, newest first, before `before` (an id) when given.
    pub async fn audit_log(
        &self,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, admin_id, action, target_type, target_id, details, ip, created_at \
             FROM admin_audit_log WHERE ($1::bigint IS NULL OR id < $1) ORDER BY id DESC LIMIT $2",
        )
        .bind(before)
        .bind(limit)
        .fetch_all(self.pool())
        .await?)
    }

    pub async fn search_users(&self, q: &UserSearch) -> Result<Vec<UserRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT u.id, u.email, u.role, u.status, \
                    COALESCE(s.plan_id, 'free') AS plan, u.created_at \
             FROM users u LEFT JOIN subscriptions s ON s.user_id = u.id \
                 AND s.status IN ('active', 'past_due') \
             WHERE ($1::text IS NULL OR u.email ILIKE '%' || replace(replace(replace($1, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%') \
               AND ($2::text IS NULL OR COALESCE(s.plan_id, 'free') = $2) \
               AND ($3::text IS NULL OR u.status = $3) \
               AND ($4::timestamptz IS NULL OR u.created_at >= $4) \
               AND ($5::timestamptz IS NULL OR u.created_at < $5) \
             ORDER BY u.created_at DESC, u.id LIMIT $6",
        )
        .bind(&q.email)
        .bind(&q.plan)
        .bind(&q.status)
        .bind(q.created_after)
        .bind(q.created_before)
        .bind(q.limit)
        .fetch_all(self.pool())
        .await?)
    }

    /// Puts a user on `plan` until `until` (a subscription by an admin), ending the live one;
    /// Free ends the live one only. Returns the plan before.
    pub async fn set_plan(
        &self,
        id: UserId,
        plan: &str,
        until: Option<DateTime<Utc>>,
    ) -> Result<String, StoreError> {
        let mut tx = self.pool().begin().await?;
        let before: Option<String> = sqlx::query_scalar(
            "UPDATE subscriptions SET status = 'canceled', updated_at = now() \
             WHERE user_id = $1 AND status IN ('active', 'past_due') RETURNING plan_id",
        )
        .bind(id.as_uuid())
        .fetch_optional(&mut *tx)
        .await?;
        if plan != "free" {
            sqlx::query(
                "INSERT INTO subscriptions (user_id, plan_id, status, current_period_end, provider) \
                 VALUES ($1, $2, 'active', $3, 'admin')",
            )
            .bind(id.as_uuid())
            .bind(plan)
            .bind(until)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(before.unwrap_or_else(|| "free".into()))
    }
}

impl Database {
    /// Ends every session of a user (an admin's logout or ban); how many ended.
    pub async fn end_all_sessions(&self, user: UserId) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE refresh_token_families SET revoked_at = now(), revoked_reason = 'admin' \
             WHERE user_id = $1 AND revoked_at IS NULL",
        )
        .bind(user.as_uuid())
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected())
    }
}
