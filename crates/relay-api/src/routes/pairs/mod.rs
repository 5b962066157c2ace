//! Forwarding pairs: one source chat of one of the user's accounts, forwarded to one or more
//! destinations (Telegram→Discord, Discord→Telegram, Telegram→Telegram, Discord→Discord).
//!
//! Everything a pair names is checked before anything is stored (422 with field errors):
//! the accounts are the caller's, the source can read, chat ids have their platform's
//! shape, a webhook takes no chat, no destination repeats or sends back into the source
//! chat, and the plan allows the number of destinations. The plan's pair limit is a 403
//! `plan_limit`. Another user's pair is a 404.
//!
//! Here: what the files share. `requests` and `views` are the JSON in and out; `validation`
//! checks names, the source and chat ids (each platform's rules are its crate's
//! `platform` module); `destinations` checks a destination list and loops back into the
//! source, `cycles` loops through the owner's other pairs (409); the handlers are in
//! `create`, `update`, `read` and `lifecycle`; `rules` checks rules and their plan features.

mod create;
mod cycles;
mod destinations;
mod lifecycle;
mod preview;
mod read;
mod requests;
mod rules;
mod update;
mod validation;
mod views;

pub use create::*;
pub use lifecycle::*;
pub use preview::*;
pub use read::*;
pub use requests::*;
pub use update::*;
pub use views::*;

use crate::ApiError;
use relay_core::{AccountId, PairId};
use relay_store::Account;
use std::collections::HashMap;

/// The caller's accounts, by id.
type Accounts = HashMap<AccountId, Account>;

/// A malformed id names no pair of anyone's: 404, like another tenant's.
pub(super) fn parse_id(id: &str) -> Result<PairId, ApiError> {
    id.parse().map_err(|_| ApiError::NotFound)
}

/// `?limit=`: 1 to 500, 100 when left out.
pub(crate) fn parse_limit(query: &LimitQuery) -> Result<i64, ApiError> {
    match query.limit.as_deref().map(str::trim) {
        None | Some("") => Ok(100),
        Some(text) => match text.parse::<i64>() {
            Ok(n) if (1..=500).contains(&n) => Ok(n),
            _ => Err(ApiError::field(
                "limit",
                "must be a whole number from 1 to 500",
            )),
        },
    }
}
