//! Writing the outbox: a batch of new deliveries in one statement, each idempotency key
//! once, and only rows whose destination is still their pair's and owner's. What the
//! rules decided goes with each row: a filtered row is written skipped with its rule, a
//! held one pending until its time; only rows due now are returned for queueing. An edit
//! or a delete of a message whose copy is still held applies to the held row instead (the
//! held message goes out edited, or not at all), and is itself written skipped.

use super::{NewDelivery, QUEUED_COLUMNS, QueuedDelivery, QueuedRow, RowDecision};
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
    let applied = apply_to_held(conn, new).await?;
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
    let mut states = Vec::with_capacity(new.len());
    let mut due_ats: Vec<Option<DateTime<Utc>>> = Vec::with_capacity(new.len());
    let mut decided: Vec<Option<&str>> = Vec::with_capacity(new.len());
    for (d, applied) in new.iter().zip(&applied) {
        let (state, due, why) = match (&d.decision, applied) {
            (_, Some(why)) => ("skipped", None, Some(*why)),
            (RowDecision::Send, None) => ("pending", None, None),
            (RowDecision::Filtered { rule }, None) => ("skipped", None, Some(rule.as_str())),
            (RowDecision::Held { until, reason }, None) => {
                ("pending", Some(*until), Some(reason.as_str()))
            }
        };
        states.push(state);
        due_ats.push(due);
        decided.push(why);
    }
    #[derive(sqlx::FromRow)]
    struct Inserted {
        #[sqlx(flatten)]
        row: QueuedRow,
        due: bool,
    }
    let rows: Vec<Inserted> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO deliveries (owner_id, pair_id, destination_id, sender_account_id, \
             source_chat_id, source_message_id, action, revision, part, priority, payload, source_at, \
             state, next_attempt_at, decided_by, done_at) \
         SELECT t.owner_id, t.pair_id, t.destination_id, t.sender_account_id, t.source_chat_id, \
             t.source_message_id, t.action, t.revision, t.part, t.priority, t.payload, t.source_at, \
             t.state, COALESCE(t.due_at, now()), t.decided_by, \
             CASE WHEN t.state = 'skipped' THEN now() END \
         FROM UNNEST($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::text[], \
             $7::text[], $8::int8[], $9::int2[], $10::text[], $11::jsonb[], $12::timestamptz[], \
             $13::text[], $14::timestamptz[], $15::text[]) \
             WITH ORDINALITY AS t(owner_id, pair_id, destination_id, sender_account_id, \
             source_chat_id, source_message_id, action, revision, part, priority, payload, source_at, \
             state, due_at, decided_by, ord) \
         WHERE EXISTS (SELECT 1 FROM pair_destinations d WHERE d.id = t.destination_id \
             AND d.pair_id = t.pair_id AND d.owner_id = t.owner_id) \
           AND EXISTS (SELECT 1 FROM platform_accounts a WHERE a.id = t.sender_account_id \
             AND a.owner_id = t.owner_id) \
         ORDER BY t.ord \
         ON CONFLICT (pair_id, destination_id, source_chat_id, source_message_id, action, revision, part) \
         DO NOTHING \
         RETURNING {QUEUED_COLUMNS}, (state = 'pending' AND next_attempt_at <= now()) AS due"
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
    .bind(&states)
    .bind(&due_ats)
    .bind(&decided)
    .fetch_all(&mut *conn)
    .await?;
    let mut queued = rows
        .into_iter()
        .filter(|r| r.due)
        .map(|r| QueuedDelivery::try_from(r.row))
        .collect::<Result<Vec<_>, _>>()?;
    queued.sort_by_key(|q| q.id);
    Ok(queued)
}

/// Why an edit or a delete was written skipped: it applied to its message's held row.
const MERGED_EDIT: &str = "applied to the held message";
const DELETED_HELD: &str = "its message was deleted before it was sent";

