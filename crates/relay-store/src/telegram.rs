//! Telegram user sessions and logins in progress.
//!
//! A session is what grammers keeps between runs: the DC options with their auth keys (sealed
//! with the key ring, never in clear), the update state getDifference resumes from, and the
//! peers with their access hashes. A login in progress keeps its state (the device key and
//! the phone code hash) sealed in `telegram_logins`, so any API node can serve the next step.

use crate::accounts::{find_account, insert_account};
use crate::crypto::{Keyring, Sealed};
use crate::{Account, Database, NewAccount, StoreError};
use chrono::{DateTime, Utc};
use relay_core::telegram_session::{SessionCursor, StoredPeer, StoredSession};
use relay_core::{AccountId, AccountKind, AccountState, LoginId, UserId};
use sqlx::{PgConnection, Postgres, Transaction};

fn session_context(account: AccountId) -> Vec<u8> {
    format!("telegram_sessions.data:{account}").into_bytes()
}

fn login_context(login: LoginId) -> Vec<u8> {
    format!("telegram_logins.state:{login}").into_bytes()
}

impl Database {
    /// The account's session; `NotFound` when it has none.
    pub async fn telegram_session(
        &self,
        keyring: &Keyring,
        account: AccountId,
    ) -> Result<StoredSession, StoreError> {
        type Row = (
            i32,
            Vec<u8>,
            String,
            Option<i32>,
            Option<i32>,
            Option<i32>,
            Option<i32>,
        );
        let row: Option<Row> = sqlx::query_as(
            "SELECT home_dc, data_ciphertext, data_key_id, pts, qts, date, seq \
             FROM telegram_sessions WHERE account_id = $1",
        )
        .bind(account.as_uuid())
        .fetch_optional(self.pool())
        .await?;
        let (home_dc, bytes, key_id, pts, qts, date, seq) = row.ok_or(StoreError::NotFound)?;
        let data = keyring
            .open(&Sealed { key_id, bytes }, &session_context(account))
            .map_err(StoreError::corrupt)?;
        let cursor = pts.map(|pts| SessionCursor {
            pts,
            qts: qts.unwrap_or(0),
            date: date.unwrap_or(0),
            seq: seq.unwrap_or(0),
        });
        let channels: Vec<(i64, i32)> = sqlx::query_as(
            "SELECT channel_id, pts FROM telegram_channel_states WHERE account_id = $1 ORDER BY channel_id",
        )
        .bind(account.as_uuid())
        .fetch_all(self.pool())
        .await?;
        let peers: Vec<(i64, String, Option<i64>, bool)> = sqlx::query_as(
            "SELECT peer_id, peer_kind, access_hash, is_self FROM telegram_peers WHERE account_id = $1",
        )
        .bind(account.as_uuid())
        .fetch_all(self.pool())
        .await?;
        Ok(StoredSession {
            home_dc,
            data,
            cursor,
            channels,
            peers: peers
                .into_iter()
                .map(|(dialog_id, kind, access_hash, is_self)| StoredPeer {
                    dialog_id,
                    kind,
                    access_hash,
                    is_self,
                })
                .collect(),
        })
    }

    /// Replaces the sealed DC options and auth keys (and the home DC).
    pub async fn save_telegram_session_data(
        &self,
        keyring: &Keyring,
        account: AccountId,
        home_dc: i32,
        data: &[u8],
    ) -> Result<(), StoreError> {
        let sealed = keyring.seal(data, &session_context(account));
        let done = sqlx::query(
            "UPDATE telegram_sessions SET home_dc = $2, data_ciphertext = $3, data_key_id = $4, updated_at = now() \
             WHERE account_id = $1",
        )
        .bind(account.as_uuid())
        .bind(home_dc)
        .bind(&sealed.bytes)
        .bind(&sealed.key_id)
        .execute(self.pool())
        .await?;
        StoreError::found(done)
    }

