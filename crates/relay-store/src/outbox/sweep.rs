//! Finding rows whose job may be lost: the sweeper's due, unclaimed rows (and lapsed
//! claims), and a new partition owner's rows not in flight, each batch marked touched.

use super::{QueuedDelivery, QueuedRow, micros};
use crate::{Database, StoreError};
use chrono::{DateTime, Utc};
use relay_core::AccountId;
use std::time::Duration;
use uuid::Uuid;

impl Database {
    /// The sweeper's batch: deliveries that are due and not in flight (pending, due, and
    /// untouched for `quiet`) and claims that lapsed, oldest first, at most `limit`. Each
    /// row returned is touched, so the next sweep skips it for `quiet` again; rows locked by
    /// another sweeper or a claim are skipped, so sweepers split the work.
    pub async fn sweep_deliveries(
        &self,
        quiet: Duration,
        limit: i64,
    ) -> Result<Vec<QueuedDelivery>, StoreError> {
        self.sweep_deliveries_where(quiet, limit, |_, _| true).await
    }

    /// [`sweep_deliveries`](Self::sweep_deliveries), keeping only the rows `keep` accepts
    /// (given the row and when it was last queued or touched: its last write, or when its
    /// retry came due). Rows left out stay as they are, for a later sweep. The sweeper
    /// leaves out rows whose job may still be waiting in Redis behind a backlog, so a
    /// backlog longer than `quiet` is not queued a second time.
    pub async fn sweep_deliveries_where(
        &self,
        quiet: Duration,
        limit: i64,
        mut keep: impl FnMut(&QueuedDelivery, DateTime<Utc>) -> bool,
    ) -> Result<Vec<QueuedDelivery>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Candidate {
            #[sqlx(flatten)]
            row: QueuedRow,
            touched_at: DateTime<Utc>,
        }
        let mut tx = self.pool().begin().await?;
        let candidates: Vec<Candidate> = sqlx::query_as(
            "SELECT id, sender_account_id, destination_id, priority, attempts, \
                 greatest(updated_at, next_attempt_at) AS touched_at \
             FROM deliveries \
             WHERE state = 'pending' AND next_attempt_at <= now() \
               AND updated_at <= now() - $1 * interval '1 microsecond' \
               AND (in_flight_until IS NULL OR in_flight_until < now()) \
             ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED",
        )
        .bind(micros(quiet))
        .bind(limit.max(0))
        .fetch_all(&mut *tx)
        .await?;
        let mut queued = Vec::with_capacity(candidates.len());
        for candidate in candidates {
            let delivery = QueuedDelivery::try_from(candidate.row)?;
            if keep(&delivery, candidate.touched_at) {
                queued.push(delivery);
            }
        }
        let ids: Vec<i64> = queued.iter().map(|q| q.id).collect();
        if !ids.is_empty() {
            sqlx::query("UPDATE deliveries SET updated_at = now() WHERE id = ANY($1)")
                .bind(&ids)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        queued.sort_by_key(|q| q.id);
        Ok(queued)
    }

    /// The due rows, not in flight, sent by accounts that `sends_here` picks (those of
    /// one queue partition), oldest first, marked touched: a new partition owner queues
    /// them before it reads anything new.
    pub async fn unqueued_of_senders(
        &self,
        sends_here: impl Fn(AccountId) -> bool,
        limit: i64,
    ) -> Result<Vec<QueuedDelivery>, StoreError> {
        let accounts: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM platform_accounts")
            .fetch_all(self.pool())
            .await?;
        let senders: Vec<Uuid> = accounts
            .into_iter()
            .filter(|id| sends_here(AccountId::from(*id)))
            .collect();
        if senders.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<QueuedRow> = sqlx::query_as(
            "UPDATE deliveries SET updated_at = now() WHERE id IN ( \
                 SELECT id FROM deliveries \
                 WHERE state = 'pending' AND sender_account_id = ANY($1) \
                   AND next_attempt_at <= now() \
                   AND (in_flight_until IS NULL OR in_flight_until < now()) \
                 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED) \
             RETURNING id, sender_account_id, destination_id, priority, attempts",
        )
        .bind(&senders)
        .bind(limit.max(0))
        .fetch_all(self.pool())
        .await?;
        let mut queued = rows
            .into_iter()
            .map(QueuedDelivery::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        queued.sort_by_key(|q| q.id);
        Ok(queued)
    }
}
