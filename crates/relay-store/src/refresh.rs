//! Refresh-token families. A login starts a family; each refresh marks the presented
//! token used and issues the next one in the same family. Presenting a token that was
//! already used means it leaked: the whole family is revoked, the newest token included.
//! Only SHA-256 hashes of tokens are stored.

use crate::{Database, StoreError};
use chrono::{DateTime, Utc};
use relay_core::{RefreshFamilyId, UserId};

/// Why a family stopped working.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevokeReason {
    Logout,
    ReuseDetected,
    PasswordChanged,
    Admin,
}

impl RevokeReason {
    fn as_str(self) -> &'static str {
        match self {
            RevokeReason::Logout => "logout",
            RevokeReason::ReuseDetected => "reuse_detected",
            RevokeReason::PasswordChanged => "password_changed",
            RevokeReason::Admin => "admin",
        }
    }
}

/// What presenting a refresh token led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// The token was current: it is now used, and `new_hash` is the family's current token.
    Rotated {
        user_id: UserId,
        family_id: RefreshFamilyId,
    },
    /// The token had been used before: the family is now revoked.
    ReuseDetected {
        user_id: UserId,
        family_id: RefreshFamilyId,
    },
    /// Unknown token, or its family is revoked or expired.
    Invalid,
}

#[derive(sqlx::FromRow)]
struct TokenRow {
    token_id: uuid::Uuid,
    used_at: Option<DateTime<Utc>>,
    family_id: uuid::Uuid,
    user_id: uuid::Uuid,
    revoked: bool,
    expired: bool,
}

impl Database {
    /// Starts a family with its first token — only while the user's password hash is still
    /// `verified_hash` (the one the login checked). `None` when it changed meanwhile.
    pub async fn start_refresh_family(
        &self,
        user_id: UserId,
        token_hash: &[u8; 32],
        expires_at: DateTime<Utc>,
        verified_hash: &str,
    ) -> Result<Option<RefreshFamilyId>, StoreError> {
        let mut tx = self.pool().begin().await?;
        // FOR SHARE holds off a concurrent password change until this family exists, so
        // the change's revocation sees it.
        let family: Option<uuid::Uuid> = sqlx::query_scalar(
            "WITH current AS (SELECT id FROM users WHERE id = $1 AND password_hash = $3 FOR SHARE) \
             INSERT INTO refresh_token_families (user_id, expires_at) SELECT id, $2 FROM current RETURNING id",
        )
        .bind(user_id.as_uuid())
        .bind(expires_at)
        .bind(verified_hash)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(family) = family else {
            return Ok(None);
        };
        sqlx::query("INSERT INTO refresh_tokens (family_id, token_hash) VALUES ($1, $2)")
            .bind(family)
            .bind(&token_hash[..])
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(family.into()))
    }

    /// Presents `token_hash`; when it is current, `new_hash` becomes the next token.
    pub async fn rotate_refresh_token(
        &self,
        token_hash: &[u8; 32],
        new_hash: &[u8; 32],
    ) -> Result<Rotation, StoreError> {
        let mut tx = self.pool().begin().await?;
        // The row lock makes two concurrent refreshes with one token see each other:
        // the second finds it used and revokes the family.
        let row: Option<TokenRow> = sqlx::query_as(
            "SELECT t.id AS token_id, t.used_at, f.id AS family_id, f.user_id, \
                    f.revoked_at IS NOT NULL AS revoked, f.expires_at <= now() AS expired \
             FROM refresh_tokens t JOIN refresh_token_families f ON f.id = t.family_id \
             WHERE t.token_hash = $1 FOR UPDATE OF t, f",
        )
        .bind(&token_hash[..])
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(Rotation::Invalid);
        };
        let (user_id, family_id) = (
            UserId::from(row.user_id),
            RefreshFamilyId::from(row.family_id),
        );
        if row.revoked || row.expired {
            return Ok(Rotation::Invalid);
        }
        if row.used_at.is_some() {
            revoke(&mut tx, family_id, RevokeReason::ReuseDetected).await?;
            tx.commit().await?;
            return Ok(Rotation::ReuseDetected { user_id, family_id });
        }
        sqlx::query("UPDATE refresh_tokens SET used_at = now() WHERE id = $1")
            .bind(row.token_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO refresh_tokens (family_id, token_hash) VALUES ($1, $2)")
            .bind(family_id.as_uuid())
            .bind(&new_hash[..])
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE refresh_token_families SET last_used_at = now() WHERE id = $1")
            .bind(family_id.as_uuid())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Rotation::Rotated { user_id, family_id })
    }

    /// The owner of the family a token belongs to, whatever the token's state.
    pub async fn refresh_family_of(
        &self,
        token_hash: &[u8; 32],
    ) -> Result<Option<(UserId, RefreshFamilyId)>, StoreError> {
        let row: Option<(uuid::Uuid, uuid::Uuid)> = sqlx::query_as(
            "SELECT f.user_id, f.id FROM refresh_tokens t JOIN refresh_token_families f ON f.id = t.family_id \
             WHERE t.token_hash = $1",
        )
        .bind(&token_hash[..])
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|(u, f)| (u.into(), f.into())))
    }

    /// Revokes one family of one user (no-op when already revoked or not theirs).
    pub async fn revoke_refresh_family(
        &self,
        user_id: UserId,
        family_id: RefreshFamilyId,
        reason: RevokeReason,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE refresh_token_families SET revoked_at = now(), revoked_reason = $3 \
             WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL",
        )
        .bind(family_id.as_uuid())
        .bind(user_id.as_uuid())
        .bind(reason.as_str())
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Sets a new password hash and ends every other session of the user, in one
    /// transaction; returns how many sessions ended.
    pub async fn change_password(
        &self,
        user_id: UserId,
        password_hash: &str,
        keep: RefreshFamilyId,
    ) -> Result<u64, StoreError> {
        let mut tx = self.pool().begin().await?;
        let updated =
            sqlx::query("UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1")
                .bind(user_id.as_uuid())
                .bind(password_hash)
                .execute(&mut *tx)
                .await?;
        StoreError::found(updated)?;
        let ended = sqlx::query(
            "UPDATE refresh_token_families SET revoked_at = now(), revoked_reason = 'password_changed' \
             WHERE user_id = $1 AND revoked_at IS NULL AND id <> $2",
        )
        .bind(user_id.as_uuid())
        .bind(keep.as_uuid())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(ended.rows_affected())
    }

    /// Whether a family can still be used (for access tokens that name it).
    pub async fn refresh_family_is_live(
        &self,
        family_id: RefreshFamilyId,
    ) -> Result<bool, StoreError> {
        let live: Option<bool> = sqlx::query_scalar(
            "SELECT revoked_at IS NULL AND expires_at > now() FROM refresh_token_families WHERE id = $1",
        )
        .bind(family_id.as_uuid())
        .fetch_optional(self.pool())
        .await?;
        Ok(live.unwrap_or(false))
    }
}

async fn revoke(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    family_id: RefreshFamilyId,
    reason: RevokeReason,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE refresh_token_families SET revoked_at = now(), revoked_reason = $2 WHERE id = $1",
    )
    .bind(family_id.as_uuid())
    .bind(reason.as_str())
    .execute(&mut **tx)
    .await?;
    Ok(())
}
