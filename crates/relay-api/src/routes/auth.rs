//! Sign-up, sign-in, token refresh and sign-out.

use super::Fields;
use super::views::{TokenPair, UserView};
use crate::auth::{AuthUser, authenticate, password, tokens};
use crate::{ApiError, AppState};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use relay_core::credentials::{Email, check_password};
use relay_core::{RefreshFamilyId, Role, UserId, UserStatus};
use relay_store::{RevokeReason, Rotation};
use serde::Deserialize;
use std::net::SocketAddr;
use utoipa::ToSchema;

// No `Debug`: it holds secrets.
#[derive(Deserialize, ToSchema)]
pub struct Credentials {
    pub email: Option<String>,
    pub password: Option<String>,
}

// No `Debug`: it holds secrets.
#[derive(Deserialize, ToSchema)]
pub struct RefreshRequest {
    pub refresh_token: Option<String>,
}

const WRONG_CREDENTIALS: &str = "wrong email or password";

/// Counts one `action` (sign-in, sign-up) against the client's address.
async fn limit_address(
    state: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    action: &str,
) -> Result<(), ApiError> {
    let client = crate::client_ip::client_ip(peer.ip(), headers, &state.config.trusted_proxies);
    let key = format!("{action}:ip:{}", crate::auth::client_key(client));
    state.auth.enforce(&key, state.auth.login_per_ip).await
}

/// Create an account.
#[utoipa::path(post, path = "/api/v1/auth/register", tag = "auth", request_body = Credentials, responses(
    (status = 201, description = "Created", body = UserView),
    (status = 409, description = "Email already registered", body = crate::ErrorBody),
    (status = 422, description = "Invalid email or password", body = crate::ErrorBody),
    (status = 429, description = "Too many sign-ups from this address", body = crate::ErrorBody)))]
pub async fn register(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Json(body): Json<Credentials>,
) -> Result<(StatusCode, Json<UserView>), ApiError> {
    // Sign-ups cost an argon2 hash each: limited per address like sign-ins.
    limit_address(&state, peer, &headers, "register").await?;
    let mut fields = Fields::default();
    let email = fields
        .required("email", &body.email)
        .and_then(|e| match Email::parse(e) {
            Ok(email) => Some(email),
            Err(why) => {
                fields.add("email", why);
                None
            }
        });
    let password = fields.required("password", &body.password);
    if let (Some(email), Some(password)) = (&email, password)
        && let Err(why) = check_password(password, email)
    {
        fields.add("password", why);
    }
    fields.finish()?;
    let (Some(email), Some(password)) = (email, password) else {
        return Err(ApiError::BadRequest(
            "email and password are required".into(),
        ));
    };
    let hash = password::hash(password.to_owned())
        .await
        .map_err(ApiError::internal)?;
    let user = state.db.create_user(&email, &hash, Role::User).await?;
    tracing::info!(user = %user.id, "user registered");
    Ok((StatusCode::CREATED, Json(user.into())))
}

/// Sign in with email and password.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = Credentials, responses(
    (status = 200, description = "Signed in", body = TokenPair),
    (status = 401, description = "Wrong email or password", body = crate::ErrorBody),
    (status = 403, description = "Account banned", body = crate::ErrorBody),
    (status = 429, description = "Too many attempts; see Retry-After", body = crate::ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Json(body): Json<Credentials>,
) -> Result<Json<TokenPair>, ApiError> {
    let mut fields = Fields::default();
    let email_input = fields.required("email", &body.email).unwrap_or_default();
    let password = fields
        .required("password", &body.password)
        .unwrap_or_default()
        .to_owned();
    fields.finish()?;

    let auth = &state.auth;
    limit_address(&state, peer, &headers, "login").await?;
    // Attempts on an account count per client address, atomically, before the password is
    // checked: parallel guesses cannot all slip under the limit, and a success clears the
    // count. Keyed by the address too, so guessing from one place never locks the owner
    // out from another.
    let client = crate::client_ip::client_ip(peer.ip(), &headers, &state.config.trusted_proxies);
    let account_key = format!(
        "{}:{}",
        crate::auth::account_limit_key(email_input),
        crate::auth::client_key(client)
    );
    auth.enforce(&account_key, auth.login_per_account).await?;

    // An unknown or malformed email costs the same argon2 check as a wrong password.
    let found = match Email::parse(email_input) {
        Ok(email) => state.db.user_by_email(&email).await?,
        Err(_) => None,
    };
    let stored = found.as_ref().map(|c| c.password_hash.clone());
    let ok = password::verify(password, stored)
        .await
        .map_err(ApiError::internal)?;
    let Some(credentials) = found.filter(|_| ok) else {
        return Err(ApiError::Unauthorized(WRONG_CREDENTIALS));
    };
    let user = credentials.user;
    if user.status == UserStatus::Banned {
        return Err(ApiError::Forbidden("this account is banned".into()));
    }
    auth.limiter.reset(&account_key).await?;
    let pair = start_session(&state, user.id, user.role, &credentials.password_hash).await?;
    tracing::info!(user = %user.id, "signed in");
    Ok(Json(pair))
}

