//! The signed-in user's own account.

use super::Fields;
use super::views::UserView;
use crate::auth::{AuthUser, password};
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use relay_core::credentials::{Email, check_password};
use serde::Deserialize;
use utoipa::ToSchema;

/// The signed-in user.
#[utoipa::path(get, path = "/api/v1/me", tag = "account", security(("bearer" = [])), responses(
    (status = 200, description = "The signed-in user", body = UserView),
    (status = 401, description = "Not signed in", body = crate::ErrorBody)))]
pub async fn me(auth: AuthUser) -> Json<UserView> {
    Json(auth.user.into())
}

// No `Debug`: it holds secrets.
#[derive(Deserialize, ToSchema)]
pub struct PasswordChange {
    pub current_password: Option<String>,
    pub new_password: Option<String>,
}

/// Change the password. Every other session of the account ends; this one goes on.
#[utoipa::path(post, path = "/api/v1/me/password", tag = "account", security(("bearer" = [])), request_body = PasswordChange,
    responses((status = 204, description = "Changed"),
    (status = 401, description = "Not signed in", body = crate::ErrorBody),
    (status = 422, description = "Wrong current password or a weak new one", body = crate::ErrorBody),
    (status = 429, description = "Too many wrong attempts", body = crate::ErrorBody)))]
pub async fn change_password(
    State(state): State<AppState>,
    auth: AuthUser,
    Json(body): Json<PasswordChange>,
) -> Result<StatusCode, ApiError> {
    let mut fields = Fields::default();
    let current = fields
        .required("current_password", &body.current_password)
        .unwrap_or_default()
        .to_owned();
    let new = fields
        .required("new_password", &body.new_password)
        .unwrap_or_default()
        .to_owned();
    fields.finish()?;

    // Attempts count against the same limit as sign-ins, before the check.
    let limits = &state.auth;
    let account_key = crate::auth::account_limit_key(&auth.user.email);
    limits
        .enforce(&account_key, limits.login_per_account)
        .await?;
    let stored = state.db.user_credentials(auth.id()).await?.password_hash;
    if !password::verify(current.clone(), Some(stored))
        .await
        .map_err(ApiError::internal)?
    {
        return Err(ApiError::field("current_password", "is incorrect"));
    }
    limits.limiter.reset(&account_key).await?;
    let email =
        Email::parse(&auth.user.email).map_err(|e| ApiError::internal(std::io::Error::other(e)))?;
    let mut fields = Fields::default();
    if let Err(why) = check_password(&new, &email) {
        fields.add("new_password", why);
    } else if new == current {
        fields.add("new_password", "must differ from the current password");
    }
    fields.finish()?;

    let hash = password::hash(new).await.map_err(ApiError::internal)?;
    // One transaction: the new hash and the end of every other session land together.
    let ended = state
        .db
        .change_password(auth.id(), &hash, auth.family)
        .await?;
    state
        .auth
        .sessions
        .forget_user(auth.id(), Some(auth.family));
    tracing::info!(user = %auth.id(), ended_sessions = ended, "password changed");
    Ok(StatusCode::NO_CONTENT)
}
