//! Forwarding pairs: one source chat of one of the user's accounts, forwarded to one or more
//! destinations (Telegram→Discord, Discord→Telegram, Telegram→Telegram, Discord→Discord).
//!
//! Everything a pair names is checked before anything is stored (422 with field errors):
//! the accounts are the caller's, the source can read, chat ids have their platform's
//! shape, a webhook takes no chat, no destination repeats or sends back into the source
//! chat, and the plan allows the number of destinations. The plan's pair limit is a 403
//! `plan_limit`. Another user's pair is a 404.

use super::Fields;
use super::accounts::limit_platform_checks;
use crate::auth::AuthUser;
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use relay_core::messages::SendError;
use relay_core::{AccountId, AccountKind, DestinationId, PairId, PlanId, UserId};
use relay_discord::DiscordRest;
use relay_store::{
    Account, FailedDelivery, NewDestination, NewPair, Pair, PairChanges, PlanLimits, StoreError,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use utoipa::ToSchema;

/// Longest pair name, in characters.
const MAX_NAME_CHARS: usize = 200;

// ---- requests ----

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewPairRequest {
    /// Up to 200 characters; empty when left out.
    pub name: Option<String>,
    pub source: Option<SourceRequest>,
    /// One or more, up to the plan's limit per pair, in the order they are served.
    pub destinations: Option<Vec<DestinationRequest>>,
}

/// Where messages are read.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SourceRequest {
    /// A Telegram user or bot account, or a Discord bot (a webhook cannot read).
    #[schema(format = Uuid)]
    pub account_id: Option<String>,
    /// Telegram: the chat id, e.g. -1001234567890 (string or number). Discord: the
    /// channel id (a snowflake).
    #[schema(value_type = Option<String>, example = "-1001234567890")]
    pub chat_id: Option<Value>,
}

/// Where messages are sent.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DestinationRequest {
    /// The account that sends.
    #[schema(format = Uuid)]
    pub account_id: Option<String>,
    /// The chat or channel; left out for a Discord webhook, whose channel is fixed.
    #[schema(value_type = Option<String>, example = "1234567890123456789")]
    pub chat_id: Option<Value>,
}

/// Fields left out stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PairPatch {
    pub name: Option<String>,
    /// A new source chat on the same source account.
    #[schema(value_type = Option<String>)]
    pub source_chat_id: Option<Value>,
    /// The new set of destinations. Destinations that stay (same account and chat) keep
    /// their ids and their history; the others are removed.
    pub destinations: Option<Vec<DestinationRequest>>,
    pub enabled: Option<bool>,
}

/// `?limit=` for lists of failures and errors.
#[derive(Debug, Deserialize)]
pub struct LimitQuery {
    pub limit: Option<String>,
}

// ---- views ----

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

type Accounts = HashMap<AccountId, Account>;

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
        created_at: pair.created_at,
        updated_at: pair.updated_at,
    })
}

async fn accounts_of(state: &AppState, owner: UserId) -> Result<Accounts, ApiError> {
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
async fn present(
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

// ---- validation ----

#[derive(Clone, Copy, PartialEq, Eq)]
enum Platform {
    Telegram,
    Discord,
}

fn platform(kind: AccountKind) -> Platform {
    match kind {
        AccountKind::TelegramUser | AccountKind::TelegramBot => Platform::Telegram,
        AccountKind::DiscordBot | AccountKind::DiscordWebhook => Platform::Discord,
    }
}

fn plan_name(plan: PlanId) -> &'static str {
    match plan {
        PlanId::Free => "Free",
        PlanId::Pro => "Pro",
        PlanId::Elite => "Elite",
    }
}

/// A chat id in its canonical text form for an account of `kind`.
fn chat_id(kind: AccountKind, value: &Value) -> Result<String, &'static str> {
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
fn names_chat(kind: AccountKind) -> bool {
    match platform(kind) {
        Platform::Discord => relay_discord::platform::names_chat(kind),
        Platform::Telegram => relay_telegram::platform::names_chat(kind),
    }
}

fn present_value(value: &Option<Value>) -> Option<&Value> {
    value.as_ref().filter(|v| !v.is_null())
}

fn check_name(fields: &mut Fields, field: &str, name: &str) -> String {
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

fn lookup<'a>(accounts: &'a Accounts, id: &str) -> Option<&'a Account> {
    id.trim()
        .parse::<AccountId>()
        .ok()
        .and_then(|id| accounts.get(&id))
}

