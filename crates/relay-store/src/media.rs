//! The media store (migration 13): a source message's file, fetched from its platform once
//! and read by every delivery that needs it. The first delivery claims the file (a row
//! `fetching`, its claim lapsing after a while so a dead fetcher does not block it), fetches
//! it and stores it; the others find it stored, or wait while it is being fetched. A file
//! only a Telegram user session driven by another worker can fetch is `requested`: that
//! worker claims it with [`Database::claim_requested_media`]. Rows go when no pending
//! delivery of their message is left ([`Database::forget_unneeded_media`]).
//!
//! Also the record of files a delivery did not carry ([`MediaNotice`]): the message said so
//! instead, and this is where the API and analytics can count them.

use crate::{Database, StoreError};
use relay_core::messages::MediaSource;
use relay_core::{AccountId, DestinationId, PairId, UserId};
use sqlx::Row;
use std::time::Duration;

/// A file as the deliveries of one source message name it.
#[derive(Debug, Clone)]
pub struct MediaFile<'a> {
    /// Stable for the file (a hash of the owner and the source's identity).
    pub key: &'a str,
    pub owner_id: UserId,
    pub source_chat_id: &'a str,
    pub source_message_id: &'a str,
    pub source: &'a MediaSource,
    /// The account only whose worker can fetch it, if any (a Telegram user session).
    pub fetch_account: Option<AccountId>,
    /// The most that is read; a larger file is recorded as too large.
    pub cap: u64,
}

/// Where a file stands for a delivery that needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaState {
    /// The caller holds the claim: fetch it, then [`Database::store_media`],
    /// [`Database::media_too_large`], [`Database::media_gone`] or
    /// [`Database::media_fetch_failed`].
    Fetch,
    Stored(Vec<u8>),
    /// Over the cap: at least `size` bytes.
    TooLarge {
        size: u64,
    },
    /// The source has it no more.
    Gone(String),
    /// Being fetched elsewhere, or waiting for its session's worker: ask again shortly.
    Pending,
}

/// A requested file, claimed for fetching by the worker that drives its session.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaRequest {
    pub key: String,
    pub owner_id: UserId,
    pub source: MediaSource,
    pub cap: u64,
}

/// Why a file was not carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeReason {
    /// Over what the destination accepts.
    DestinationLimit,
    /// Over what the source lets Relay fetch (or Relay's own cap).
    SourceLimit,
    /// Gone from the source, or never fetchable.
    Unavailable,
    /// Over the owner's plan's `max_media_bytes` (though the destination would take it).
    PlanLimit,
}

impl NoticeReason {
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeReason::DestinationLimit => "destination_limit",
            NoticeReason::SourceLimit => "source_limit",
            NoticeReason::Unavailable => "unavailable",
            NoticeReason::PlanLimit => "plan_limit",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "destination_limit" => NoticeReason::DestinationLimit,
            "source_limit" => NoticeReason::SourceLimit,
            "plan_limit" => NoticeReason::PlanLimit,
            _ => NoticeReason::Unavailable,
        }
    }
}

/// A file a delivery did not carry; the message carried a notice instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaNotice {
    pub delivery_id: i64,
    pub file_index: i16,
    pub owner_id: UserId,
    pub pair_id: PairId,
    pub destination_id: DestinationId,
    pub filename: String,
    /// 0 when unknown.
    pub size: u64,
    /// The limit it was over (0 for a file that was gone).
    pub limit: u64,
    pub reason: NoticeReason,
}

fn int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn uint(n: Option<i64>) -> u64 {
    n.and_then(|n| u64::try_from(n).ok()).unwrap_or(0)
}

