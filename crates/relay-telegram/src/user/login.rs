//! Signing a user in, one step per call, so that each step can run on a different API node:
//! everything a step needs is in the [`LoginState`] the caller stores between steps (the
//! device's auth key and DC options, and the phone code hash), and each step opens its own
//! short-lived connection with that key.

use super::{Connection, MtprotoConfig, UserSession, fresh_session, session_data_from_keys};
use grammers_client::client::PasswordToken;
use grammers_client::peer::User;
use grammers_client::session::Session;
use grammers_client::session::types::{PeerAuth, PeerInfo, UpdateState, UpdatesState};
use grammers_client::{InvocationError, SignInError, tl};
use relay_core::telegram_session::{SessionStoreError, StoredSession};
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::time::Duration;

/// No step waits longer than this for Telegram (grammers itself never gives up on a request).
const STEP_TIMEOUT: Duration = Duration::from_secs(30);

/// What a login keeps between steps (sealed at rest by the caller).
#[derive(Serialize, Deserialize)]
pub struct LoginState {
    keys: Vec<u8>,
    phone_code_hash: String,
}

impl LoginState {
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, LoginError> {
        serde_json::from_slice(bytes)
            .map_err(|e| LoginError::Unexpected(format!("stored login state: {e}")))
    }
}

/// Why a step failed; each is a different answer to the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoginError {
    #[error("Telegram does not accept this phone number")]
    PhoneInvalid,
    #[error("this phone number has no Telegram account; sign up in an official Telegram app first")]
    PhoneNotRegistered,
    #[error("Telegram has banned this phone number")]
    PhoneBanned,
    #[error("the code is wrong")]
    CodeInvalid,
    #[error("the code has expired; start the login again")]
    CodeExpired,
    #[error("the two-step verification password is wrong")]
    PasswordInvalid,
    #[error("Telegram asks to wait {0:?} before trying again")]
    FloodWait(Duration),
    #[error("Telegram could not be reached: {0}")]
    Unavailable(String),
    #[error("unexpected answer from Telegram: {0}")]
    Unexpected(String),
}

fn login_error(err: InvocationError) -> LoginError {
    match err {
        InvocationError::Rpc(rpc) => {
            if rpc.is("FLOOD_WAIT") || rpc.is("FLOOD_PREMIUM_WAIT") {
                LoginError::FloodWait(Duration::from_secs(u64::from(rpc.value.unwrap_or(1))))
            } else if rpc.is("PHONE_NUMBER_INVALID") || rpc.is("PHONE_NUMBER_UNOCCUPIED") {
                if rpc.is("PHONE_NUMBER_UNOCCUPIED") {
                    LoginError::PhoneNotRegistered
                } else {
                    LoginError::PhoneInvalid
                }
            } else if rpc.is("PHONE_NUMBER_BANNED") {
                LoginError::PhoneBanned
            } else if rpc.is("PHONE_CODE_EXPIRED") {
                LoginError::CodeExpired
            } else if rpc.is("PHONE_CODE_*") {
                LoginError::CodeInvalid
            } else if rpc.is("PASSWORD_HASH_INVALID") {
                LoginError::PasswordInvalid
            } else if rpc.code >= 500 || rpc.code == -503 {
                LoginError::Unavailable(rpc.to_string())
            } else {
                LoginError::Unexpected(rpc.to_string())
            }
        }
        other => LoginError::Unavailable(other.to_string()),
    }
}

async fn timed<T>(step: impl Future<Output = Result<T, LoginError>>) -> Result<T, LoginError> {
    tokio::time::timeout(STEP_TIMEOUT, step)
        .await
        .unwrap_or_else(|_| {
            Err(LoginError::Unavailable(format!(
                "no answer within {STEP_TIMEOUT:?}"
            )))
        })
}

/// A signed-in user and the session to store for them.
#[derive(Debug)]
pub struct SignedIn {
    pub user_id: i64,
    pub display_name: String,
    pub session: StoredSession,
}

/// The outcome of the code step.
#[derive(Debug)]
pub enum PasswordStep {
    SignedIn(SignedIn),
    /// Two-step verification is on; the password is next.
    PasswordNeeded {
        hint: Option<String>,
    },
}

/// Step 1: Telegram sends a code to the user's other devices (or by SMS).
pub async fn request_code(config: &MtprotoConfig, phone: &str) -> Result<LoginState, LoginError> {
    let conn = Connection::open(config, UserSession::in_memory(fresh_session(config)));
    timed(async {
        let request = tl::functions::auth::SendCode {
            phone_number: phone.to_owned(),
            api_id: config.api_id,
            api_hash: config.api_hash.clone(),
            settings: tl::types::CodeSettings {
                allow_flashcall: false,
                current_number: false,
                allow_app_hash: false,
                allow_missed_call: false,
                allow_firebase: false,
                logout_tokens: None,
                token: None,
                app_sandbox: None,
                unknown_number: false,
            }
            .into(),
        };
        let sent = match conn.client.invoke(&request).await {
            Err(InvocationError::Rpc(rpc)) if rpc.code == 303 => {
                // The number lives on another DC: that one is home from now on.
                let dc = rpc.value.unwrap_or(2) as i32;
                conn.session
                    .set_home_dc_id(dc)
                    .await
                    .map_err(|e| LoginError::Unexpected(e.to_string()))?;
                conn.client.invoke(&request).await
            }
            other => other,
        }
        .map_err(login_error)?;
        match sent {
            tl::enums::auth::SentCode::Code(code) => Ok(LoginState {
                keys: conn.session.keys(),
                phone_code_hash: code.phone_code_hash,
            }),
            _ => Err(LoginError::Unexpected("no code was sent".into())),
        }
    })
    .await
}

