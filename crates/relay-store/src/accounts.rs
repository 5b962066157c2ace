//! Platform accounts (Telegram user sessions and bots, Discord bots and webhooks), always
//! read and changed through their owner's id: another tenant's account is simply not found.
//! Secrets are sealed with the key ring, bound to the account's id.

use crate::crypto::{Keyring, Sealed};
use crate::{Database, StoreError};
use chrono::{DateTime, Utc};
use relay_core::{AccountId, AccountKind, AccountState, UserId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: AccountId,
    pub owner_id: UserId,
    pub kind: AccountKind,
    pub display_name: String,
    pub external_id: String,
    pub state: AccountState,
    pub state_until: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// What a new account is made of; the secret is sealed on the way in.
pub struct NewAccount<'a> {
    pub owner_id: UserId,
    pub kind: AccountKind,
    pub display_name: &'a str,
    pub external_id: &'a str,
    pub secret: Option<&'a [u8]>,
    pub state: AccountState,
}

impl std::fmt::Debug for NewAccount<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewAccount")
            .field("owner_id", &self.owner_id)
            .field("kind", &self.kind)
            .field("external_id", &self.external_id)
            .field("secret", &self.secret.map(|_| "[redacted]"))
            .finish_non_exhaustive()
    }
}

#[derive(sqlx::FromRow)]
struct AccountRow {
    id: uuid::Uuid,
    owner_id: uuid::Uuid,
    kind: String,
    display_name: String,
    external_id: String,
    state: String,
    state_until: Option<DateTime<Utc>>,
    last_error: Option<String>,
    created_at: DateTime<Utc>,
}

impl TryFrom<AccountRow> for Account {
    type Error = StoreError;
    fn try_from(r: AccountRow) -> Result<Self, StoreError> {
        Ok(Account {
            id: r.id.into(),
            owner_id: r.owner_id.into(),
            kind: r.kind.parse().map_err(StoreError::corrupt)?,
            display_name: r.display_name,
            external_id: r.external_id,
            state: r.state.parse().map_err(StoreError::corrupt)?,
            state_until: r.state_until,
            last_error: r.last_error,
            created_at: r.created_at,
        })
    }
}

const COLUMNS: &str =
    "id, owner_id, kind, display_name, external_id, state, state_until, last_error, created_at";

/// The authenticated context a secret is sealed with: it only opens for this account.
fn secret_context(id: AccountId) -> Vec<u8> {
    format!("platform_accounts.secret:{id}").into_bytes()
}

impl Database {
    /// Stores a new account; the same platform account twice for one owner is
    /// `StoreError::Duplicate("account")`.
    pub async fn create_account(
        &self,
        keyring: &Keyring,
        new: &NewAccount<'_>,
    ) -> Result<Account, StoreError> {
        let mut conn = self.pool().acquire().await?;
        insert_account(&mut conn, keyring, new).await
    }

    pub async fn accounts(&self, owner: UserId) -> Result<Vec<Account>, StoreError> {
        let rows: Vec<AccountRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM platform_accounts WHERE owner_id = $1 ORDER BY created_at, id"
        )))
        .bind(owner.as_uuid())
        .fetch_all(self.pool())
        .await?;
        rows.into_iter().map(Account::try_from).collect()
    }

    /// One of the owner's accounts; another owner's is `NotFound`.
    pub async fn account(&self, owner: UserId, id: AccountId) -> Result<Account, StoreError> {
        let row: Option<AccountRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM platform_accounts WHERE id = $1 AND owner_id = $2"
        )))
        .bind(id.as_uuid())
        .bind(owner.as_uuid())
        .fetch_optional(self.pool())
        .await?;
        row.map(Account::try_from)
            .transpose()?
            .ok_or(StoreError::NotFound)
    }

    /// The account's secret, opened.
    pub async fn account_secret(
        &self,
        keyring: &Keyring,
        owner: UserId,
        id: AccountId,
    ) -> Result<Vec<u8>, StoreError> {
        let row: Option<(Option<Vec<u8>>, Option<String>)> = sqlx::query_as(
            "SELECT secret_ciphertext, secret_key_id FROM platform_accounts WHERE id = $1 AND owner_id = $2",
        )
        .bind(id.as_uuid())
        .bind(owner.as_uuid())
        .fetch_optional(self.pool())
        .await?;
        let Some((Some(bytes), Some(key_id))) = row else {
            return Err(StoreError::NotFound);
        };
        keyring
            .open(&Sealed { key_id, bytes }, &secret_context(id))
            .map_err(StoreError::corrupt)
    }

    pub async fn delete_account(&self, owner: UserId, id: AccountId) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        // A pair (reading another account) whose every destination goes with this account
        // is paused with the reason, not left running with no destinations.
        sqlx::query(
            "UPDATE forwarding_pairs p SET paused_at = COALESCE(p.paused_at, now()), \
                 paused_reason = 'its last destination''s account was deleted', updated_at = now() \
             WHERE p.owner_id = $2 AND p.source_account_id <> $1 \
               AND EXISTS (SELECT 1 FROM pair_destinations d WHERE d.pair_id = p.id AND d.account_id = $1) \
               AND NOT EXISTS (SELECT 1 FROM pair_destinations d WHERE d.pair_id = p.id AND d.account_id <> $1)",
        )
        .bind(id.as_uuid())
        .bind(owner.as_uuid())
        .execute(&mut *tx)
        .await?;
        let done = sqlx::query("DELETE FROM platform_accounts WHERE id = $1 AND owner_id = $2")
            .bind(id.as_uuid())
            .bind(owner.as_uuid())
            .execute(&mut *tx)
            .await?;
        StoreError::found(done)?;
        tx.commit().await?;
        Ok(())
    }

    /// Every account a worker may drive: all tenants', except those whose owner must act
    /// first (unauthorized, revoked, disabled).
    pub async fn active_accounts(&self) -> Result<Vec<Account>, StoreError> {
        let rows: Vec<AccountRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM platform_accounts \
             WHERE state NOT IN ('unauthorized', 'revoked', 'disabled') ORDER BY id"
        )))
        .fetch_all(self.pool())
        .await?;
        rows.into_iter().map(Account::try_from).collect()
    }

    /// Records what a health check or a send found out about an account.
    pub async fn set_account_state(
        &self,
        id: AccountId,
        state: AccountState,
        until: Option<DateTime<Utc>>,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE platform_accounts SET state = $2, state_until = $3, last_checked_at = now(), updated_at = now(), \
             last_error = COALESCE($4, last_error), last_error_at = CASE WHEN $4 IS NULL THEN last_error_at ELSE now() END \
             WHERE id = $1",
        )
        .bind(id.as_uuid())
        .bind(state.as_str())
        .bind(until)
        .bind(error)
        .execute(self.pool())
        .await?;
        Ok(())
    }
}