    /// Records the common update state; with `channels`, replaces every channel's too.
    pub async fn save_telegram_cursor(
        &self,
        account: AccountId,
        cursor: SessionCursor,
        channels: Option<&[(i64, i32)]>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        write_cursor(&mut tx, account, cursor).await?;
        if let Some(channels) = channels {
            write_channels(&mut tx, account, channels).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn save_telegram_channel_pts(
        &self,
        account: AccountId,
        channel_id: i64,
        pts: i32,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO telegram_channel_states (account_id, channel_id, pts) VALUES ($1, $2, $3) \
             ON CONFLICT (account_id, channel_id) DO UPDATE SET pts = EXCLUDED.pts",
        )
        .bind(account.as_uuid())
        .bind(channel_id)
        .bind(pts)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn save_telegram_peers(
        &self,
        account: AccountId,
        peers: &[StoredPeer],
    ) -> Result<(), StoreError> {
        let mut conn = self.pool().acquire().await?;
        write_peers(&mut conn, account, peers).await
    }

    /// Starts a login; its state is sealed and bound to the login's id.
    pub async fn start_telegram_login(
        &self,
        keyring: &Keyring,
        owner: UserId,
        phone: &str,
        state: &[u8],
        expires_at: DateTime<Utc>,
    ) -> Result<LoginId, StoreError> {
        let id = LoginId::new();
        let sealed = keyring.seal(state, &login_context(id));
        sqlx::query(
            "INSERT INTO telegram_logins (id, owner_id, phone, step, state_ciphertext, state_key_id, expires_at) \
             VALUES ($1, $2, $3, 'code', $4, $5, $6)",
        )
        .bind(id.as_uuid())
        .bind(owner.as_uuid())
        .bind(phone)
        .bind(&sealed.bytes)
        .bind(&sealed.key_id)
        .bind(expires_at)
        .execute(self.pool())
        .await?;
        Ok(id)
    }

    /// Takes the owner's login for one step: the row stays locked (a second request for the
    /// same login waits) until the guard saves, fails, completes or is dropped (rollback).
    pub async fn lock_telegram_login(
        &self,
        keyring: &Keyring,
        owner: UserId,
        id: LoginId,
    ) -> Result<LoginGuard, StoreError> {
        let mut tx = self.pool().begin().await?;
        type Row = (String, String, Vec<u8>, String, i32, DateTime<Utc>);
        let row: Option<Row> = sqlx::query_as(
            "SELECT phone, step, state_ciphertext, state_key_id, attempts, expires_at \
             FROM telegram_logins WHERE id = $1 AND owner_id = $2 FOR UPDATE",
        )
        .bind(id.as_uuid())
        .bind(owner.as_uuid())
        .fetch_optional(&mut *tx)
        .await?;
        let (phone, step, bytes, key_id, attempts, expires_at) = row.ok_or(StoreError::NotFound)?;
        let step = LoginStep::parse(&step).ok_or_else(|| StoreError::corrupt(&step))?;
        let state = if bytes.is_empty() {
            Vec::new()
        } else {
            keyring
                .open(&Sealed { key_id, bytes }, &login_context(id))
                .map_err(StoreError::corrupt)?
        };
        Ok(LoginGuard {
            tx,
            login: TelegramLogin {
                id,
                owner_id: owner,
                phone,
                step,
                attempts,
                expires_at,
                state,
            },
        })
    }
}

/// Where a login stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginStep {
    Code,
    Password,
    Done,
    Failed,
}

impl LoginStep {
    fn as_str(self) -> &'static str {
        match self {
            LoginStep::Code => "code",
            LoginStep::Password => "password",
            LoginStep::Done => "done",
            LoginStep::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "code" => LoginStep::Code,
            "password" => LoginStep::Password,
            "done" => LoginStep::Done,
            "failed" => LoginStep::Failed,
            _ => return None,
        })
    }
}

pub struct TelegramLogin {
    pub id: LoginId,
    pub owner_id: UserId,
    pub phone: String,
    pub step: LoginStep,
    pub attempts: i32,
    pub expires_at: DateTime<Utc>,
    /// The opened login state (empty once the login is over).
    pub state: Vec<u8>,
}

impl TelegramLogin {
    pub fn is_expired(&self) -> bool {
        self.expires_at <= Utc::now()
    }
}

/// A locked login; see [`Database::lock_telegram_login`].
pub struct LoginGuard {
    tx: Transaction<'static, Postgres>,
    pub login: TelegramLogin,
}

impl LoginGuard {
    /// Moves the login to `step` with a new state and attempt count.
    pub async fn save(
        mut self,
        keyring: &Keyring,
        step: LoginStep,
        state: &[u8],
        attempts: i32,
    ) -> Result<(), StoreError> {
        let sealed = keyring.seal(state, &login_context(self.login.id));
        sqlx::query(
            "UPDATE telegram_logins SET step = $2, state_ciphertext = $3, state_key_id = $4, attempts = $5, \
             updated_at = now() WHERE id = $1",
        )
        .bind(self.login.id.as_uuid())
        .bind(step.as_str())
        .bind(&sealed.bytes)
        .bind(&sealed.key_id)
        .bind(attempts)
        .execute(&mut *self.tx)
        .await?;
        self.tx.commit().await?;
        Ok(())
    }