fn reopen(config: &MtprotoConfig, state: &LoginState) -> Result<Connection, LoginError> {
    let data = session_data_from_keys(&state.keys)
        .map_err(|e| LoginError::Unexpected(format!("stored login keys: {e}")))?;
    Ok(Connection::open(config, UserSession::in_memory(data)))
}

/// Step 2: the code the user received.
pub async fn submit_code(
    config: &MtprotoConfig,
    state: &LoginState,
    phone: &str,
    code: &str,
) -> Result<PasswordStep, LoginError> {
    let conn = reopen(config, state)?;
    timed(async {
        let request = tl::functions::auth::SignIn {
            phone_number: phone.to_owned(),
            phone_code_hash: state.phone_code_hash.clone(),
            phone_code: Some(code.to_owned()),
            email_verification: None,
        };
        match conn.client.invoke(&request).await {
            Ok(tl::enums::auth::Authorization::Authorization(auth)) => {
                Ok(PasswordStep::SignedIn(complete(&conn, auth.user).await?))
            }
            Ok(tl::enums::auth::Authorization::SignUpRequired(_)) => {
                Err(LoginError::PhoneNotRegistered)
            }
            Err(err) if err.is("SESSION_PASSWORD_NEEDED") => {
                let password = password_parameters(&conn).await?;
                Ok(PasswordStep::PasswordNeeded {
                    hint: password.hint.filter(|h| !h.is_empty()),
                })
            }
            Err(err) => Err(login_error(err)),
        }
    })
    .await
}

async fn password_parameters(
    conn: &Connection,
) -> Result<tl::types::account::Password, LoginError> {
    let password: tl::enums::account::Password = conn
        .client
        .invoke(&tl::functions::account::GetPassword {})
        .await
        .map_err(login_error)?;
    Ok(password.into())
}

/// Step 3, with two-step verification on: the password.
pub async fn submit_password(
    config: &MtprotoConfig,
    state: &LoginState,
    password: &str,
) -> Result<SignedIn, LoginError> {
    let conn = reopen(config, state)?;
    timed(async {
        let parameters = password_parameters(&conn).await?;
        if parameters.current_algo.is_none()
            || parameters.srp_b.is_none()
            || parameters.srp_id.is_none()
        {
            return Err(LoginError::Unexpected(
                "two-step verification is not set up".into(),
            ));
        }
        match conn
            .client
            .check_password(PasswordToken::new(parameters), password.as_bytes())
            .await
        {
            // grammers has recorded the user as the session's own and fetched the state.
            Ok(user) => Ok(signed_in(&conn, &user)),
            Err(SignInError::InvalidPassword(_)) => Err(LoginError::PasswordInvalid),
            Err(SignInError::Other(err)) => Err(login_error(err)),
            Err(other) => Err(LoginError::Unexpected(other.to_string())),
        }
    })
    .await
}

/// Ends the session at Telegram (auth.logOut), so it disappears from the user's active
/// sessions when they disconnect the account from Relay. Best effort: an account whose
/// session already ended, or a Telegram that does not answer, is not an error for the
/// caller, who deletes the account either way.
pub async fn log_out(config: &MtprotoConfig, session: UserSession) -> Result<(), LoginError> {
    let conn = Connection::open(config, session);
    timed(async {
        conn.client
            .invoke(&tl::functions::auth::LogOut {})
            .await
            .map(drop)
            .map_err(login_error)
    })
    .await
}

/// What grammers does after a sign-in: remember the user as the session's own and where
/// the update stream starts, so the first run only asks for what came after.
async fn complete(conn: &Connection, raw: tl::enums::User) -> Result<SignedIn, LoginError> {
    let state = conn
        .client
        .invoke(&tl::functions::updates::GetState {})
        .await;
    let access_hash = match &raw {
        tl::enums::User::User(u) => u.access_hash,
        tl::enums::User::Empty(_) => None,
    };
    let user = User::from_raw(&conn.client, raw);
    let id = user
        .id()
        .bare_id()
        .ok_or_else(|| LoginError::Unexpected("the signed-in user has no id".into()))?;
    let unexpected = |e: SessionStoreError| LoginError::Unexpected(e.to_string());
    conn.session
        .cache_peer(PeerInfo::User {
            id,
            auth: access_hash.map(PeerAuth::from_hash),
            bot: Some(user.is_bot()),
            is_self: Some(true),
        })
        .await
        .map_err(unexpected)?;
    if let Ok(tl::enums::updates::State::State(s)) = state {
        conn.session
            .set_update_state(UpdateState::All(UpdatesState {
                pts: s.pts,
                qts: s.qts,
                date: s.date,
                seq: s.seq,
                channels: Vec::new(),
            }))
            .await
            .map_err(unexpected)?;
    }
    Ok(signed_in(conn, &user))
}

fn signed_in(conn: &Connection, user: &User) -> SignedIn {
    let full = user.full_name();
    let display_name = match (full.trim(), user.username()) {
        ("", Some(username)) => format!("@{username}"),
        ("", None) => "Telegram user".to_owned(),
        (name, _) => name.to_owned(),
    };
    SignedIn {
        user_id: user.id().bare_id().unwrap_or_default(),
        display_name,
        session: conn.session.snapshot(),
    }
}
