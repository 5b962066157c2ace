//! Claims: a lane takes a delivery for sending under its partition's fencing token
//! (`claim_delivery`, `claim_many`), gives claims back unused (`release_claims`), and a
//! partition's new owner draws a new token (`next_lease_epoch`).

use super::{ClaimedDelivery, micros};
use crate::{Database, StoreError};
use std::time::Duration;
use uuid::Uuid;

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
    show_author: bool,
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
            show_author: r.show_author,
        })
    }
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
                 d.source_message_id, d.action, d.part, d.payload, d.attempts, \
                 COALESCE((pd.options->>'show_author')::boolean, true) AS show_author",
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

    /// A new fencing token for a partition's new owner: larger than every token handed
    /// out before, whatever happened to Redis.
    pub async fn next_lease_epoch(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT nextval('lease_epochs')")
            .fetch_one(self.pool())
            .await?)
    }
}
