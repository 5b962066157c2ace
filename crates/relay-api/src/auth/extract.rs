//! `AuthUser`: the signed-in user, for handlers. The access token must verify, its user
//! must exist and not be banned, and its login (refresh family) must not have been ended
//! by a logout, a password change or token reuse.

use crate::{ApiError, AppState};
use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use relay_core::{RefreshFamilyId, UserId, UserStatus};
use relay_store::User;

/// The authenticated user, and the login their token belongs to.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub user: User,
    pub family: RefreshFamilyId,
}

impl AuthUser {
    pub fn id(&self) -> UserId {
        self.user.id
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
        .filter(|t| !t.is_empty())
}

/// Authenticates a request from its headers.
pub async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<AuthUser, ApiError> {
    let token =
        bearer(headers).ok_or(ApiError::Unauthorized("a bearer access token is required"))?;
    let claims = state.auth.keys.verify(token).ok_or(ApiError::Unauthorized(
        "the access token is invalid or expired",
    ))?;
    let (user_id, family) = (UserId::from(claims.sub), RefreshFamilyId::from(claims.fid));
    let (user, live) = match state.auth.sessions.get(user_id, family) {
        Some(hit) => hit,
        None => {
            let (user, live) =
                state
                    .db
                    .session_user(user_id, family)
                    .await?
                    .ok_or(ApiError::Unauthorized(
                        "the access token is invalid or expired",
                    ))?;
            state.auth.sessions.put(family, user.clone(), live);
            (user, live)
        }
    };
    if user.status == UserStatus::Banned {
        return Err(ApiError::Forbidden("this account is banned".into()));
    }
    if !live {
        return Err(ApiError::Unauthorized(
            "this session has ended; sign in again",
        ));
    }
    Ok(AuthUser { user, family })
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        authenticate(state, &parts.headers).await
    }
}
