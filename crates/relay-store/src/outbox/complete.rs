//! The outcome of a claimed delivery, written only under its claim's token: done (with
//! where it landed, in the message map), back to pending for a retry, or dead (with an
//! entry in its owner's error log).

use super::Completed;
use crate::{Database, StoreError};
use chrono::{DateTime, Utc};

impl Database {
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
}
