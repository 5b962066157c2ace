//! What the outbox tells about the past: where a source message landed, the owner's dead
//! deliveries and error log, a pair's deliveries per state, and the newest source message
//! forwarded from a chat (where a Discord listener catches up from).

use super::{ErrorEntry, FailedDelivery};
use crate::{Database, StoreError};
use chrono::{DateTime, Utc};
use relay_core::{AccountId, DestinationId, PairId, UserId};
use uuid::Uuid;

impl Database {
    /// The destination message a source message (part) became, if it was delivered.
    pub async fn message_copy(
        &self,
        destination: DestinationId,
        source_chat_id: &str,
        source_message_id: &str,
        part: i16,
    ) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT dest_message_id FROM message_map WHERE destination_id = $1 \
             AND source_chat_id = $2 AND source_message_id = $3 AND part = $4",
        )
        .bind(destination.as_uuid())
        .bind(source_chat_id)
        .bind(source_message_id)
        .bind(part)
        .fetch_optional(self.pool())
        .await?)
    }

    /// The owner's dead deliveries (of one pair, or all), newest first.
    pub async fn failed_deliveries(
        &self,
        owner: UserId,
        pair: Option<PairId>,
        limit: i64,
    ) -> Result<Vec<FailedDelivery>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            id: i64,
            pair_id: Uuid,
            destination_id: Uuid,
            source_chat_id: String,
            source_message_id: String,
            action: String,
            attempts: i32,
            last_error: Option<String>,
            updated_at: DateTime<Utc>,
        }
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, pair_id, destination_id, source_chat_id, source_message_id, action, \
                 attempts, last_error, updated_at \
             FROM deliveries WHERE owner_id = $1 AND state = 'dead' \
               AND ($2::uuid IS NULL OR pair_id = $2) \
             ORDER BY done_at DESC, id DESC LIMIT $3",
        )
        .bind(owner.as_uuid())
        .bind(pair.map(|p| p.as_uuid()))
        .bind(limit.max(0))
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(FailedDelivery {
                    id: r.id,
                    pair_id: r.pair_id.into(),
                    destination_id: r.destination_id.into(),
                    source_chat_id: r.source_chat_id,
                    source_message_id: r.source_message_id,
                    action: r.action.parse().map_err(StoreError::corrupt)?,
                    attempts: r.attempts,
                    last_error: r.last_error,
                    updated_at: r.updated_at,
                })
            })
            .collect()
    }

    /// The owner's error log, newest first.
    pub async fn error_log(
        &self,
        owner: UserId,
        limit: i64,
    ) -> Result<Vec<ErrorEntry>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            id: i64,
            severity: String,
            component: String,
            code: String,
            message: String,
            pair_id: Option<Uuid>,
            account_id: Option<Uuid>,
            delivery_id: Option<i64>,
            created_at: DateTime<Utc>,
        }
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, severity, component, code, message, pair_id, account_id, delivery_id, created_at \
             FROM error_log WHERE owner_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
        )
        .bind(owner.as_uuid())
        .bind(limit.max(0))
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(ErrorEntry {
                    id: r.id,
                    severity: r.severity.parse().map_err(StoreError::corrupt)?,
                    component: r.component,
                    code: r.code,
                    message: r.message,
                    pair_id: r.pair_id.map(PairId::from),
                    account_id: r.account_id.map(AccountId::from),
                    delivery_id: r.delivery_id,
                    created_at: r.created_at,
                })
            })
            .collect()
    }

    /// How many of a pair's deliveries are in each state, by state name.
    pub async fn delivery_states(&self, pair: PairId) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT s, count(*) FROM (SELECT CASE WHEN state = 'pending' AND in_flight_until \
                 IS NOT NULL THEN 'in_flight' ELSE state END AS s \
                 FROM deliveries WHERE pair_id = $1) d GROUP BY s ORDER BY s",
        )
        .bind(pair.as_uuid())
        .fetch_all(self.pool())
        .await?)
    }

    /// The newest source message (by numeric id) of a chat that any pair of `account`
    /// forwarded: where a Discord listener catches up from after a restart or a takeover.
    pub async fn last_source_message(
        &self,
        account: AccountId,
        chat_id: &str,
    ) -> Result<Option<u64>, StoreError> {
        let last: Option<String> = sqlx::query_scalar(
            "SELECT d.source_message_id FROM deliveries d \
             JOIN forwarding_pairs p ON p.id = d.pair_id \
             WHERE p.source_account_id = $1 AND d.source_chat_id = $2 \
               AND d.source_message_id ~ '^[0-9]{1,20}$' \
             ORDER BY length(d.source_message_id) DESC, d.source_message_id DESC LIMIT 1",
        )
        .bind(account.as_uuid())
        .bind(chat_id)
        .fetch_optional(self.pool())
        .await?;
        Ok(last.and_then(|id| id.parse().ok()))
    }
}
