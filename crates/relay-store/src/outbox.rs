//! The outbox: one `deliveries` row per destination part of a source message, written
//! before its job is enqueued (Postgres is the source of truth, Redis the transport).
//!
//! A worker claims a row with a fencing token (`claim_delivery`), and only that token can
//! finish it (`complete_delivery`, `retry_delivery`, `kill_delivery`): a worker whose claim
//! lapsed and was taken over cannot overwrite the newer outcome. The sweeper
//! (`sweep_deliveries`) hands back rows that are due and not in flight, and claims that
//! lapsed, so a lost job loses no message.
//!
//! "In flight" is a pending row with a claim (`in_flight_until` set), not a state of its
//! own: a claim then changes no indexed column and PostgreSQL updates the row in place
//! (HOT), which is what keeps the hot path cheap (migration 09). Only finishing a delivery
//! changes its state.

use crate::{Database, StoreError};
use chrono::{DateTime, Utc};
pub use relay_core::delivery::{DeliveryAction, QueuedDelivery};
use relay_core::{AccountId, AccountKind, DestinationId, PairId, Priority, Severity, UserId};
use std::time::Duration;
use uuid::Uuid;

/// A delivery to write. The idempotency key is (pair, destination, source chat, source
/// message, action, revision, part): writing the same key again is a no-op.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDelivery {
    pub owner_id: UserId,
    pub pair_id: PairId,
    pub destination_id: DestinationId,
    pub sender_account_id: AccountId,
    pub source_chat_id: String,
    pub source_message_id: String,
    pub action: DeliveryAction,
    /// 0 for create and delete; the edit's sequence for edits.
    pub revision: i64,
    pub part: i16,
    pub priority: Priority,
    pub payload: serde_json::Value,
    pub source_at: DateTime<Utc>,
}

/// A delivery taken for sending, with what sending needs.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedDelivery {
    pub id: i64,
    pub owner_id: UserId,
    pub pair_id: PairId,
    pub destination_id: DestinationId,
    pub sender_account_id: AccountId,
    pub account_kind: AccountKind,
    /// The destination chat; `None` for a Discord webhook.
    pub dest_chat_id: Option<String>,
    pub source_chat_id: String,
    pub source_message_id: String,
    pub action: DeliveryAction,
    pub part: i16,
    pub payload: serde_json::Value,
    /// Including this attempt.
    pub attempts: i32,
}

/// A sent delivery to mark done: under which claim, and where it landed (an empty
/// message id records no copy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Completed<'a> {
    pub id: i64,
    pub token: i64,
    pub dest_chat_id: &'a str,
    pub dest_message_id: &'a str,
}

/// A delivery that was given up on, as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedDelivery {
    pub id: i64,
    pub pair_id: PairId,
    pub destination_id: DestinationId,
    pub source_chat_id: String,
    pub source_message_id: String,
    pub action: DeliveryAction,
    pub attempts: i32,
    pub last_error: Option<String>,
    /// When it was given up.
    pub updated_at: DateTime<Utc>,
}

/// One entry of a user's error log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorEntry {
    pub id: i64,
    pub severity: Severity,
    pub component: String,
    pub code: String,
    pub message: String,
    pub pair_id: Option<PairId>,
    pub account_id: Option<AccountId>,
    pub delivery_id: Option<i64>,
    pub created_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct QueuedRow {
    id: i64,
    sender_account_id: Uuid,
    destination_id: Uuid,
    priority: String,
    attempts: i32,
}

impl TryFrom<QueuedRow> for QueuedDelivery {
    type Error = StoreError;
    fn try_from(r: QueuedRow) -> Result<Self, StoreError> {
        Ok(QueuedDelivery {
            id: r.id,
            sender_account_id: r.sender_account_id.into(),
            destination_id: r.destination_id.into(),
            priority: r.priority.parse().map_err(StoreError::corrupt)?,
            attempts: r.attempts,
        })
    }
}

#[derive(sqlx::FromRow)]
struct ClaimedRow {
    id: i64,
    owner_id: Uuid,
    pair_id: Uuid,
    destination_id: Uuid,
    sender_account_id: Uuid,
    account_kind: String,
    dest_chat_id: Option<String>,
    source_chat_id: String,
    source_message_id: String,
    action: String,
    part: i16,
    payload: serde_json::Value,
    attempts: i32,
}

impl TryFrom<ClaimedRow> for ClaimedDelivery {
    type Error = StoreError;
    fn try_from(r: ClaimedRow) -> Result<Self, StoreError> {
        Ok(ClaimedDelivery {
            id: r.id,
            owner_id: r.owner_id.into(),
            pair_id: r.pair_id.into(),
            destination_id: r.destination_id.into(),
            sender_account_id: r.sender_account_id.into(),
            account_kind: r.account_kind.parse().map_err(StoreError::corrupt)?,
            dest_chat_id: r.dest_chat_id,
            source_chat_id: r.source_chat_id,
            source_message_id: r.source_message_id,
            action: r.action.parse().map_err(StoreError::corrupt)?,
            part: r.part,
            payload: r.payload,
            attempts: r.attempts,
        })
    }
}

