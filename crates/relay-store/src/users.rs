//! Users: creation, lookup by id or email, password and status changes.

use crate::{Database, StoreError};
use chrono::{DateTime, Utc};
use relay_core::credentials::Email;
use relay_core::{RefreshFamilyId, Role, UserId, UserStatus};

/// A user as the API shows it (no password hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub role: Role,
    pub status: UserStatus,
    pub created_at: DateTime<Utc>,
}

/// A user with the password hash, for signing in.
#[derive(Clone)]
pub struct UserCredentials {
    pub user: User,
    pub password_hash: String,
}

impl std::fmt::Debug for UserCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserCredentials")
            .field("user", &self.user)
            .field("password_hash", &"[redacted]")
            .finish()
    }
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: uuid::Uuid,
    email: String,
    role: String,
    status: String,
    created_at: DateTime<Utc>,
    password_hash: String,
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    #[sqlx(flatten)]
    user: UserRow,
    live: bool,
}

impl TryFrom<UserRow> for UserCredentials {
    type Error = StoreError;
    fn try_from(row: UserRow) -> Result<Self, StoreError> {
        let role = row.role.parse().map_err(StoreError::corrupt)?;
        let status = row.status.parse().map_err(StoreError::corrupt)?;
        Ok(UserCredentials {
            user: User {
                id: row.id.into(),
                email: row.email,
                role,
                status,
                created_at: row.created_at,
            },
            password_hash: row.password_hash,
        })
    }
}

const COLUMNS: &str = "id, email, role, status, created_at, password_hash";

impl Database {
    /// Creates a user; a taken email is `StoreError::Duplicate("email")`.
    pub async fn create_user(
        &self,
        email: &Email,
        password_hash: &str,
        role: Role,
    ) -> Result<User, StoreError> {
        let row: UserRow = sqlx::query_as(
            "INSERT INTO users (email, password_hash, role) VALUES ($1, $2, $3) \
             RETURNING id, email, role, status, created_at, password_hash",
        )
        .bind(email.as_str())
        .bind(password_hash)
        .bind(role.as_str())
        .fetch_one(self.pool())
        .await
        .map_err(|e| StoreError::on_unique(e, "users_email_key", "email"))?;
        Ok(UserCredentials::try_from(row)?.user)
    }

    pub async fn user_by_email(
        &self,
        email: &Email,
    ) -> Result<Option<UserCredentials>, StoreError> {
        let row: Option<UserRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM users WHERE email = $1"
        )))
        .bind(email.as_str())
        .fetch_optional(self.pool())
        .await?;
        row.map(UserCredentials::try_from).transpose()
    }

    /// The user with the hash, for re-checking a password.
    pub async fn user_credentials(&self, id: UserId) -> Result<UserCredentials, StoreError> {
        let row: Option<UserRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM users WHERE id = $1"
        )))
        .bind(id.as_uuid())
        .fetch_optional(self.pool())
        .await?;
        row.map(UserCredentials::try_from)
            .transpose()?
            .ok_or(StoreError::NotFound)
    }

    pub async fn user(&self, id: UserId) -> Result<User, StoreError> {
        Ok(self.user_credentials(id).await?.user)
    }

    /// The user behind an access token, and whether the token's login (refresh family)
    /// is still live. `None` when the user no longer exists.
    pub async fn session_user(
        &self,
        id: UserId,
        family: RefreshFamilyId,
    ) -> Result<Option<(User, bool)>, StoreError> {
        let row: Option<SessionRow> = sqlx::query_as(
            "SELECT u.id, u.email, u.role, u.status, u.created_at, '' AS password_hash, \
                    coalesce(f.revoked_at IS NULL AND f.expires_at > now(), false) AS live \
             FROM users u LEFT JOIN refresh_token_families f ON f.id = $2 AND f.user_id = u.id \
             WHERE u.id = $1",
        )
        .bind(id.as_uuid())
        .bind(family.as_uuid())
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| Ok((UserCredentials::try_from(r.user)?.user, r.live)))
            .transpose()
    }

    pub async fn set_user_status(&self, id: UserId, status: UserStatus) -> Result<(), StoreError> {
        let done = sqlx::query("UPDATE users SET status = $2, updated_at = now() WHERE id = $1")
            .bind(id.as_uuid())
            .bind(status.as_str())
            .execute(self.pool())
            .await?;
        StoreError::found(done)
    }
}