/// The source account, if `id` names one of the caller's that can read.
fn check_source_account<'a>(
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

fn check_source_chat(
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

/// A destination that passed its own checks.
struct Target<'a> {
    /// `destinations[i]`
    field: String,
    account: &'a Account,
    chat_id: Option<String>,
}

/// Checks a destination list on its own (accounts, chat ids, count, repeats); `None` for
/// each entry that failed.
fn check_destinations<'a>(
    fields: &mut Fields,
    accounts: &'a Accounts,
    limits: &PlanLimits,
    list: &[DestinationRequest],
) -> Vec<Option<Target<'a>>> {
    let max = usize::try_from(limits.max_destinations_per_pair).unwrap_or(0);
    if list.is_empty() {
        fields.add("destinations", "needs at least one destination");
    } else if list.len() > max {
        let noun = if max == 1 {
            "destination"
        } else {
            "destinations"
        };
        fields.add(
            "destinations",
            format!(
                "the {} plan allows at most {max} {noun} per pair",
                plan_name(limits.plan)
            ),
        );
        return Vec::new();
    }
    let mut targets = Vec::with_capacity(list.len());
    let mut seen: HashMap<(AccountId, Option<String>), usize> = HashMap::new();
    for (i, d) in list.iter().enumerate() {
        let at = format!("destinations[{i}]");
        let account_field = format!("{at}.account_id");
        let chat_field = format!("{at}.chat_id");
        let Some(id) = fields.required(&account_field, &d.account_id) else {
            targets.push(None);
            continue;
        };
        let Some(account) = lookup(accounts, id) else {
            fields.add(&account_field, "is not one of your accounts");
            targets.push(None);
            continue;
        };
        let chat = match (names_chat(account.kind), present_value(&d.chat_id)) {
            (false, None) => Ok(None),
            (false, Some(_)) => Err(
                "must be left out: a Discord webhook always posts to its own channel".to_owned(),
            ),
            (true, None) => Err("is required".to_owned()),
            (true, Some(value)) => chat_id(account.kind, value)
                .map(Some)
                .map_err(str::to_owned),
        };
        let chat = match chat {
            Ok(chat) => chat,
            Err(why) => {
                fields.add(&chat_field, why);
                targets.push(None);
                continue;
            }
        };
        if let Some(first) = seen.insert((account.id, chat.clone()), i) {
            fields.add(&at, format!("is the same as destinations[{first}]"));
            targets.push(None);
            continue;
        }
        targets.push(Some(Target {
            field: at,
            account,
            chat_id: chat,
        }));
    }
    targets
}

const LOOP: &str = "would send back into the source chat";

/// Refuses destinations that are the source chat itself on the source's platform.
/// Returns the webhooks whose channel must be asked of Discord.
fn check_loops<'a, 'b>(
    fields: &mut Fields,
    source: &Account,
    source_chat: &str,
    targets: &'b [Option<Target<'a>>],
) -> Vec<&'b Target<'a>> {
    let mut webhooks = Vec::new();
    for target in targets.iter().flatten() {
        if platform(target.account.kind) != platform(source.kind) {
            continue;
        }
        match &target.chat_id {
            Some(chat) if chat == source_chat => {
                fields.add(&format!("{}.chat_id", target.field), LOOP);
            }
            Some(_) => {}
            None => webhooks.push(target),
        }
    }
    webhooks
}