impl Database {
    /// Claims the file for fetching, or says where it stands. A row that does not exist
    /// yet is created: claimed by this caller (`can_fetch`), or else `requested` from the
    /// worker of its fetch account. A lapsed claim or a request is taken over by a caller
    /// that can fetch.
    pub async fn claim_media(
        &self,
        file: &MediaFile<'_>,
        can_fetch: bool,
        hold: Duration,
    ) -> Result<MediaState, StoreError> {
        let source = serde_json::to_value(file.source).unwrap_or_default();
        let claimed: Option<String> = sqlx::query_scalar(
            "INSERT INTO media_files (key, owner_id, source_chat_id, source_message_id, source, \
                 fetch_account_id, state, cap, claimed_until, fetches) \
             VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $8 THEN 'fetching' ELSE 'requested' END, \
                 $7, CASE WHEN $8 THEN now() + $9 * interval '1 millisecond' END, CASE WHEN $8 THEN 1 ELSE 0 END) \
             ON CONFLICT (key) DO UPDATE SET state = 'fetching', \
                 claimed_until = now() + $9 * interval '1 millisecond', \
                 fetches = media_files.fetches + 1, updated_at = now() \
             WHERE $8 AND (media_files.state = 'requested' \
                 OR (media_files.state = 'fetching' AND media_files.claimed_until < now())) \
             RETURNING state",
        )
        .bind(file.key)
        .bind(file.owner_id.as_uuid())
        .bind(file.source_chat_id)
        .bind(file.source_message_id)
        .bind(&source)
        .bind(file.fetch_account.map(|a| a.as_uuid()))
        .bind(int(file.cap))
        .bind(can_fetch)
        .bind(millis(hold))
        .fetch_optional(self.pool())
        .await?;
        match claimed.as_deref() {
            Some("fetching") => return Ok(MediaState::Fetch),
            Some(_) => return Ok(MediaState::Pending),
            None => {}
        }
        self.media_state(file.key).await
    }

    /// Where a file stands, without claiming it (`Pending` also when there is no row: it
    /// was forgotten meanwhile, and the next claim creates it again).
    pub async fn media_state(&self, key: &str) -> Result<MediaState, StoreError> {
        let row = sqlx::query("SELECT state, bytes, size, error FROM media_files WHERE key = $1")
            .bind(key)
            .fetch_optional(self.pool())
            .await?;
        let Some(row) = row else {
            return Ok(MediaState::Pending);
        };
        let state: String = row.try_get("state")?;
        Ok(match state.as_str() {
            "stored" => MediaState::Stored(
                row.try_get::<Option<Vec<u8>>, _>("bytes")?
                    .unwrap_or_default(),
            ),
            "too_large" => MediaState::TooLarge {
                size: uint(row.try_get("size")?),
            },
            "gone" => MediaState::Gone(
                row.try_get::<Option<String>, _>("error")?
                    .unwrap_or_default(),
            ),
            _ => MediaState::Pending,
        })
    }

    /// Stores the fetched file (`false`: the claim was lost or the row forgotten; the bytes
    /// are still good to send).
    pub async fn store_media(&self, key: &str, bytes: &[u8]) -> Result<bool, StoreError> {
        self.finish_media(key, "stored", Some(bytes), bytes.len() as u64, None)
            .await
    }

    /// Records that the file is over the cap: at least `size` bytes.
    pub async fn media_too_large(&self, key: &str, size: u64) -> Result<bool, StoreError> {
        self.finish_media(key, "too_large", None, size, None).await
    }

    /// Records that the source has the file no more.
    pub async fn media_gone(&self, key: &str, why: &str) -> Result<bool, StoreError> {
        self.finish_media(key, "gone", None, 0, Some(why)).await
    }