const QUEUED_COLUMNS: &str = "id, sender_account_id, destination_id, priority, attempts";

/// Whole microseconds, as PostgreSQL intervals count them.
fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

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

impl Database {
    /// Takes a delivery for sending: a pending one, or one in flight whose claim lapsed or
    /// was made under an older or equal token, becomes in flight under `token` until
    /// now + `hold`, with one more attempt counted. Tokens are the partition lease's fencing
    /// tokens, so a new owner takes over a crashed owner's claims at once while a
    /// superseded owner cannot take them back. `None` when it is finished (done, skipped,
    /// dead), gone, or held under a newer token.
    pub async fn claim_delivery(
        &self,
        id: i64,
        token: i64,
        hold: Duration,
    ) -> Result<Option<ClaimedDelivery>, StoreError> {
        Ok(self.claim_many(&[(id, token)], hold).await?.pop())
    }

    /// [`claim_delivery`](Self::claim_delivery) for many deliveries in one statement, each
    /// under its own token (the worker's claimer gathers the claims of several partitions'
    /// lanes). A delivery named twice is claimed under the larger token. Returns the ones
    /// it claimed, in id order; the others are finished, gone or held under a newer token.
    /// Rows are locked in id order, so two claimers of overlapping sets do not deadlock.
    ///
    /// A claim commits without waiting for the WAL flush (`synchronous_commit = off` for
    /// this transaction only): it is a lock, not a fact that must survive. The next
    /// durable commit (a completion, an outbox insert) flushes it anyway; only a
    /// PostgreSQL crash within the WAL writer's delay (200 ms by default) can forget it,
    /// and then the delivery is merely pending again: sent once more under the same
    /// idempotency key (the nonce, MTProto's `random_id`), exactly as when a crash comes
    /// between a send and its completion. Waiting for a flush per claim made every lane
    /// queue behind the WAL, and the outbox inserts behind them.
    pub async fn claim_many(
        &self,
        claims: &[(i64, i64)],
        hold: Duration,
    ) -> Result<Vec<ClaimedDelivery>, StoreError> {
        let mut sorted = claims.to_vec();
        sorted.sort_unstable_by_key(|(id, token)| (*id, std::cmp::Reverse(*token)));
        sorted.dedup_by_key(|(id, _)| *id);
        if sorted.is_empty() {
            return Ok(Vec::new());
        }
        let (ids, tokens): (Vec<i64>, Vec<i64>) = sorted.into_iter().unzip();
        let rows: Vec<ClaimedRow> = sqlx::query_as(
            "WITH cfg AS (SELECT set_config('synchronous_commit', 'off', true)), \
             t AS (SELECT * FROM UNNEST($1::int8[], $2::int8[]) AS t(id, token)), \
             c AS (SELECT d.id, t.token FROM deliveries d JOIN t ON d.id = t.id \
                   ORDER BY d.id FOR UPDATE OF d) \
             UPDATE deliveries d SET claim_token = c.token, \
                 in_flight_until = now() + $3 * interval '1 microsecond', \
                 attempts = d.attempts + 1, updated_at = now() \
             FROM cfg, c, pair_destinations pd, platform_accounts a \
             WHERE d.id = c.id AND d.state = 'pending' \
               AND (d.in_flight_until IS NULL OR d.in_flight_until < now() \
                    OR d.claim_token IS NULL OR d.claim_token <= c.token) \
               AND pd.id = d.destination_id AND a.id = d.sender_account_id \
             RETURNING d.id, d.owner_id, d.pair_id, d.destination_id, d.sender_account_id, \
                 a.kind AS account_kind, pd.chat_id AS dest_chat_id, d.source_chat_id, \
                 d.source_message_id, d.action, d.part, d.payload, d.attempts",
        )
        .bind(&ids)
        .bind(&tokens)
        .bind(micros(hold))
        .fetch_all(self.pool())
        .await?;
        let mut claimed = rows
            .into_iter()
            .map(ClaimedDelivery::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        claimed.sort_by_key(|c| c.id);
        Ok(claimed)
    }

    /// Gives claims back unused: deliveries claimed under `token` and not sent (a lane
    /// claimed ahead and then had to wait) go back to pending, their attempt uncounted.
    /// Returns how many went back.
    pub async fn release_claims(&self, ids: &[i64], token: i64) -> Result<u64, StoreError> {
        if ids.is_empty() {
            return Ok(0);
        }
        let done = sqlx::query(
            "UPDATE deliveries SET attempts = greatest(attempts - 1, 0), \
                 in_flight_until = NULL, updated_at = now() \
             WHERE id = ANY($1) AND claim_token = $2 AND state = 'pending' \
               AND in_flight_until IS NOT NULL",
        )
        .bind(ids)
        .bind(token)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected())
    }

