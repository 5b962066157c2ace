//! What the API shows of stored things.

use chrono::{DateTime, Utc};
use relay_core::{Role, UserStatus};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    #[schema(value_type = String, format = Uuid)]
    pub id: uuid::Uuid,
    pub email: String,
    /// `user` or `admin`.
    #[schema(value_type = String, example = "user")]
    pub role: Role,
    /// `active` or `banned`.
    #[schema(value_type = String, example = "active")]
    pub status: UserStatus,
    pub created_at: DateTime<Utc>,
}

impl From<relay_store::User> for UserView {
    fn from(u: relay_store::User) -> Self {
        Self {
            id: u.id.as_uuid(),
            email: u.email,
            role: u.role,
            status: u.status,
            created_at: u.created_at,
        }
    }
}

/// A signed-in session: a short-lived access token and the refresh token that renews it.
// No `Debug`: it holds secrets.
#[derive(Serialize, ToSchema)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
}
