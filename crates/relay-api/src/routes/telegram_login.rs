//! Connecting a Telegram user account: phone, then the code Telegram sends, then the
//! two-step verification password when it is on. The login's state (the new device key and
//! the phone code hash) is sealed in PostgreSQL and its row locked for each step, so any API
//! node can serve any step and two requests for one login never run at once.

use super::Fields;
use super::accounts::{AccountView, limit_platform_checks};
use crate::auth::AuthUser;
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use relay_core::LoginId;
use relay_store::{LoginGuard, LoginStep};
use relay_telegram::user::MtprotoConfig;
use relay_telegram::user::login::{self, LoginError, LoginState, PasswordStep, SignedIn};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How long a login may take from the phone number to the last step.
const LOGIN_TTL: chrono::Duration = chrono::Duration::minutes(15);
/// Wrong codes or passwords before the login is given up.
const MAX_ATTEMPTS: i32 = 5;

#[derive(Deserialize, ToSchema)]
pub struct StartLogin {
    /// The account's phone number in international form, e.g. +44 7700 900123.
    pub phone: Option<String>,
}

// No `Debug`: it holds a secret.
#[derive(Deserialize, ToSchema)]
pub struct LoginCode {
    /// The code Telegram sent to the account's other devices or by SMS.
    pub code: Option<String>,
}

// No `Debug`: it holds a secret.
#[derive(Deserialize, ToSchema)]
pub struct LoginPassword {
    /// The account's two-step verification password.
    pub password: Option<String>,
}

/// A login waiting for its next step.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginView {
    #[schema(value_type = String, format = Uuid)]
    pub login_id: LoginId,
    /// `code` or `password`.
    pub next: &'static str,
    /// The password hint the account owner set, with `next: password`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    pub expires_at: DateTime<Utc>,
}

fn config(state: &AppState) -> Result<&MtprotoConfig, ApiError> {
    state.config.telegram_user.as_ref().ok_or_else(|| {
        ApiError::refused(
            StatusCode::SERVICE_UNAVAILABLE,
            "telegram_users_disabled",
            "Telegram user accounts are not enabled on this server (it needs RELAY_TELEGRAM_API_ID and RELAY_TELEGRAM_API_HASH)",
        )
    })
}

/// `+` and 7 to 15 digits, from what people type (spaces, dashes, dots, brackets).
fn normalise_phone(input: &str) -> Option<String> {
    let trimmed = input.trim();
    let body = trimmed.strip_prefix('+').unwrap_or(trimmed);
    let mut digits = String::with_capacity(16);
    for c in body.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '.' | '(' | ')' => {}
            _ => return None,
        }
    }
    (7..=15)
        .contains(&digits.len())
        .then(|| format!("+{digits}"))
}

fn login_failure(err: LoginError) -> ApiError {
    use StatusCode as S;
    let message = err.to_string();
    match err {
        LoginError::PhoneInvalid => {
            ApiError::refused(S::UNPROCESSABLE_ENTITY, "phone_invalid", message)
        }
        LoginError::PhoneNotRegistered => {
            ApiError::refused(S::UNPROCESSABLE_ENTITY, "phone_not_registered", message)
        }
        LoginError::PhoneBanned => ApiError::refused(S::FORBIDDEN, "phone_banned", message),
        LoginError::CodeInvalid => ApiError::refused(S::BAD_REQUEST, "code_invalid", message),
        LoginError::CodeExpired => ApiError::refused(S::GONE, "code_expired", message),
        LoginError::PasswordInvalid => {
            ApiError::refused(S::BAD_REQUEST, "password_invalid", message)
        }
        LoginError::FloodWait(wait) => ApiError::Refused {
            status: S::TOO_MANY_REQUESTS,
            code: "flood_wait",
            message,
            retry_after: Some(wait),
        },
        LoginError::Unavailable(why) => ApiError::Unavailable(format!(
            "Telegram could not be reached ({why}); try this step again"
        )),
        LoginError::Unexpected(why) => {
            tracing::warn!(error = %why, "unexpected answer during a Telegram login");
            ApiError::refused(
                S::BAD_GATEWAY,
                "telegram_error",
                "Telegram gave an unexpected answer; start the login again",
            )
        }
    }
}

/// Login codes one phone number may be sent (by anyone), and all numbers together: a
/// phone cannot be flooded with codes from many Relay users, nor Telegram with requests.
const CODES_PER_PHONE: relay_queue::LimitRule = relay_queue::LimitRule {
    max: 5,
    window: std::time::Duration::from_secs(3600),
};
const CODES_OVERALL: relay_queue::LimitRule = relay_queue::LimitRule {
    max: 120,
    window: std::time::Duration::from_secs(60),
};

/// Counts a code about to be sent to `phone` (keyed by a digest: no phone numbers in Redis).
async fn limit_codes(state: &AppState, phone: &str) -> Result<(), ApiError> {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(phone.as_bytes());
    let key: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    state
        .auth
        .enforce(&format!("telegram-codes:{key}"), CODES_PER_PHONE)
        .await?;
    state.auth.enforce("telegram-codes", CODES_OVERALL).await
}

