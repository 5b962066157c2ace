//! The JSON a client gets back: a pair with its accounts' kinds, and a failed delivery.

use super::Accounts;
use crate::{ApiError, AppState};
use chrono::{DateTime, Utc};
use relay_core::{AccountId, AccountKind, DestinationId, PairId, UserId};
use relay_store::{FailedDelivery, Pair};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct PairView {
    #[schema(value_type = String, format = Uuid)]
    pub id: PairId,
    pub name: String,
    pub source: SourceView,
    pub destinations: Vec<DestinationView>,
    /// Whether the pair is switched on (its configuration).
    pub enabled: bool,
    /// Whether the pair is paused (`POST .../pause`, `.../resume`).
    pub paused: bool,
    pub paused_at: Option<DateTime<Utc>>,
    /// Why Relay paused the pair, when it did (e.g. its last destination's account was
    /// deleted); `null` when its owner paused it or it runs.
    pub paused_reason: Option<String>,
    /// One side of a two-way bridge (see `bridge` on a new pair).
    pub bridge: bool,
    /// The pair's rules, as saved (`{}` for none).
    #[schema(value_type = Object)]
    pub rules: serde_json::Value,
    /// What a pause does with messages meanwhile: `skip` or `hold`.
    pub pause_mode: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SourceView {
    #[schema(value_type = String, format = Uuid)]
    pub account_id: AccountId,
    /// `telegram_user`, `telegram_bot` or `discord_bot`.
    #[schema(value_type = String)]
    pub account_kind: AccountKind,
    pub chat_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DestinationView {
    #[schema(value_type = String, format = Uuid)]
    pub id: DestinationId,
    #[schema(value_type = String, format = Uuid)]
    pub account_id: AccountId,
    /// `telegram_user`, `telegram_bot`, `discord_bot` or `discord_webhook`.
    #[schema(value_type = String)]
    pub account_kind: AccountKind,
    /// `null` for a Discord webhook.
    pub chat_id: Option<String>,
    /// Whether copies start with a bold author line (not for webhooks, which show the
    /// author as the sender).
    pub show_author: bool,
    /// The destination's own rules, if any.
    #[schema(value_type = Option<Object>)]
    pub rules: Option<serde_json::Value>,
}

/// A delivery that was given up on after its retries.
#[derive(Debug, Serialize, ToSchema)]
pub struct FailureView {
    pub id: i64,
    #[schema(value_type = String, format = Uuid)]
    pub pair_id: PairId,
    #[schema(value_type = String, format = Uuid)]
    pub destination_id: DestinationId,
    pub source_chat_id: String,
    pub source_message_id: String,
    /// `create`, `edit` or `delete`.
    pub action: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub failed_at: DateTime<Utc>,
}

impl From<FailedDelivery> for FailureView {
    fn from(f: FailedDelivery) -> Self {
        Self {
            id: f.id,
            pair_id: f.pair_id,
            destination_id: f.destination_id,
            source_chat_id: f.source_chat_id,
            source_message_id: f.source_message_id,
            action: f.action.as_str().to_owned(),
            attempts: f.attempts,
            last_error: f.last_error,
            failed_at: f.updated_at,
        }
    }
}

fn view(pair: Pair, accounts: &Accounts) -> Option<PairView> {
    let kind = |id: &AccountId| accounts.get(id).map(|a| a.kind);
    let destinations = pair
        .destinations
        .into_iter()
        .map(|d| {
            Some(DestinationView {
                id: d.id,
                account_kind: kind(&d.account_id)?,
                account_id: d.account_id,
                chat_id: d.chat_id,
                show_author: d.show_author,
                rules: d.rules,
            })
        })
        .collect::<Option<Vec<_>>>()?;
    Some(PairView {
        id: pair.id,
        name: pair.name,
        source: SourceView {
            account_id: pair.source_account_id,
            account_kind: kind(&pair.source_account_id)?,
            chat_id: pair.source_chat_id,
        },
        destinations,
        enabled: pair.enabled,
        paused: pair.paused_at.is_some(),
        paused_at: pair.paused_at,
        paused_reason: pair.paused_reason.clone(),
        bridge: pair.bridge,
        rules: pair.rules,
        pause_mode: pair.pause_mode,
        created_at: pair.created_at,
        updated_at: pair.updated_at,
    })
}

pub(super) async fn accounts_of(state: &AppState, owner: UserId) -> Result<Accounts, ApiError> {
    Ok(state
        .db
        .accounts(owner)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect())
}

/// The view of a pair, with its accounts' kinds. An account connected after `accounts`
/// was read is looked up once more.
pub(super) async fn present(
    state: &AppState,
    owner: UserId,
    pair: Pair,
    accounts: &Accounts,
) -> Result<PairView, ApiError> {
    if let Some(v) = view(pair.clone(), accounts) {
        return Ok(v);
    }
    let accounts = accounts_of(state, owner).await?;
    // Still missing: the account and so the pair are being deleted.
    view(pair, &accounts).ok_or(ApiError::NotFound)
}