    /// Marks a delivery done, only under the current claim (`false` if the claim was lost)
    /// and records where it landed in the message map, in one statement. A delete leaves
    /// no copy, so it records none; the first copy of a (destination, message, part) stays.
    pub async fn complete_delivery(
        &self,
        id: i64,
        token: i64,
        dest_chat_id: &str,
        dest_message_id: &str,
    ) -> Result<bool, StoreError> {
        let done = self
            .complete_deliveries(&[Completed {
                id,
                token,
                dest_chat_id,
                dest_message_id,
            }])
            .await?;
        Ok(done.contains(&id))
    }

    /// [`complete_delivery`](Self::complete_delivery) for many deliveries in one statement
    /// (one round trip, atomic). Returns the ids it marked done; the others had lost
    /// their claim (or were not in flight).
    pub async fn complete_deliveries(
        &self,
        done: &[Completed<'_>],
    ) -> Result<Vec<i64>, StoreError> {
        if done.is_empty() {
            return Ok(Vec::new());
        }
        let mut sorted: Vec<&Completed<'_>> = done.iter().collect();
        sorted.sort_by_key(|c| c.id);
        let ids: Vec<i64> = sorted.iter().map(|c| c.id).collect();
        let tokens: Vec<i64> = sorted.iter().map(|c| c.token).collect();
        let chats: Vec<&str> = sorted.iter().map(|c| c.dest_chat_id).collect();
        let messages: Vec<&str> = sorted.iter().map(|c| c.dest_message_id).collect();
        let ids: Vec<i64> = sqlx::query_scalar(
            "WITH t AS ( \
                 SELECT * FROM UNNEST($1::int8[], $2::int8[], $3::text[], $4::text[]) \
                     AS t(id, token, chat, message)), \
             done AS ( \
                 UPDATE deliveries d SET state = 'done', done_at = now(), updated_at = now(), \
                     in_flight_until = NULL, last_error = NULL \
                 FROM t WHERE d.id = t.id AND d.claim_token = t.token AND d.state = 'pending' \
                     AND d.in_flight_until IS NOT NULL \
                 RETURNING d.id, d.owner_id, d.pair_id, d.destination_id, d.source_chat_id, \
                     d.source_message_id, d.part, d.sender_account_id, d.action, t.chat, t.message), \
             mapped AS ( \
                 INSERT INTO message_map (owner_id, pair_id, destination_id, source_chat_id, \
                     source_message_id, part, dest_account_id, dest_chat_id, dest_message_id) \
                 SELECT owner_id, pair_id, destination_id, source_chat_id, source_message_id, part, \
                     sender_account_id, chat, message FROM done \
                 WHERE action <> 'delete' AND message <> '' \
                 ON CONFLICT (destination_id, source_chat_id, source_message_id, part) DO NOTHING) \
             SELECT id FROM done",
        )
        .bind(&ids)
        .bind(&tokens)
        .bind(&chats)
        .bind(&messages)
        .fetch_all(self.pool())
        .await?;
        Ok(ids)
    }

    /// Puts a claimed delivery back to pending for an attempt at `next_attempt_at`
    /// (`false` if the claim was lost).
    pub async fn retry_delivery(
        &self,
        id: i64,
        token: i64,
        error: &str,
        next_attempt_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE deliveries SET last_error = $3, next_attempt_at = $4, \
                 in_flight_until = NULL, updated_at = now() \
             WHERE id = $1 AND claim_token = $2 AND state = 'pending' \
               AND in_flight_until IS NOT NULL",
        )
        .bind(id)
        .bind(token)
        .bind(error)
        .bind(next_attempt_at)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Gives a claimed delivery up: dead, with its error, and an entry in its owner's error
    /// log (severity `error`, component `delivery`), in one transaction. `false` if the
    /// claim was lost.
    pub async fn kill_delivery(
        &self,
        id: i64,
        token: i64,
        code: &str,
        error: &str,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool().begin().await?;
        let done = sqlx::query(
            "UPDATE deliveries SET state = 'dead', last_error = $3, done_at = now(), \
                 updated_at = now(), in_flight_until = NULL \
             WHERE id = $1 AND claim_token = $2 AND state = 'pending' \
               AND in_flight_until IS NOT NULL",
        )
        .bind(id)
        .bind(token)
        .bind(error)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO error_log (owner_id, severity, component, code, message, context, \
                 pair_id, account_id, delivery_id) \
             SELECT owner_id, 'error', 'delivery', $2, $3, \
                 jsonb_build_object('destination_id', destination_id, 'source_chat_id', source_chat_id, \
                     'source_message_id', source_message_id, 'action', action, 'part', part, \
                     'attempts', attempts), \
                 pair_id, sender_account_id, id \
             FROM deliveries WHERE id = $1",
        )
        .bind(id)
        .bind(code)
        .bind(error)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

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

    /// A new fencing token for a partition's new owner: larger than every token handed
    /// out before, whatever happened to Redis.
    pub async fn next_lease_epoch(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT nextval('lease_epochs')")
            .fetch_one(self.pool())
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
