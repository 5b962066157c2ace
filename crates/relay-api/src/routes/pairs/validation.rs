//! Checks of what a pair names, besides its destination list: its name, its source account
//! and chat, chat ids (by the account's platform: `relay_telegram::platform`,
//! `relay_discord::platform`), and what the store refuses after the checks passed (a race
//! with another request).

use super::Accounts;
use crate::ApiError;
use crate::routes::Fields;
use axum::http::StatusCode;
use relay_core::{AccountId, AccountKind, PlanId};
use relay_store::{Account, StoreError};
use serde_json::Value;

/// Longest pair name, in characters.
const MAX_NAME_CHARS: usize = 200;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Platform {
    Telegram,
    Discord,
}

pub(super) fn platform(kind: AccountKind) -> Platform {
    match kind {
        AccountKind::TelegramUser | AccountKind::TelegramBot => Platform::Telegram,
        AccountKind::DiscordBot | AccountKind::DiscordWebhook => Platform::Discord,
    }
}

pub(super) fn plan_name(plan: PlanId) -> &'static str {
    match plan {
        PlanId::Free => "Free",
        PlanId::Pro => "Pro",
        PlanId::Elite => "Elite",
    }
}

/// A chat id in its canonical text form for an account of `kind`.
pub(super) fn chat_id(kind: AccountKind, value: &Value) -> Result<String, &'static str> {
    let text = match value {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) if n.is_i64() || n.is_u64() => n.to_string(),
        _ => return Err("must be a string or an integer"),
    };
    match platform(kind) {
        Platform::Discord => relay_discord::platform::channel_id(&text),
        Platform::Telegram => relay_telegram::platform::chat_id(&text),
    }
}

/// Whether an account of `kind` can read, as its platform says (only a Discord webhook
/// cannot).
fn can_read(kind: AccountKind) -> bool {
    match platform(kind) {
        Platform::Discord => relay_discord::platform::can_read(kind),
        Platform::Telegram => relay_telegram::platform::can_read(kind),
    }
}

/// Whether a destination on an account of `kind` names its chat, as its platform says
/// (only a Discord webhook does not: it posts into its own channel).
pub(super) fn names_chat(kind: AccountKind) -> bool {
    match platform(kind) {
        Platform::Discord => relay_discord::platform::names_chat(kind),
        Platform::Telegram => relay_telegram::platform::names_chat(kind),
    }
}

pub(super) fn present_value(value: &Option<Value>) -> Option<&Value> {
    value.as_ref().filter(|v| !v.is_null())
}

pub(super) fn check_name(fields: &mut Fields, field: &str, name: &str) -> String {
    let name = name.trim();
    if name.chars().count() > MAX_NAME_CHARS {
        fields.add(
            field,
            format!("must be at most {MAX_NAME_CHARS} characters"),
        );
    } else if name.chars().any(char::is_control) {
        fields.add(field, "must not contain control characters");
    }
    name.to_owned()
}

pub(super) fn lookup<'a>(accounts: &'a Accounts, id: &str) -> Option<&'a Account> {
    id.trim()
        .parse::<AccountId>()
        .ok()
        .and_then(|id| accounts.get(&id))
}

/// The source account, if `id` names one of the caller's that can read.
pub(super) fn check_source_account<'a>(
    fields: &mut Fields,
    field: &str,
    accounts: &'a Accounts,
    id: &Option<String>,
) -> Option<&'a Account> {
    let id = fields.required(field, id)?;
    let Some(account) = lookup(accounts, id) else {
        fields.add(field, "is not one of your accounts");
        return None;
    };
    if !can_read(account.kind) {
        fields.add(
            field,
            "is a Discord webhook, which can only send: read from a Discord bot or a Telegram account",
        );
        return None;
    }
    Some(account)
}

pub(super) fn check_source_chat(
    fields: &mut Fields,
    field: &str,
    source: Option<&Account>,
    value: &Option<Value>,
) -> Option<String> {
    let Some(value) = present_value(value) else {
        fields.add(field, "is required");
        return None;
    };
    let account = source?;
    match chat_id(account.kind, value) {
        Ok(chat) => Some(chat),
        Err(why) => {
            fields.add(field, why);
            None
        }
    }
}

pub(super) fn plan_limit(plan: PlanId, limit: i32) -> ApiError {
    let noun = if limit == 1 { "pair" } else { "pairs" };
    ApiError::refused(
        StatusCode::FORBIDDEN,
        "plan_limit",
        format!(
            "the {} plan allows {limit} forwarding {noun}: delete one or upgrade to add more",
            plan_name(plan)
        ),
    )
}

/// What the store refuses although the checks passed (a race with another request).
pub(super) fn refused(err: StoreError, source_field: &str) -> ApiError {
    match err {
        StoreError::PlanLimit {
            plan,
            what: "pairs",
            limit,
        } => plan_limit(plan, limit),
        StoreError::PlanLimit { plan, limit, .. } => ApiError::field(
            "destinations",
            format!(
                "the {} plan allows at most {limit} destinations per pair",
                plan_name(plan)
            ),
        ),
        StoreError::NotOwned("source account") => {
            ApiError::field(source_field, "is not one of your accounts")
        }
        StoreError::NotOwned(_) => {
            ApiError::field("destinations", "names an account that is not one of yours")
        }
        StoreError::Duplicate(_) => ApiError::field("destinations", "lists a destination twice"),
        other => other.into(),
    }
}