/// Inserts an account on a connection (or inside a transaction).
pub(crate) async fn insert_account(
    conn: &mut sqlx::PgConnection,
    keyring: &Keyring,
    new: &NewAccount<'_>,
) -> Result<Account, StoreError> {
    let id = AccountId::new();
    let sealed = new.secret.map(|s| keyring.seal(s, &secret_context(id)));
    let row: AccountRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO platform_accounts (id, owner_id, kind, display_name, external_id, secret_ciphertext, secret_key_id, state) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {COLUMNS}"
    )))
    .bind(id.as_uuid())
    .bind(new.owner_id.as_uuid())
    .bind(new.kind.as_str())
    .bind(new.display_name)
    .bind(new.external_id)
    .bind(sealed.as_ref().map(|s| s.bytes.clone()))
    .bind(sealed.as_ref().map(|s| s.key_id.clone()))
    .bind(new.state.as_str())
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| StoreError::on_unique(e, "platform_accounts_owner_external_key", "account"))?;
    row.try_into()
}

/// The owner's account of this kind and platform id, if there is one.
pub(crate) async fn find_account(
    conn: &mut sqlx::PgConnection,
    owner: UserId,
    kind: AccountKind,
    external_id: &str,
) -> Result<Option<Account>, StoreError> {
    let row: Option<AccountRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM platform_accounts WHERE owner_id = $1 AND kind = $2 AND external_id = $3"
    )))
    .bind(owner.as_uuid())
    .bind(kind.as_str())
    .bind(external_id)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(Account::try_from).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::test_database;
    use relay_core::Role;
    use relay_core::credentials::Email;

    async fn user(db: &Database, email: &str) -> UserId {
        db.create_user(&Email::parse(email).expect("email"), "h", Role::User)
            .await
            .expect("user")
            .id
    }

    fn bot<'a>(owner: UserId, external: &'a str, secret: &'a [u8]) -> NewAccount<'a> {
        NewAccount {
            owner_id: owner,
            kind: AccountKind::DiscordBot,
            display_name: "bot",
            external_id: external,
            secret: Some(secret),
            state: AccountState::Connected,
        }
    }

    #[tokio::test]
    async fn secrets_are_sealed_bound_to_the_account_and_owner_scoped() {
        let db = test_database().await.expect("db");
        let ring = Keyring::development();
        let alice = user(&db, "alice@example.com").await;
        let bob = user(&db, "bob@example.com").await;
        let account = db
            .create_account(&ring, &bot(alice, "1", b"token-abc"))
            .await
            .expect("create");

        let raw: Vec<u8> =
            sqlx::query_scalar("SELECT secret_ciphertext FROM platform_accounts WHERE id = $1")
                .bind(account.id.as_uuid())
                .fetch_one(db.pool())
                .await
                .expect("row");
        assert!(
            !raw.windows(9).any(|w| w == b"token-abc"),
            "no token in clear"
        );
        assert_eq!(
            db.account_secret(&ring, alice, account.id)
                .await
                .expect("open"),
            b"token-abc"
        );
        assert!(matches!(
            db.account_secret(&ring, bob, account.id).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            db.account(bob, account.id).await,
            Err(StoreError::NotFound)
        ));
        assert!(db.accounts(bob).await.expect("list").is_empty());
        assert!(matches!(
            db.delete_account(bob, account.id).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            db.create_account(&ring, &bot(alice, "1", b"t")).await,
            Err(StoreError::Duplicate("account"))
        ));
        db.create_account(&ring, &bot(bob, "1", b"t"))
            .await
            .expect("the same bot for another owner");
        db.delete_account(alice, account.id).await.expect("delete");
        assert!(db.accounts(alice).await.expect("list").is_empty());
    }
}