    /// Ends the login for good and forgets its state (the device key with it).
    pub async fn fail(mut self) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE telegram_logins SET step = 'failed', state_ciphertext = '', updated_at = now() WHERE id = $1",
        )
        .bind(self.login.id.as_uuid())
        .execute(&mut *self.tx)
        .await?;
        self.tx.commit().await?;
        Ok(())
    }

    /// Signs the login off: stores the session under the owner's account for this Telegram
    /// user (a new account, or the existing one whose session is replaced — signing in again
    /// after a revoked session), and forgets the login's state. `true` if the account is new.
    pub async fn complete(
        mut self,
        keyring: &Keyring,
        display_name: &str,
        telegram_user_id: &str,
        session: &StoredSession,
    ) -> Result<(Account, bool), StoreError> {
        let owner = self.login.owner_id;
        let existing = find_account(
            &mut self.tx,
            owner,
            AccountKind::TelegramUser,
            telegram_user_id,
        )
        .await?;
        let (account, created) = match existing {
            Some(account) => {
                sqlx::query(
                    "UPDATE platform_accounts SET state = 'pending', state_until = NULL, display_name = $2, \
                     updated_at = now() WHERE id = $1",
                )
                .bind(account.id.as_uuid())
                .bind(display_name)
                .execute(&mut *self.tx)
                .await?;
                sqlx::query("DELETE FROM telegram_sessions WHERE account_id = $1")
                    .bind(account.id.as_uuid())
                    .execute(&mut *self.tx)
                    .await?;
                let account = Account {
                    state: AccountState::Pending,
                    state_until: None,
                    display_name: display_name.to_owned(),
                    ..account
                };
                (account, false)
            }
            None => {
                let new = NewAccount {
                    owner_id: owner,
                    kind: AccountKind::TelegramUser,
                    display_name,
                    external_id: telegram_user_id,
                    secret: None,
                    state: AccountState::Pending,
                };
                (insert_account(&mut self.tx, keyring, &new).await?, true)
            }
        };
        insert_session(&mut self.tx, keyring, account.id, session).await?;
        sqlx::query(
            "UPDATE telegram_logins SET step = 'done', state_ciphertext = '', account_id = $2, updated_at = now() \
             WHERE id = $1",
        )
        .bind(self.login.id.as_uuid())
        .bind(account.id.as_uuid())
        .execute(&mut *self.tx)
        .await?;
        self.tx.commit().await?;
        Ok((account, created))
    }
}

async fn insert_session(
    conn: &mut PgConnection,
    keyring: &Keyring,
    account: AccountId,
    session: &StoredSession,
) -> Result<(), StoreError> {
    let sealed = keyring.seal(&session.data, &session_context(account));
    sqlx::query(
        "INSERT INTO telegram_sessions (account_id, home_dc, data_ciphertext, data_key_id) VALUES ($1, $2, $3, $4)",
    )
    .bind(account.as_uuid())
    .bind(session.home_dc)
    .bind(&sealed.bytes)
    .bind(&sealed.key_id)
    .execute(&mut *conn)
    .await?;
    if let Some(cursor) = session.cursor {
        write_cursor(conn, account, cursor).await?;
    }
    write_channels(conn, account, &session.channels).await?;
    write_peers(conn, account, &session.peers).await
}

async fn write_cursor(
    conn: &mut PgConnection,
    account: AccountId,
    cursor: SessionCursor,
) -> Result<(), StoreError> {
    let done = sqlx::query(
        "UPDATE telegram_sessions SET pts = $2, qts = $3, date = $4, seq = $5, updated_at = now() WHERE account_id = $1",
    )
    .bind(account.as_uuid())
    .bind(cursor.pts)
    .bind(cursor.qts)
    .bind(cursor.date)
    .bind(cursor.seq)
    .execute(&mut *conn)
    .await?;
    StoreError::found(done)
}

async fn write_channels(
    conn: &mut PgConnection,
    account: AccountId,
    channels: &[(i64, i32)],
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM telegram_channel_states WHERE account_id = $1")
        .bind(account.as_uuid())
        .execute(&mut *conn)
        .await?;
    let (ids, pts): (Vec<i64>, Vec<i32>) = channels.iter().copied().unzip();
    sqlx::query(
        "INSERT INTO telegram_channel_states (account_id, channel_id, pts) \
         SELECT $1, * FROM UNNEST($2::bigint[], $3::integer[])",
    )
    .bind(account.as_uuid())
    .bind(ids)
    .bind(pts)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn write_peers(
    conn: &mut PgConnection,
    account: AccountId,
    peers: &[StoredPeer],
) -> Result<(), StoreError> {
    if peers.is_empty() {
        return Ok(());
    }
    // One row per peer: a statement may not update the same row twice.
    let mut unique: std::collections::BTreeMap<i64, &StoredPeer> = Default::default();
    for peer in peers {
        unique.insert(peer.dialog_id, peer);
    }
    let peers: Vec<&StoredPeer> = unique.into_values().collect();
    let ids: Vec<i64> = peers.iter().map(|p| p.dialog_id).collect();
    let kinds: Vec<&str> = peers.iter().map(|p| p.kind.as_str()).collect();
    let hashes: Vec<Option<i64>> = peers.iter().map(|p| p.access_hash).collect();
    let selves: Vec<bool> = peers.iter().map(|p| p.is_self).collect();
    sqlx::query(
        "INSERT INTO telegram_peers (account_id, peer_id, peer_kind, access_hash, is_self) \
         SELECT $1, * FROM UNNEST($2::bigint[], $3::text[], $4::bigint[], $5::boolean[]) \
         ON CONFLICT (account_id, peer_id) DO UPDATE SET peer_kind = EXCLUDED.peer_kind, \
         access_hash = COALESCE(EXCLUDED.access_hash, telegram_peers.access_hash), \
         is_self = telegram_peers.is_self OR EXCLUDED.is_self, updated_at = now()",
    )
    .bind(account.as_uuid())
    .bind(ids)
    .bind(kinds)
    .bind(hashes)
    .bind(selves)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
