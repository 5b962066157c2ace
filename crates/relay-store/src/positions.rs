//! Source positions, committed together with the outbox rows of the events before them:
//! a listener's position (a Discord channel's last message id, an MTProto session's pts,
//! qts and channel pts) never gets ahead of what the outbox holds, so a crash, a takeover or
//! a restart resumes from a point where nothing before it is missing.

use crate::outbox::{NewDelivery, QueuedDelivery, insert_deliveries_on};
use crate::{Database, StoreError};
use chrono::{DateTime, Utc};
use relay_core::AccountId;
use relay_core::source::Position;
use sqlx::PgConnection;

/// Where to start reading a Discord channel: its committed cursor, if any, and when the
/// oldest pair that reads it was created (the start for a channel read for the first time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelStart {
    pub chat_id: String,
    pub cursor: Option<u64>,
    pub watched_since: DateTime<Utc>,
}

impl Database {
    /// The outbox rows of a batch of source events and the positions reached after them,
    /// in one transaction. Positions of accounts (or sessions) that are gone are skipped.
    pub async fn record_source_events(
        &self,
        rows: &[NewDelivery],
        positions: &[(AccountId, Position)],
    ) -> Result<Vec<QueuedDelivery>, StoreError> {
        let mut tx = self.pool().begin().await?;
        let queued = insert_deliveries_on(&mut tx, rows).await?;
        let mut cursors = DiscordCursors::default();
        for (account, position) in positions {
            match *position {
                Position::DiscordChannel {
                    channel_id,
                    message_id,
                } => cursors.push(*account, channel_id, message_id),
                other => write_position(&mut tx, *account, other).await?,
            }
        }
        cursors.write(&mut tx).await?;
        tx.commit().await?;
        Ok(queued)
    }

    /// The channels pairs read from this Discord account, with where each one starts.
    pub async fn discord_channel_starts(
        &self,
        account: AccountId,
    ) -> Result<Vec<ChannelStart>, StoreError> {
        let rows: Vec<(String, Option<i64>, DateTime<Utc>)> = sqlx::query_as(
            "SELECT p.source_chat_id, c.message_id, min(p.created_at) FROM forwarding_pairs p \
             JOIN users u ON u.id = p.owner_id AND u.status = 'active' \
             LEFT JOIN discord_channel_cursors c ON c.account_id = p.source_account_id \
               AND p.source_chat_id ~ '^[0-9]{1,19}$' AND c.channel_id = p.source_chat_id::bigint \
             WHERE p.source_account_id = $1 AND p.enabled AND (p.paused_at IS NULL OR p.pause_mode = 'hold') \
             GROUP BY p.source_chat_id, c.message_id ORDER BY 1",
        )
        .bind(account.as_uuid())
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(chat_id, cursor, watched_since)| ChannelStart {
                chat_id,
                cursor: cursor.and_then(|c| u64::try_from(c).ok()),
                watched_since,
            })
            .collect())
    }

    /// A Telegram channel's pts, recorded only if the session has none for it yet (a
    /// channel read for the first time starts from where it stands now).
    pub async fn init_telegram_channel_pts(
        &self,
        account: AccountId,
        channel_id: i64,
        pts: i32,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO telegram_channel_states (account_id, channel_id, pts) \
             SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM telegram_sessions WHERE account_id = $1) \
             ON CONFLICT (account_id, channel_id) DO NOTHING",
        )
        .bind(account.as_uuid())
        .bind(channel_id)
        .bind(pts)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The session's common state, recorded only if it has none yet.
    pub async fn init_telegram_cursor(
        &self,
        account: AccountId,
        cursor: crate::SessionCursor,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE telegram_sessions SET pts = $2, qts = $3, date = $4, seq = $5, updated_at = now() \
             WHERE account_id = $1 AND pts IS NULL",
        )
        .bind(account.as_uuid())
        .bind(cursor.pts)
        .bind(cursor.qts)
        .bind(cursor.date)
        .bind(cursor.seq)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }
}

/// Discord channel cursors of one transaction, written in one statement (a bot sees
/// many channels; one round trip each would hold the router up), in key order.
#[derive(Default)]
struct DiscordCursors(std::collections::BTreeMap<(uuid::Uuid, i64), i64>);

impl DiscordCursors {
    /// The furthest position per (account, channel) is kept.
    fn push(&mut self, account: AccountId, channel_id: u64, message_id: u64) {
        let (Ok(channel), Ok(message)) = (i64::try_from(channel_id), i64::try_from(message_id))
        else {
            tracing::warn!(
                channel_id,
                message_id,
                "a Discord id beyond bigint; not recorded"
            );
            return;
        };
        let furthest = self
            .0
            .entry((account.as_uuid(), channel))
            .or_insert(message);
        *furthest = (*furthest).max(message);
    }

    async fn write(self, conn: &mut PgConnection) -> Result<(), StoreError> {
        if self.0.is_empty() {
            return Ok(());
        }
        let (mut accounts, mut channels, mut messages) = (Vec::new(), Vec::new(), Vec::new());
        for ((account, channel), message) in self.0 {
            accounts.push(account);
            channels.push(channel);
            messages.push(message);
        }
        sqlx::query(
            "INSERT INTO discord_channel_cursors (account_id, channel_id, message_id) \
             SELECT c.a, c.ch, c.m FROM unnest($1::uuid[], $2::bigint[], $3::bigint[]) AS c(a, ch, m) \
             WHERE EXISTS (SELECT 1 FROM platform_accounts WHERE id = c.a) \
             ON CONFLICT (account_id, channel_id) DO UPDATE \
             SET message_id = GREATEST(discord_channel_cursors.message_id, EXCLUDED.message_id), \
                 updated_at = now()",
        )
        .bind(&accounts)
        .bind(&channels)
        .bind(&messages)
        .execute(conn)
        .await?;
        Ok(())
    }
}

async fn write_position(
    conn: &mut PgConnection,
    account: AccountId,
    position: Position,
) -> Result<(), StoreError> {
    let id = account;
    let account = account.as_uuid();
    match position {
        Position::DiscordChannel {
            channel_id,
            message_id,
        } => {
            let mut cursors = DiscordCursors::default();
            cursors.push(id, channel_id, message_id);
            cursors.write(conn).await?;
        }
        Position::TelegramCommon { pts, date, seq } => {
            sqlx::query(
                "UPDATE telegram_sessions SET pts = $2, date = $3, seq = $4, \
                 qts = COALESCE(qts, 0), updated_at = now() WHERE account_id = $1",
            )
            .bind(account)
            .bind(pts)
            .bind(date)
            .bind(seq)
            .execute(&mut *conn)
            .await?;
        }
        Position::TelegramSecondary { qts } => {
            sqlx::query(
                "UPDATE telegram_sessions SET qts = $2, updated_at = now() WHERE account_id = $1",
            )
            .bind(account)
            .bind(qts)
            .execute(&mut *conn)
            .await?;
        }
        Position::TelegramChannel { channel_id, pts } => {
            sqlx::query(
                "INSERT INTO telegram_channel_states (account_id, channel_id, pts) \
                 SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM telegram_sessions WHERE account_id = $1) \
                 ON CONFLICT (account_id, channel_id) DO UPDATE SET pts = EXCLUDED.pts",
            )
            .bind(account)
            .bind(channel_id)
            .bind(pts)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(())
}