    async fn finish_media(
        &self,
        key: &str,
        state: &str,
        bytes: Option<&[u8]>,
        size: u64,
        error: Option<&str>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE media_files SET state = $2, bytes = $3, size = $4, error = $5, \
                 claimed_until = NULL, updated_at = now() \
             WHERE key = $1 AND state = 'fetching'",
        )
        .bind(key)
        .bind(state)
        .bind(bytes)
        .bind(int(size))
        .bind(error)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// A fetch failed for now: the claim lapses after `pause`, and whoever can fetch then
    /// (this worker again, another one, the session's worker) tries again.
    pub async fn media_fetch_failed(&self, key: &str, pause: Duration) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE media_files SET claimed_until = now() + $2 * interval '1 millisecond', \
                 updated_at = now() \
             WHERE key = $1 AND state = 'fetching'",
        )
        .bind(key)
        .bind(millis(pause))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Claims up to `limit` files that only these accounts' worker can fetch: requested
    /// ones, and fetches whose claim lapsed.
    pub async fn claim_requested_media(
        &self,
        accounts: &[AccountId],
        hold: Duration,
        limit: i64,
    ) -> Result<Vec<MediaRequest>, StoreError> {
        if accounts.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<uuid::Uuid> = accounts.iter().map(|a| a.as_uuid()).collect();
        let rows = sqlx::query(
            "UPDATE media_files SET state = 'fetching', \
                 claimed_until = now() + $2 * interval '1 millisecond', \
                 fetches = fetches + 1, updated_at = now() \
             WHERE key IN ( \
                 SELECT key FROM media_files \
                 WHERE fetch_account_id = ANY($1) AND (state = 'requested' \
                     OR (state = 'fetching' AND claimed_until < now())) \
                 ORDER BY created_at LIMIT $3 FOR UPDATE SKIP LOCKED) \
             RETURNING key, owner_id, source, cap",
        )
        .bind(&ids)
        .bind(millis(hold))
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        let mut requests = Vec::with_capacity(rows.len());
        for row in rows {
            let source: serde_json::Value = row.try_get("source")?;
            let Ok(source) = serde_json::from_value::<MediaSource>(source) else {
                // Written by this module, so not expected; a row nobody can fetch is gone.
                let key: String = row.try_get("key")?;
                self.media_gone(&key, "an unreadable file reference")
                    .await?;
                continue;
            };
            requests.push(MediaRequest {
                key: row.try_get("key")?,
                owner_id: row.try_get::<uuid::Uuid, _>("owner_id")?.into(),
                source,
                cap: uint(row.try_get("cap")?),
            });
        }
        Ok(requests)
    }

    /// Deletes up to `limit` files that no pending delivery of their message needs any
    /// more, and that were last written `grace` ago or earlier (an edit that follows soon
    /// finds the file still there); returns how many went.
    pub async fn forget_unneeded_media(
        &self,
        grace: Duration,
        limit: i64,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "DELETE FROM media_files WHERE key IN ( \
                 SELECT m.key FROM media_files m \
                 WHERE m.updated_at <= now() - $2 * interval '1 millisecond' AND NOT EXISTS ( \
                     SELECT 1 FROM deliveries d \
                     WHERE d.source_message_id = m.source_message_id \
                         AND d.source_chat_id = m.source_chat_id AND d.owner_id = m.owner_id \
                         AND d.state = 'pending' AND d.payload -> 'media' <> '[]'::jsonb) \
                 LIMIT $1 FOR UPDATE SKIP LOCKED)",
        )
        .bind(limit)
        .bind(millis(grace))
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected())
    }

    /// Records a file a delivery did not carry (once per delivery and file).
    pub async fn record_media_notice(&self, notice: &MediaNotice) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO media_notices (delivery_id, file_index, owner_id, pair_id, \
                 destination_id, filename, size, limit_bytes, reason) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (delivery_id, file_index) DO NOTHING",
        )
        .bind(notice.delivery_id)
        .bind(notice.file_index)
        .bind(notice.owner_id.as_uuid())
        .bind(notice.pair_id.as_uuid())
        .bind(notice.destination_id.as_uuid())
        .bind(&notice.filename)
        .bind(int(notice.size))
        .bind(int(notice.limit))
        .bind(notice.reason.as_str())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The files of a pair's deliveries that were not carried, newest first.
    pub async fn media_notices(
        &self,
        owner: UserId,
        pair: PairId,
        limit: i64,
    ) -> Result<Vec<MediaNotice>, StoreError> {
        let rows = sqlx::query(
            "SELECT delivery_id, file_index, owner_id, pair_id, destination_id, filename, size, \
                 limit_bytes, reason FROM media_notices \
             WHERE owner_id = $1 AND pair_id = $2 \
             ORDER BY created_at DESC, delivery_id DESC, file_index LIMIT $3",
        )
        .bind(owner.as_uuid())
        .bind(pair.as_uuid())
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|row| {
                Ok(MediaNotice {
                    delivery_id: row.try_get("delivery_id")?,
                    file_index: row.try_get("file_index")?,
                    owner_id: row.try_get::<uuid::Uuid, _>("owner_id")?.into(),
                    pair_id: row.try_get::<uuid::Uuid, _>("pair_id")?.into(),
                    destination_id: row.try_get::<uuid::Uuid, _>("destination_id")?.into(),
                    filename: row.try_get("filename")?,
                    size: uint(row.try_get("size")?),
                    limit: uint(row.try_get("limit_bytes")?),
                    reason: NoticeReason::parse(&row.try_get::<String, _>("reason")?),
                })
            })
            .collect()
    }
}