/// Asks Discord which channel each webhook posts to, and refuses those that post into the
/// source channel.
async fn check_webhook_loops(
    state: &AppState,
    auth: &AuthUser,
    source_chat: &str,
    webhooks: &[&Target<'_>],
) -> Result<(), ApiError> {
    if webhooks.is_empty() {
        return Ok(());
    }
    limit_platform_checks(state, auth).await?;
    let rest = DiscordRest::new(&state.config.discord, None);
    let mut fields = Fields::default();
    for target in webhooks {
        let field = format!("{}.account_id", target.field);
        let hook_id: u64 = target
            .account
            .external_id
            .parse()
            .map_err(ApiError::internal)?;
        let token = state
            .db
            .account_secret(&state.keyring, auth.id(), target.account.id)
            .await?;
        let token = String::from_utf8(token).map_err(ApiError::internal)?;
        match rest.get_webhook(hook_id, &token).await {
            Ok(hook) => {
                if hook.channel_id.as_deref() == Some(source_chat) {
                    fields.add(
                        &field,
                        format!("{LOOP}: this webhook posts into channel {source_chat}"),
                    );
                }
            }
            Err(
                SendError::Unauthorized(_) | SendError::NotFound(_) | SendError::Rejected { .. },
            ) => fields.add(
                &field,
                "Discord no longer knows this webhook: connect it again",
            ),
            Err(SendError::RateLimited { retry_after, .. }) => {
                return Err(ApiError::TooManyRequests { retry_after });
            }
            Err(SendError::Transient(why) | SendError::Ambiguous(why)) => {
                return Err(ApiError::Unavailable(format!(
                    "Discord could not be reached to check the webhook's channel ({why}); try again"
                )));
            }
        }
    }
    fields.finish()
}

fn plan_limit(plan: PlanId, limit: i32) -> ApiError {
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
fn refused(err: StoreError, source_field: &str) -> ApiError {
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

fn new_destinations(targets: Vec<Option<Target<'_>>>) -> Vec<NewDestination> {
    targets
        .into_iter()
        .flatten()
        .map(|t| NewDestination {
            account_id: t.account.id,
            chat_id: t.chat_id,
        })
        .collect()
}

/// A malformed id names no pair of anyone's: 404, like another tenant's.
fn parse_id(id: &str) -> Result<PairId, ApiError> {
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

// ---- handlers ----

/// Create a forwarding pair.
#[utoipa::path(post, path = "/api/v1/pairs", tag = "pairs", security(("bearer" = [])),
    request_body = NewPairRequest, responses(
    (status = 201, description = "Created", body = PairView),
    (status = 403, description = "The plan's pair limit is reached (`plan_limit`)", body = crate::ErrorBody),
    (status = 422, description = "Invalid pair: field errors name what (`source.chat_id`, `destinations[1].account_id`, ...)", body = crate::ErrorBody),
    (status = 429, description = "Too many platform checks; see Retry-After", body = crate::ErrorBody),
    (status = 503, description = "Discord unreachable while checking a webhook's channel", body = crate::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    auth: AuthUser,
    Json(body): Json<NewPairRequest>,
) -> Result<(StatusCode, Json<PairView>), ApiError> {
    let owner = auth.id();
    let limits = state.db.plan_of(owner).await?;
    if state.db.count_pairs(owner).await? >= i64::from(limits.max_pairs) {
        return Err(plan_limit(limits.plan, limits.max_pairs));
    }
    let accounts = accounts_of(&state, owner).await?;
    let mut fields = Fields::default();
    let name = check_name(
        &mut fields,
        "name",
        body.name.as_deref().unwrap_or_default(),
    );
    let (source, source_chat) = match &body.source {
        Some(s) => {
            let account =
                check_source_account(&mut fields, "source.account_id", &accounts, &s.account_id);
            let chat = check_source_chat(&mut fields, "source.chat_id", account, &s.chat_id);
            (account, chat)
        }
        None => {
            fields.add("source", "is required");
            (None, None)
        }
    };
    let targets = match &body.destinations {
        Some(list) => check_destinations(&mut fields, &accounts, &limits, list),
        None => {
            fields.add("destinations", "is required");
            Vec::new()
        }
    };
    let (Some(source), Some(source_chat)) = (source, source_chat) else {
        return Err(fields
            .finish()
            .err()
            .unwrap_or_else(|| ApiError::field("source", "is invalid")));
    };
    let webhooks = check_loops(&mut fields, source, &source_chat, &targets);
    fields.finish()?;
    check_webhook_loops(&state, &auth, &source_chat, &webhooks).await?;

    let new = NewPair {
        name,
        source_account_id: source.id,
        source_chat_id: source_chat,
        destinations: new_destinations(targets),
    };
    let pair = state
        .db
        .create_pair(owner, &new)
        .await
        .map_err(|e| refused(e, "source.account_id"))?;
    tracing::info!(user = %owner, pair = %pair.id, "pair created");
    let view = present(&state, owner, pair, &accounts).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// The signed-in user's pairs, oldest first.
#[utoipa::path(get, path = "/api/v1/pairs", tag = "pairs", security(("bearer" = [])),
    responses((status = 200, description = "Pairs", body = [PairView])))]
pub async fn list(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<Json<Vec<PairView>>, ApiError> {
    let accounts = accounts_of(&state, auth.id()).await?;
    let pairs = state.db.pairs(auth.id()).await?;
    let mut views = Vec::with_capacity(pairs.len());
    for pair in pairs {
        match present(&state, auth.id(), pair, &accounts).await {
            Ok(v) => views.push(v),
            // Deleted with its account meanwhile.
            Err(ApiError::NotFound) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(Json(views))
}

/// One pair.
#[utoipa::path(get, path = "/api/v1/pairs/{id}", tag = "pairs", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, description = "The pair", body = PairView),
    (status = 404, description = "No such pair", body = crate::ErrorBody)))]
pub async fn get_one(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<PairView>, ApiError> {
    let id = parse_id(&id)?;
    let accounts = accounts_of(&state, auth.id()).await?;
    let pair = state.db.pair(auth.id(), id).await?;
    Ok(Json(present(&state, auth.id(), pair, &accounts).await?))
}

/// Change a pair: its name, source chat, destinations (replaced as a set) or whether it is
/// enabled. The result is checked like a new pair.
#[utoipa::path(patch, path = "/api/v1/pairs/{id}", tag = "pairs", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)), request_body = PairPatch,
    responses((status = 200, description = "The changed pair", body = PairView),
    (status = 404, description = "No such pair", body = crate::ErrorBody),
    (status = 422, description = "Invalid change; nothing was changed", body = crate::ErrorBody),
    (status = 429, description = "Too many platform checks; see Retry-After", body = crate::ErrorBody),
    (status = 503, description = "Discord unreachable while checking a webhook's channel", body = crate::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
    Json(body): Json<PairPatch>,
) -> Result<Json<PairView>, ApiError> {
    let owner = auth.id();
    let id = parse_id(&id)?;
    let accounts = accounts_of(&state, owner).await?;
    let current = state.db.pair(owner, id).await?;
    let mut fields = Fields::default();
    let name = body
        .name
        .as_deref()
        .map(|n| check_name(&mut fields, "name", n));
    let source = accounts
        .get(&current.source_account_id)
        .ok_or(ApiError::NotFound)?;
    let source_chat = match present_value(&body.source_chat_id) {
        Some(_) => check_source_chat(
            &mut fields,
            "source_chat_id",
            Some(source),
            &body.source_chat_id,
        ),
        None => None,
    };
    let (targets, destinations) = match &body.destinations {
        Some(list) => {
            let limits = state.db.plan_of(owner).await?;
            (
                check_destinations(&mut fields, &accounts, &limits, list),
                true,
            )
        }
        None => {
            // The current destinations, for the loop check against a new source chat.
            let targets = current
                .destinations
                .iter()
                .enumerate()
                .map(|(i, d)| {
                    accounts.get(&d.account_id).map(|account| Target {
                        field: format!("destinations[{i}]"),
                        account,
                        chat_id: d.chat_id.clone(),
                    })
                })
                .collect();
            (targets, false)
        }
    };
    let mut webhooks = Vec::new();
    if source_chat.is_some() || destinations {
        let chat = source_chat.as_deref().unwrap_or(&current.source_chat_id);
        let mut loops = Fields::default();
        webhooks = check_loops(&mut loops, source, chat, &targets);
        if let Err(ApiError::Validation(errors)) = loops.finish() {
            merge(&mut fields, errors, !destinations);
        }
    }
    fields.finish()?;
    let chat = source_chat.as_deref().unwrap_or(&current.source_chat_id);
    match check_webhook_loops(&state, &auth, chat, &webhooks).await {
        Ok(()) => {}
        Err(ApiError::Validation(errors)) => {
            let mut fields = Fields::default();
            merge(&mut fields, errors, !destinations);
            fields.finish()?;
        }
        Err(e) => return Err(e),
    }
    let changes = PairChanges {
        name,
        source_chat_id: source_chat,
        destinations: destinations.then(|| new_destinations(targets)),
        enabled: body.enabled,
    };
    let pair = state
        .db
        .update_pair(owner, id, &changes)
        .await
        .map_err(|e| refused(e, "source_chat_id"))?;
    tracing::info!(user = %owner, pair = %id, "pair changed");
    Ok(Json(present(&state, owner, pair, &accounts).await?))
}

/// Adds `errors` to `fields`; with `onto_source`, under `source_chat_id` (a new source chat
/// that a destination the request did not name already posts into), naming the destination.
fn merge(fields: &mut Fields, errors: crate::FieldErrors, onto_source: bool) {
    for (field, messages) in errors {
        for m in messages {
            if onto_source {
                let destination = field.split('.').next().unwrap_or_default();
                fields.add("source_chat_id", format!("{m} ({destination})"));
            } else {
                fields.add(&field, m);
            }
        }
    }
}

/// Delete a pair, with its pending deliveries and its message map.
#[utoipa::path(delete, path = "/api/v1/pairs/{id}", tag = "pairs", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 204, description = "Deleted"),
    (status = 404, description = "No such pair", body = crate::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(&id)?;
    state.db.delete_pair(auth.id(), id).await?;
    tracing::info!(user = %auth.id(), pair = %id, "pair deleted");
    Ok(StatusCode::NO_CONTENT)
}

async fn set_paused(
    state: &AppState,
    auth: &AuthUser,
    id: &str,
    paused: bool,
) -> Result<Json<PairView>, ApiError> {
    let id = parse_id(id)?;
    let accounts = accounts_of(state, auth.id()).await?;
    let pair = state.db.set_pair_paused(auth.id(), id, paused).await?;
    tracing::info!(user = %auth.id(), pair = %id, paused, "pair paused or resumed");
    Ok(Json(present(state, auth.id(), pair, &accounts).await?))
}

/// Pause a pair: nothing is forwarded until it is resumed. Pausing a paused pair keeps
/// its `paused_at`.
#[utoipa::path(post, path = "/api/v1/pairs/{id}/pause", tag = "pairs", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, description = "The paused pair", body = PairView),
    (status = 404, description = "No such pair", body = crate::ErrorBody)))]
pub async fn pause(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<PairView>, ApiError> {
    set_paused(&state, &auth, &id, true).await
}

/// Resume a paused pair.
#[utoipa::path(post, path = "/api/v1/pairs/{id}/resume", tag = "pairs", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, description = "The running pair", body = PairView),
    (status = 404, description = "No such pair", body = crate::ErrorBody)))]
pub async fn resume(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<PairView>, ApiError> {
    set_paused(&state, &auth, &id, false).await
}

/// The pair's deliveries that were given up on after their retries, newest first.
#[utoipa::path(get, path = "/api/v1/pairs/{id}/failures", tag = "pairs", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid),
        ("limit" = Option<i64>, Query, description = "1 to 500, default 100")),
    responses((status = 200, description = "Failed deliveries", body = [FailureView]),
    (status = 404, description = "No such pair", body = crate::ErrorBody),
    (status = 422, description = "Invalid limit", body = crate::ErrorBody)))]
pub async fn failures(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
    Query(query): Query<LimitQuery>,
) -> Result<Json<Vec<FailureView>>, ApiError> {
    let id = parse_id(&id)?;
    let limit = parse_limit(&query)?;
    // 404 for another user's pair, not an empty list.
    state.db.pair(auth.id(), id).await?;
    let failed = state
        .db
        .failed_deliveries(auth.id(), Some(id), limit)
        .await?;
    Ok(Json(failed.into_iter().map(FailureView::from).collect()))
}