/// Start connecting a Telegram user account: Telegram sends a login code.
#[utoipa::path(post, path = "/api/v1/accounts/telegram/login", tag = "accounts", security(("bearer" = [])),
    request_body = StartLogin, responses(
    (status = 201, description = "Code sent; POST it to .../login/{login_id}/code", body = LoginView),
    (status = 403, description = "The plan's account limit is reached (`plan_limit`)", body = crate::ErrorBody),
    (status = 422, description = "Invalid phone number (`validation_failed`, `phone_invalid`) or no Telegram account (`phone_not_registered`)", body = crate::ErrorBody),
    (status = 429, description = "Too many attempts (`rate_limited`) or Telegram's FLOOD_WAIT (`flood_wait`); see Retry-After", body = crate::ErrorBody),
    (status = 503, description = "Telegram unreachable, or user accounts not enabled", body = crate::ErrorBody)))]
pub async fn start(
    State(state): State<AppState>,
    auth: AuthUser,
    Json(body): Json<StartLogin>,
) -> Result<(StatusCode, Json<LoginView>), ApiError> {
    let config = config(&state)?;
    let mut fields = Fields::default();
    let phone = fields.required("phone", &body.phone).and_then(|p| {
        let phone = normalise_phone(p);
        if phone.is_none() {
            fields.add(
                "phone",
                "is not a phone number: + and 7 to 15 digits, e.g. +44 7700 900123",
            );
        }
        phone
    });
    fields.finish()?;
    let phone = phone.unwrap_or_default();
    limit_platform_checks(&state, &auth).await?;
    super::accounts::check_account_limit(&state, &auth).await?;
    limit_codes(&state, &phone).await?;
    let login_state = login::request_code(config, &phone)
        .await
        .map_err(login_failure)?;
    let expires_at = Utc::now() + LOGIN_TTL;
    let login_id = state
        .db
        .start_telegram_login(
            &state.keyring,
            auth.id(),
            &phone,
            &login_state.to_bytes(),
            expires_at,
        )
        .await?;
    tracing::info!(user = %auth.id(), login = %login_id, "telegram login started");
    Ok((
        StatusCode::CREATED,
        Json(LoginView {
            login_id,
            next: "code",
            hint: None,
            expires_at,
        }),
    ))
}

/// Takes the login for this step, or says why it cannot go on.
async fn take(
    state: &AppState,
    auth: &AuthUser,
    id: &str,
    step: LoginStep,
) -> Result<(LoginGuard, LoginState), ApiError> {
    let id: LoginId = id.parse().map_err(|_| ApiError::NotFound)?;
    let guard = state
        .db
        .lock_telegram_login(&state.keyring, auth.id(), id)
        .await?;
    let login = &guard.login;
    if login.step != step {
        let why = match login.step {
            LoginStep::Done => "this login is complete".to_owned(),
            LoginStep::Failed => "this login was given up; start again".to_owned(),
            LoginStep::Code => "this login needs its code first".to_owned(),
            LoginStep::Password => "this login needs the password now".to_owned(),
        };
        return Err(ApiError::refused(
            StatusCode::CONFLICT,
            "login_step_mismatch",
            why,
        ));
    }
    if login.is_expired() {
        return Err(ApiError::refused(
            StatusCode::GONE,
            "login_expired",
            "this login has expired; start again",
        ));
    }
    let login_state = LoginState::from_bytes(&login.state).map_err(login_failure)?;
    Ok((guard, login_state))
}

/// Counts a wrong answer; the last allowed one ends the login.
async fn wrong_answer(
    state: &AppState,
    guard: LoginGuard,
    login_state: &LoginState,
    err: ApiError,
) -> ApiError {
    let attempts = guard.login.attempts + 1;
    let step = guard.login.step;
    let saved = if attempts >= MAX_ATTEMPTS {
        guard.fail().await
    } else {
        guard
            .save(&state.keyring, step, &login_state.to_bytes(), attempts)
            .await
    };
    match saved {
        Err(e) => e.into(),
        Ok(()) if attempts >= MAX_ATTEMPTS => ApiError::refused(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            format!("{MAX_ATTEMPTS} wrong answers: this login was given up; start again"),
        ),
        Ok(()) => err,
    }
}

async fn finish(
    state: &AppState,
    auth: &AuthUser,
    guard: LoginGuard,
    signed_in: SignedIn,
) -> Result<Response, ApiError> {
    let (account, created) = guard
        .complete(
            &state.keyring,
            &signed_in.display_name,
            &signed_in.user_id.to_string(),
            &signed_in.session,
        )
        .await?;
    tracing::info!(user = %auth.id(), account = %account.id, created, "telegram user account connected");
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(AccountView::from(account))).into_response())
}

