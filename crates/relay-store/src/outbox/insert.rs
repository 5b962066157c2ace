//! Writing the outbox: a batch of new deliveries in one statement, each idempotency key
//! once, and only rows whose destination is still their pair's and owner's.

use super::{NewDelivery, QUEUED_COLUMNS, QueuedDelivery, QueuedRow};
use crate::{Database, StoreError};
use chrono::{DateTime, Utc};
use uuid::Uuid;

impl Database {
    /// Writes a batch of deliveries in one statement. A key already written (by an earlier
    /// attempt, or twice in this batch) is skipped, and so is a row whose destination is no
    /// longer its pair's and owner's (removed from the pair meanwhile, or not theirs).
    /// Returns the rows it inserted, in id order (ids follow the order of `new`).
    pub async fn insert_deliveries(
        &self,
        new: &[NewDelivery],
    ) -> Result<Vec<QueuedDelivery>, StoreError> {
        let mut conn = self.pool().acquire().await?;
        insert_deliveries_on(&mut conn, new).await
    }
}

/// `insert_deliveries` on a connection (or inside a transaction).
pub(crate) async fn insert_deliveries_on(
    conn: &mut sqlx::PgConnection,
    new: &[NewDelivery],
) -> Result<Vec<QueuedDelivery>, StoreError> {
    if new.is_empty() {
        return Ok(Vec::new());
    }
    let owners: Vec<Uuid> = new.iter().map(|d| d.owner_id.as_uuid()).collect();
    let pairs: Vec<Uuid> = new.iter().map(|d| d.pair_id.as_uuid()).collect();
    let destinations: Vec<Uuid> = new.iter().map(|d| d.destination_id.as_uuid()).collect();
    let senders: Vec<Uuid> = new.iter().map(|d| d.sender_account_id.as_uuid()).collect();
    let chats: Vec<&str> = new.iter().map(|d| d.source_chat_id.as_str()).collect();
    let messages: Vec<&str> = new.iter().map(|d| d.source_message_id.as_str()).collect();
    let actions: Vec<&str> = new.iter().map(|d| d.action.as_str()).collect();
    let revisions: Vec<i64> = new.iter().map(|d| d.revision).collect();
    let parts: Vec<i16> = new.iter().map(|d| d.part).collect();
    let priorities: Vec<&str> = new.iter().map(|d| d.priority.as_str()).collect();
    let payloads: Vec<serde_json::Value> = new.iter().map(|d| d.payload.clone()).collect();
    let source_ats: Vec<DateTime<Utc>> = new.iter().map(|d| d.source_at).collect();
    let rows: Vec<QueuedRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO deliveries (owner_id, pair_id, destination_id, sender_account_id, \
             source_chat_id, source_message_id, action, revision, part, priority, payload, source_at) \
         SELECT t.owner_id, t.pair_id, t.destination_id, t.sender_account_id, t.source_chat_id, \
             t.source_message_id, t.action, t.revision, t.part, t.priority, t.payload, t.source_at \
         FROM UNNEST($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::text[], \
             $7::text[], $8::int8[], $9::int2[], $10::text[], $11::jsonb[], $12::timestamptz[]) \
             WITH ORDINALITY AS t(owner_id, pair_id, destination_id, sender_account_id, \
             source_chat_id, source_message_id, action, revision, part, priority, payload, source_at, ord) \
         WHERE EXISTS (SELECT 1 FROM pair_destinations d WHERE d.id = t.destination_id \
             AND d.pair_id = t.pair_id AND d.owner_id = t.owner_id) \
           AND EXISTS (SELECT 1 FROM platform_accounts a WHERE a.id = t.sender_account_id \
             AND a.owner_id = t.owner_id) \
         ORDER BY t.ord \
         ON CONFLICT (pair_id, destination_id, source_chat_id, source_message_id, action, revision, part) \
         DO NOTHING \
         RETURNING {QUEUED_COLUMNS}"
    )))
    .bind(&owners)
    .bind(&pairs)
    .bind(&destinations)
    .bind(&senders)
    .bind(&chats)
    .bind(&messages)
    .bind(&actions)
    .bind(&revisions)
    .bind(&parts)
    .bind(&priorities)
    .bind(&payloads)
    .bind(&source_ats)
    .fetch_all(&mut *conn)
    .await?;
    let mut queued = rows
        .into_iter()
        .map(QueuedDelivery::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    queued.sort_by_key(|q| q.id);
    Ok(queued)
}
