//! grammers' errors in the terms the queue acts on: a FLOOD_WAIT or SLOWMODE_WAIT is a
//! typed wait (never a sleep inside a worker), a dead authorization stops the account.

use grammers_mtsender::InvocationError;
use relay_core::messages::{LimitScope, SendError};
use std::time::Duration;

/// Errors that mean the session's authorization is gone for good.
const UNAUTHORIZED: &[&str] = &[
    "AUTH_KEY_UNREGISTERED",
    "AUTH_KEY_INVALID",
    "AUTH_KEY_DUPLICATED",
    "SESSION_REVOKED",
    "SESSION_EXPIRED",
    "USER_DEACTIVATED",
    "USER_DEACTIVATED_BAN",
];

/// Errors that mean the chat or message is not there (or not visible to this account).
const NOT_FOUND: &[&str] = &[
    "PEER_ID_INVALID",
    "CHANNEL_INVALID",
    "CHANNEL_PRIVATE",
    "CHAT_ID_INVALID",
    "MESSAGE_ID_INVALID",
    "MSG_ID_INVALID",
    "USER_ID_INVALID",
];

pub fn send_error(err: InvocationError) -> SendError {
    match err {
        InvocationError::Rpc(rpc) => {
            let wait = || Duration::from_secs(u64::from(rpc.value.unwrap_or(1)));
            if rpc.is("FLOOD_WAIT") || rpc.is("FLOOD_PREMIUM_WAIT") {
                SendError::RateLimited {
                    retry_after: wait(),
                    scope: LimitScope::Account,
                }
            } else if rpc.is("SLOWMODE_WAIT") {
                SendError::RateLimited {
                    retry_after: wait(),
                    scope: LimitScope::Route,
                }
            } else if rpc.code == 401 || UNAUTHORIZED.iter().any(|n| rpc.is(n)) {
                SendError::Unauthorized(rpc.name)
            } else if NOT_FOUND.iter().any(|n| rpc.is(n)) {
                SendError::NotFound(rpc.name)
            } else if rpc.code >= 500 || rpc.code == -503 {
                SendError::Transient(rpc.to_string())
            } else {
                SendError::Rejected {
                    code: rpc.name.clone(),
                    message: rpc.to_string(),
                }
            }
        }
        other => SendError::Transient(other.to_string()),
    }
}