/// The login code. Answers with the new account, or asks for the password.
#[utoipa::path(post, path = "/api/v1/accounts/telegram/login/{login_id}/code", tag = "accounts",
    security(("bearer" = [])), request_body = LoginCode, params(("login_id" = String, Path)), responses(
    (status = 201, description = "Connected", body = AccountView),
    (status = 200, description = "Connected again (the account existed), or `next: password`", body = LoginView),
    (status = 400, description = "Wrong code (`code_invalid`)", body = crate::ErrorBody),
    (status = 404, description = "No such login", body = crate::ErrorBody),
    (status = 409, description = "Not at this step (`login_step_mismatch`)", body = crate::ErrorBody),
    (status = 410, description = "Code or login expired (`code_expired`, `login_expired`)", body = crate::ErrorBody),
    (status = 429, description = "FLOOD_WAIT (`flood_wait`) or too many wrong codes (`too_many_attempts`)", body = crate::ErrorBody)))]
pub async fn code(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
    Json(body): Json<LoginCode>,
) -> Result<Response, ApiError> {
    let config = config(&state)?;
    let mut fields = Fields::default();
    let code = fields
        .required("code", &body.code)
        .map(str::trim)
        .unwrap_or_default()
        .to_owned();
    if !code.is_empty() && (code.len() > 16 || !code.chars().all(|c| c.is_ascii_alphanumeric())) {
        fields.add("code", "is not a Telegram login code");
    }
    fields.finish()?;
    let (guard, login_state) = take(&state, &auth, &id, LoginStep::Code).await?;
    let phone = guard.login.phone.clone();
    match login::submit_code(config, &login_state, &phone, &code).await {
        Ok(PasswordStep::SignedIn(signed_in)) => finish(&state, &auth, guard, signed_in).await,
        Ok(PasswordStep::PasswordNeeded { hint }) => {
            let view = LoginView {
                login_id: guard.login.id,
                next: "password",
                hint,
                expires_at: guard.login.expires_at,
            };
            guard
                .save(
                    &state.keyring,
                    LoginStep::Password,
                    &login_state.to_bytes(),
                    0,
                )
                .await?;
            Ok((StatusCode::OK, Json(view)).into_response())
        }
        Err(LoginError::CodeInvalid) => Err(wrong_answer(
            &state,
            guard,
            &login_state,
            login_failure(LoginError::CodeInvalid),
        )
        .await),
        Err(
            err @ (LoginError::CodeExpired
            | LoginError::PhoneNotRegistered
            | LoginError::PhoneBanned),
        ) => {
            guard.fail().await?;
            Err(login_failure(err))
        }
        // Unchanged: the same step may be tried again.
        Err(err) => Err(login_failure(err)),
    }
}

/// The two-step verification password. Answers with the new account.
#[utoipa::path(post, path = "/api/v1/accounts/telegram/login/{login_id}/password", tag = "accounts",
    security(("bearer" = [])), request_body = LoginPassword, params(("login_id" = String, Path)), responses(
    (status = 201, description = "Connected", body = AccountView),
    (status = 200, description = "Connected again (the account existed)", body = AccountView),
    (status = 400, description = "Wrong password (`password_invalid`)", body = crate::ErrorBody),
    (status = 404, description = "No such login", body = crate::ErrorBody),
    (status = 409, description = "Not at this step (`login_step_mismatch`)", body = crate::ErrorBody),
    (status = 410, description = "Login expired (`login_expired`)", body = crate::ErrorBody),
    (status = 429, description = "FLOOD_WAIT (`flood_wait`) or too many wrong passwords (`too_many_attempts`)", body = crate::ErrorBody)))]
pub async fn password(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
    Json(body): Json<LoginPassword>,
) -> Result<Response, ApiError> {
    let config = config(&state)?;
    let mut fields = Fields::default();
    let password = fields
        .required("password", &body.password)
        .unwrap_or_default()
        .to_owned();
    if password.len() > 1024 {
        fields.add("password", "is longer than any Telegram password");
    }
    fields.finish()?;
    let (guard, login_state) = take(&state, &auth, &id, LoginStep::Password).await?;
    match login::submit_password(config, &login_state, &password).await {
        Ok(signed_in) => finish(&state, &auth, guard, signed_in).await,
        Err(LoginError::PasswordInvalid) => Err(wrong_answer(
            &state,
            guard,
            &login_state,
            login_failure(LoginError::PasswordInvalid),
        )
        .await),
        Err(err) => Err(login_failure(err)),
    }
}

#[cfg(test)]
mod tests {
    use super::normalise_phone;

    #[test]
    fn phone_numbers_are_normalised_or_refused() {
        assert_eq!(
            normalise_phone("+44 7700 900-123").as_deref(),
            Some("+447700900123")
        );
        assert_eq!(
            normalise_phone("(555) 010.0100").as_deref(),
            Some("+5550100100")
        );
        assert_eq!(normalise_phone("123"), None);
        assert_eq!(normalise_phone("+1234567890123456"), None);
        assert_eq!(normalise_phone("+1 555 CALL NOW"), None);
        assert_eq!(normalise_phone("++15550100"), None);
    }
}