/// Starts a refresh family, provided the password checked is still the user's: a password
/// change that lands while this login was checking the old one wins.
async fn start_session(
    state: &AppState,
    user: UserId,
    role: Role,
    verified_hash: &str,
) -> Result<TokenPair, ApiError> {
    let refresh = tokens::new_refresh_token()
        .map_err(|e| ApiError::internal(std::io::Error::other(e.to_string())))?;
    let expires = chrono::Utc::now() + state.auth.refresh_ttl;
    let family = state
        .db
        .start_refresh_family(
            user,
            &tokens::refresh_token_hash(&refresh),
            expires,
            verified_hash,
        )
        .await?
        .ok_or(ApiError::Unauthorized(WRONG_CREDENTIALS))?;
    token_pair(state, user, role, family, refresh)
}

fn token_pair(
    state: &AppState,
    user: UserId,
    role: Role,
    family: RefreshFamilyId,
    refresh: String,
) -> Result<TokenPair, ApiError> {
    let access = state
        .auth
        .keys
        .issue(user, role, family)
        .map_err(ApiError::internal)?;
    Ok(TokenPair {
        access_token: access,
        refresh_token: refresh,
        token_type: "Bearer",
        expires_in: state.auth.keys.access_ttl().as_secs(),
    })
}

/// Exchange a refresh token for a new pair. Each refresh token works once; presenting one
/// again ends its whole session, the newest token included.
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body = RefreshRequest, responses(
    (status = 200, description = "Rotated", body = TokenPair),
    (status = 401, description = "Invalid, expired or reused refresh token", body = crate::ErrorBody),
    (status = 403, description = "Account banned", body = crate::ErrorBody)))]
pub async fn refresh(
    State(state): State<AppState>,
    Json(body): Json<RefreshRequest>,
) -> Result<Json<TokenPair>, ApiError> {
    let mut fields = Fields::default();
    let presented = fields
        .required("refresh_token", &body.refresh_token)
        .unwrap_or_default()
        .to_owned();
    fields.finish()?;
    let next = tokens::new_refresh_token()
        .map_err(|e| ApiError::internal(std::io::Error::other(e.to_string())))?;
    let rotation = state
        .db
        .rotate_refresh_token(
            &tokens::refresh_token_hash(&presented),
            &tokens::refresh_token_hash(&next),
        )
        .await?;
    match rotation {
        Rotation::Rotated { user_id, family_id } => {
            let user = state.db.user(user_id).await?;
            if user.status == UserStatus::Banned {
                state
                    .db
                    .revoke_refresh_family(user_id, family_id, RevokeReason::Admin)
                    .await?;
                state.auth.sessions.forget_family(family_id);
                return Err(ApiError::Forbidden("this account is banned".into()));
            }
            Ok(Json(token_pair(
                &state, user.id, user.role, family_id, next,
            )?))
        }
        Rotation::ReuseDetected { user_id, family_id } => {
            tracing::warn!(user = %user_id, family = %family_id, "refresh token reused; session revoked");
            state.auth.sessions.forget_family(family_id);
            Err(ApiError::Unauthorized(
                "this refresh token was already used; the session has been ended for safety",
            ))
        }
        Rotation::Invalid => Err(ApiError::Unauthorized(
            "the refresh token is invalid or expired",
        )),
    }
}

/// End a session: the one of the bearer access token, or of the refresh token in the body.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", request_body(content = RefreshRequest, description = "Optional when a bearer token is sent"),
    security((), ("bearer" = [])),
    responses((status = 204, description = "Session ended"),
    (status = 401, description = "Neither a valid access token nor a known refresh token", body = crate::ErrorBody)))]
pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let from_body = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        let parsed: RefreshRequest = serde_json::from_slice(&body).map_err(|e| {
            ApiError::BadRequest(format!(
                "the body must be JSON like {{\"refresh_token\": \"…\"}}: {e}"
            ))
        })?;
        parsed.refresh_token
    };
    let (user, family) = match from_body {
        Some(token) => state
            .db
            .refresh_family_of(&tokens::refresh_token_hash(&token))
            .await?
            .ok_or(ApiError::Unauthorized(
                "the refresh token is invalid or expired",
            ))?,
        None => {
            let AuthUser { user, family } = authenticate(&state, &headers).await?;
            (user.id, family)
        }
    };
    state
        .db
        .revoke_refresh_family(user, family, RevokeReason::Logout)
        .await?;
    state.auth.sessions.forget_family(family);
    Ok(StatusCode::NO_CONTENT)
}