/// Applies the batch's edits and deletes to held, unclaimed creates of the same message and
/// destination (the held create takes the edit's payload; a delete skips it); for each row
/// of `new`, why it is then written skipped (`None`: written as decided).
async fn apply_to_held(
    conn: &mut sqlx::PgConnection,
    new: &[NewDelivery],
) -> Result<Vec<Option<&'static str>>, StoreError> {
    let mut why = vec![None; new.len()];
    let follow_ups: Vec<usize> = (0..new.len())
        .filter(|&i| new[i].action != super::DeliveryAction::Create && new[i].part == 0)
        .collect();
    if follow_ups.is_empty() {
        return Ok(why);
    }
    let column = |f: fn(&NewDelivery) -> Uuid| -> Vec<Uuid> {
        follow_ups.iter().map(|&i| f(&new[i])).collect()
    };
    let pairs = column(|d| d.pair_id.as_uuid());
    let destinations = column(|d| d.destination_id.as_uuid());
    let chats: Vec<&str> = follow_ups
        .iter()
        .map(|&i| new[i].source_chat_id.as_str())
        .collect();
    let messages: Vec<&str> = follow_ups
        .iter()
        .map(|&i| new[i].source_message_id.as_str())
        .collect();
    let deletes: Vec<bool> = follow_ups
        .iter()
        .map(|&i| new[i].action == super::DeliveryAction::Delete)
        .collect();
    let payloads: Vec<&serde_json::Value> = follow_ups.iter().map(|&i| &new[i].payload).collect();
    // In batch order, so the last edit of a held message is what it goes out with.
    let hit: Vec<(i64,)> = sqlx::query_as(
        "WITH t AS (SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::text[], \
                 $5::bool[], $6::jsonb[]) WITH ORDINALITY \
                 AS t(pair_id, destination_id, chat, message, is_delete, payload, ord)), \
              held AS (SELECT DISTINCT ON (t.pair_id, t.destination_id, t.chat, t.message) \
                 c.id, t.is_delete, t.payload, t.ord \
                 FROM t JOIN deliveries c ON c.pair_id = t.pair_id \
                   AND c.destination_id = t.destination_id AND c.source_chat_id = t.chat \
                   AND c.source_message_id = t.message AND c.action = 'create' AND c.part = 0 \
                   AND c.state = 'pending' AND c.next_attempt_at > now() \
                   AND c.in_flight_until IS NULL \
                 ORDER BY t.pair_id, t.destination_id, t.chat, t.message, t.is_delete DESC, t.ord DESC), \
              changed AS (UPDATE deliveries c SET \
                 payload = CASE WHEN held.is_delete THEN c.payload ELSE held.payload END, \
                 state = CASE WHEN held.is_delete THEN 'skipped' ELSE c.state END, \
                 decided_by = CASE WHEN held.is_delete THEN $7 ELSE c.decided_by END, \
                 done_at = CASE WHEN held.is_delete THEN now() END, \
                 updated_at = now() \
                 FROM held WHERE c.id = held.id RETURNING c.id) \
         SELECT t.ord FROM t JOIN held ON held.id IN (SELECT id FROM changed) \
           JOIN deliveries c ON c.id = held.id AND c.pair_id = t.pair_id \
           AND c.destination_id = t.destination_id AND c.source_chat_id = t.chat \
           AND c.source_message_id = t.message",
    )
    .bind(&pairs)
    .bind(&destinations)
    .bind(&chats)
    .bind(&messages)
    .bind(&deletes)
    .bind(&payloads)
    .bind(DELETED_HELD)
    .fetch_all(&mut *conn)
    .await?;
    for (ord,) in hit {
        let i = follow_ups[(ord - 1) as usize];
        why[i] = Some(if new[i].action == super::DeliveryAction::Delete {
            DELETED_HELD
        } else {
            MERGED_EDIT
        });
    }
    Ok(why)
}
