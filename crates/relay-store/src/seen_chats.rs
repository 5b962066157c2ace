//! The chats an account can pick from (`seen_chats`): a Telegram user session's dialogs,
//! replaced whole by the worker that drives the session, and the chats a bot has seen in
//! its updates, upserted as they come. Read through the owner's id only.

use crate::{Database, StoreError};
use chrono::{DateTime, Utc};
use relay_core::chats::{ChatKind, SeenChat};
use relay_core::{AccountId, UserId};

/// What the database knows of an account's chats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownChats {
    /// Newest first.
    pub chats: Vec<(SeenChat, DateTime<Utc>)>,
    /// When a user session's dialogs were last listed; `None` if never.
    pub listed_at: Option<DateTime<Utc>>,
}

fn columns(chats: &[SeenChat]) -> (Vec<&str>, Vec<&str>, Vec<&str>) {
    (
        chats.iter().map(|c| c.chat_id.as_str()).collect(),
        chats.iter().map(|c| c.title.as_str()).collect(),
        chats.iter().map(|c| c.kind.as_str()).collect(),
    )
}

const UPSERT: &str = "INSERT INTO seen_chats (account_id, chat_id, title, kind) \
     SELECT $1, c.chat_id, c.title, c.kind \
     FROM UNNEST($2::text[], $3::text[], $4::text[]) AS c (chat_id, title, kind) \
     ON CONFLICT (account_id, chat_id) DO UPDATE \
     SET title = EXCLUDED.title, kind = EXCLUDED.kind, seen_at = now()";

impl Database {
    /// Records chats an account has seen (one statement for them all); an account that
    /// is gone is skipped.
    pub async fn record_seen_chats(
        &self,
        account: AccountId,
        chats: &[SeenChat],
    ) -> Result<(), StoreError> {
        if chats.is_empty() {
            return Ok(());
        }
        let (ids, titles, kinds) = columns(chats);
        let done = sqlx::query(UPSERT)
            .bind(account.as_uuid())
            .bind(&ids)
            .bind(&titles)
            .bind(&kinds)
            .execute(self.pool())
            .await;
        match done {
            Ok(_) => Ok(()),
            // The account was deleted meanwhile: nothing to record.
            Err(sqlx::Error::Database(e)) if e.is_foreign_key_violation() => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Replaces a user session's chats with its dialogs as just listed, and notes when.
    pub async fn replace_dialogs(
        &self,
        account: AccountId,
        chats: &[SeenChat],
    ) -> Result<(), StoreError> {
        let (ids, titles, kinds) = columns(chats);
        let mut tx = self.pool().begin().await?;
        let listed =
            sqlx::query("UPDATE platform_accounts SET chats_listed_at = now() WHERE id = $1")
                .bind(account.as_uuid())
                .execute(&mut *tx)
                .await?;
        if listed.rows_affected() == 0 {
            return Ok(());
        }
        sqlx::query("DELETE FROM seen_chats WHERE account_id = $1 AND chat_id <> ALL($2)")
            .bind(account.as_uuid())
            .bind(&ids)
            .execute(&mut *tx)
            .await?;
        if !chats.is_empty() {
            sqlx::query(UPSERT)
                .bind(account.as_uuid())
                .bind(&ids)
                .bind(&titles)
                .bind(&kinds)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// One of `owner`'s accounts' known chats; another tenant's account is `NotFound`.
    pub async fn known_chats(
        &self,
        owner: UserId,
        account: AccountId,
    ) -> Result<KnownChats, StoreError> {
        let listed_at: Option<Option<DateTime<Utc>>> = sqlx::query_scalar(
            "SELECT chats_listed_at FROM platform_accounts WHERE id = $1 AND owner_id = $2",
        )
        .bind(account.as_uuid())
        .bind(owner.as_uuid())
        .fetch_optional(self.pool())
        .await?;
        let listed_at = listed_at.ok_or(StoreError::NotFound)?;
        let rows: Vec<(String, String, String, DateTime<Utc>)> = sqlx::query_as(
            "SELECT chat_id, title, kind, seen_at FROM seen_chats WHERE account_id = $1 \
             ORDER BY seen_at DESC, chat_id",
        )
        .bind(account.as_uuid())
        .fetch_all(self.pool())
        .await?;
        let mut chats = Vec::with_capacity(rows.len());
        for (chat_id, title, kind, seen_at) in rows {
            let kind: ChatKind = kind.parse().map_err(StoreError::corrupt)?;
            chats.push((
                SeenChat {
                    chat_id,
                    title,
                    kind,
                },
                seen_at,
            ));
        }
        Ok(KnownChats { chats, listed_at })
    }
}
