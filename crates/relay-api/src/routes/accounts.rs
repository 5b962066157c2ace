//! Connected platform accounts. Adding a Discord bot checks its token with Discord
//! (`GET /users/@me`); adding a webhook accepts only Discord webhook URLs and checks them.
//! Tokens are sealed at rest and never returned.

use super::Fields;
use crate::auth::AuthUser;
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use relay_core::messages::SendError;
use relay_core::{AccountId, AccountKind, AccountState};
use relay_discord::{DiscordRest, WebhookTarget};
use relay_store::{Account, NewAccount};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountView {
    #[schema(value_type = String, format = Uuid)]
    pub id: AccountId,
    /// `telegram_user`, `telegram_bot`, `discord_bot` or `discord_webhook`.
    #[schema(value_type = String)]
    pub kind: AccountKind,
    pub display_name: String,
    /// The platform's id: the bot's user id, the webhook id, the Telegram user id.
    pub external_id: String,
    /// `pending`, `connected`, `reconnecting`, `flood_wait`, `unauthorized`, `revoked` or `disabled`.
    #[schema(value_type = String)]
    pub state: AccountState,
    pub state_until: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<Account> for AccountView {
    fn from(a: Account) -> Self {
        Self {
            id: a.id,
            kind: a.kind,
            display_name: a.display_name,
            external_id: a.external_id,
            state: a.state,
            state_until: a.state_until,
            last_error: a.last_error,
            created_at: a.created_at,
        }
    }
}

// No `Debug`: it holds secrets.
#[derive(Deserialize, ToSchema)]
pub struct NewDiscordAccount {
    /// `bot` or `webhook`.
    pub kind: Option<String>,
    /// The bot token, for `bot`.
    pub token: Option<String>,
    /// The webhook URL (https://discord.com/api/webhooks/{id}/{token}), for `webhook`.
    pub url: Option<String>,
}

/// A chat an account can read or post in; `id` is what a pair's `chat_id` takes.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChatView {
    pub id: String,
    pub name: String,
    /// The server (guild) it belongs to, when there is one.
    pub guild_id: Option<String>,
    pub guild_name: Option<String>,
    /// Telegram chats: `private`, `group` (a basic group), `supergroup`, `channel` or
    /// `forum` (a supergroup with topics; `{id}/{topic id}` names one topic).
    pub kind: Option<String>,
    /// Telegram chats: when the account last saw it (a bot, in an update) or listed it (a
    /// user session, in its dialogs).
    pub seen_at: Option<DateTime<Utc>>,
}

impl ChatView {
    fn telegram((chat, seen_at): (relay_core::chats::SeenChat, DateTime<Utc>)) -> Self {
        Self {
            id: chat.chat_id,
            name: chat.title,
            guild_id: None,
            guild_name: None,
            kind: Some(chat.kind.as_str().to_owned()),
            seen_at: Some(seen_at),
        }
    }
}

/// Checks against Discord or Telegram per user and minute: each costs a request to the
/// platform, and a flood of invalid ones could get Relay's address banned for every tenant.
const PLATFORM_CHECKS: relay_queue::LimitRule = relay_queue::LimitRule {
    max: 30,
    window: std::time::Duration::from_secs(60),
};

pub(crate) async fn limit_platform_checks(
    state: &AppState,
    auth: &AuthUser,
) -> Result<(), ApiError> {
    state
        .auth
        .enforce(&format!("platform-checks:{}", auth.id()), PLATFORM_CHECKS)
        .await
}

/// The platform's answer, as the user should hear it.
fn platform_failure(err: SendError, field: &str, refused: &str, platform: &str) -> ApiError {
    match err {
        SendError::Unauthorized(_) | SendError::NotFound(_) | SendError::Rejected { .. } => {
            ApiError::field(field, refused)
        }
        SendError::RateLimited { retry_after, .. } => ApiError::TooManyRequests { retry_after },
        // Checks only read, so an unanswered one is as good as a failed one.
        SendError::Transient(why) | SendError::Ambiguous(why) => ApiError::Unavailable(format!(
            "{platform} could not be reached to check this ({why}); try again"
        )),
    }
}

/// Connect a Discord bot (by token) or webhook (by URL).
#[utoipa::path(post, path = "/api/v1/accounts/discord", tag = "accounts", security(("bearer" = [])),
    request_body = NewDiscordAccount, responses(
    (status = 201, description = "Connected", body = AccountView),
    (status = 403, description = "The plan's account limit is reached (`plan_limit`, naming `max_accounts` and the plan to upgrade to)", body = crate::ErrorBody),
    (status = 409, description = "Already connected", body = crate::ErrorBody),
    (status = 422, description = "Invalid token or URL", body = crate::ErrorBody),
    (status = 429, description = "Too many platform checks; see Retry-After", body = crate::ErrorBody),
    (status = 503, description = "Discord unreachable", body = crate::ErrorBody)))]
pub async fn add_discord(
    State(state): State<AppState>,
    auth: AuthUser,
    Json(body): Json<NewDiscordAccount>,
) -> Result<(StatusCode, Json<AccountView>), ApiError> {
    limit_platform_checks(&state, &auth).await?;
    check_account_limit(&state, &auth).await?;
    let mut fields = Fields::default();
    let kind = fields
        .required("kind", &body.kind)
        .unwrap_or_default()
        .to_owned();
    fields.finish()?;
    let endpoints = &state.config.discord;
    let (kind, name, external, secret) = match kind.as_str() {
        "bot" => {
            let mut fields = Fields::default();
            let token = fields
                .required("token", &body.token)
                .unwrap_or_default()
                .trim()
                .to_owned();
            if let Err(why) = relay_discord::platform::check_bot_token(&token) {
                fields.add("token", why);
            }
            fields.finish()?;
            let user = DiscordRest::new(endpoints, Some(&token))
                .current_user()
                .await
                .map_err(|e| {
                    platform_failure(
                        e,
                        "token",
                        "Discord did not accept this bot token",
                        "Discord",
                    )
                })?;
            (
                AccountKind::DiscordBot,
                user.name,
                user.id.to_string(),
                token,
            )
        }
        "webhook" => {
            let mut fields = Fields::default();
            let url = fields
                .required("url", &body.url)
                .unwrap_or_default()
                .to_owned();
            fields.finish()?;
            let target = WebhookTarget::parse(&url).map_err(|why| ApiError::field("url", why))?;
            let hook = DiscordRest::new(endpoints, None)
                .get_webhook(target.id, &target.token)
                .await
                .map_err(|e| {
                    platform_failure(e, "url", "Discord does not know this webhook", "Discord")
                })?;
            let name = hook
                .name
                .unwrap_or_else(|| format!("webhook {}", target.id));
            (
                AccountKind::DiscordWebhook,
                name,
                target.id.to_string(),
                target.token,
            )
        }
        _ => return Err(ApiError::field("kind", "must be bot or webhook")),
    };
    let new = NewAccount {
        owner_id: auth.id(),
        kind,
        display_name: &name,
        external_id: &external,
        secret: Some(secret.as_bytes()),
        state: AccountState::Connected,
    };
    create(&state, &auth, &new).await
}

// No `Debug`: it holds secrets.
#[derive(Deserialize, ToSchema)]
pub struct NewTelegramAccount {
    /// `bot` (user sessions connect through the login flow).
    pub kind: Option<String>,
    /// The bot token from @BotFather, for `bot`.
    pub token: Option<String>,
}

/// Connect a Telegram bot by its token (checked with the Bot API's getMe).
#[utoipa::path(post, path = "/api/v1/accounts/telegram", tag = "accounts", security(("bearer" = [])),
    request_body = NewTelegramAccount, responses(
    (status = 201, description = "Connected", body = AccountView),
    (status = 403, description = "The plan's account limit is reached (`plan_limit`, naming `max_accounts` and the plan to upgrade to)", body = crate::ErrorBody),
    (status = 409, description = "Already connected", body = crate::ErrorBody),
    (status = 422, description = "Invalid token", body = crate::ErrorBody),
    (status = 429, description = "Too many platform checks; see Retry-After", body = crate::ErrorBody),
    (status = 503, description = "The Bot API is unreachable", body = crate::ErrorBody)))]
pub async fn add_telegram(
    State(state): State<AppState>,
    auth: AuthUser,
    Json(body): Json<NewTelegramAccount>,
) -> Result<(StatusCode, Json<AccountView>), ApiError> {
    limit_platform_checks(&state, &auth).await?;
    let mut fields = Fields::default();
    let kind = fields
        .required("kind", &body.kind)
        .unwrap_or_default()
        .to_owned();
    fields.finish()?;
    match kind.as_str() {
        "bot" => {}
        "user" => {
            return Err(ApiError::field(
                "kind",
                "Telegram user accounts connect through the login flow: POST /api/v1/accounts/telegram/login with {\"phone\"}",
            ));
        }
        _ => return Err(ApiError::field("kind", "must be bot")),
    }
    let mut fields = Fields::default();
    let token = fields
        .required("token", &body.token)
        .unwrap_or_default()
        .trim()
        .to_owned();
    if !token.is_empty()
        && let Err(why) = relay_telegram::platform::check_bot_token(&token)
    {
        fields.add("token", why);
    }
    fields.finish()?;
    let bot = relay_telegram::TelegramBot::new(&token, &state.config.telegram_bot_api_url)
        .map_err(ApiError::Unavailable)?;
    let (id, name) = bot.me().await.map_err(|e| {
        platform_failure(
            e,
            "token",
            "Telegram did not accept this bot token",
            "Telegram",
        )
    })?;
    let new = NewAccount {
        owner_id: auth.id(),
        kind: AccountKind::TelegramBot,
        display_name: &name,
        external_id: &id.to_string(),
        secret: Some(token.as_bytes()),
        state: AccountState::Connected,
    };
    create(&state, &auth, &new).await
}

async fn create(
    state: &AppState,
    auth: &AuthUser,
    new: &NewAccount<'_>,
) -> Result<(StatusCode, Json<AccountView>), ApiError> {
    check_account_limit(state, auth).await?;
    let account = state
        .db
        .create_account(&state.keyring, new)
        .await
        .map_err(|e| match e {
            relay_store::StoreError::Duplicate(_) => ApiError::Conflict {
                message: "this account is already connected".into(),
                fields: Default::default(),
            },
            other => other.into(),
        })?;
    tracing::info!(user = %auth.id(), account = %account.id, kind = %account.kind, "account connected");
    Ok((StatusCode::CREATED, Json(account.into())))
}

/// Refuses a new account over the plan's `max_accounts` (before any platform is asked).
pub(crate) async fn check_account_limit(state: &AppState, auth: &AuthUser) -> Result<(), ApiError> {
    let gate = crate::gate::Gate::of(state, auth.id()).await?;
    let connected = state
        .db
        .usage(auth.id(), chrono::Utc::now().date_naive())
        .await?
        .accounts;
    gate.limit(crate::gate::Limit::Accounts, connected + 1)
}

/// The signed-in user's accounts.
#[utoipa::path(get, path = "/api/v1/accounts", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, description = "Accounts", body = [AccountView])))]
pub async fn list(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<Json<Vec<AccountView>>, ApiError> {
    let accounts = state.db.accounts(auth.id()).await?;
    Ok(Json(accounts.into_iter().map(AccountView::from).collect()))
}

/// One account.
#[utoipa::path(get, path = "/api/v1/accounts/{id}", tag = "accounts", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, description = "The account", body = AccountView),
    (status = 404, description = "No such account", body = crate::ErrorBody)))]
pub async fn get_one(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<AccountView>, ApiError> {
    let id = parse_id(&id)?;
    Ok(Json(state.db.account(auth.id(), id).await?.into()))
}

/// Disconnect an account; its secret is deleted with it.
#[utoipa::path(delete, path = "/api/v1/accounts/{id}", tag = "accounts", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 204, description = "Deleted"), (status = 404, description = "No such account", body = crate::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(&id)?;
    let account = state.db.account(auth.id(), id).await?;
    if account.kind == AccountKind::TelegramUser
        && let Some(config) = &state.config.telegram_user
    {
        // Relay's session ends at Telegram too, not only in Relay's database.
        let store = relay_store::PgSessionStore::new(state.db.clone(), state.keyring.clone());
        match relay_telegram::user::UserSession::load(std::sync::Arc::new(store), id).await {
            Ok(session) => {
                if let Err(e) = relay_telegram::user::login::log_out(config, session).await {
                    tracing::info!(account = %id, error = %e, "Telegram log-out failed; deleting anyway");
                }
            }
            Err(e) => tracing::info!(account = %id, error = %e, "no session to log out"),
        }
    }
    state.db.delete_account(auth.id(), id).await?;
    tracing::info!(user = %auth.id(), account = %id, "account deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// The chats an account can pick for a pair: for a Discord bot, the text channels of its
/// servers; for a webhook, its channel; for a Telegram user session, its dialogs (as the
/// worker driving the session last listed them: when it connected, and at each health
/// check); for a Telegram bot, the chats it has seen in its updates (the Bot API cannot
/// list a bot's chats: post a message in a chat, or add the bot to it, and it appears).
/// Telegram ids are Bot API dialog ids (`-100…` for channels and supergroups).
#[utoipa::path(get, path = "/api/v1/accounts/{id}/chats", tag = "accounts", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, description = "Chats", body = [ChatView]),
    (status = 404, description = "No such account", body = crate::ErrorBody),
    (status = 409, description = "The Telegram session is unauthorized or revoked; reconnect it", body = crate::ErrorBody),
    (status = 429, description = "Too many platform checks; see Retry-After", body = crate::ErrorBody),
    (status = 503, description = "The platform is unreachable, or a Telegram session's chats are not known yet", body = crate::ErrorBody)))]
pub async fn chats(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<Vec<ChatView>>, ApiError> {
    let id = parse_id(&id)?;
    let account = state.db.account(auth.id(), id).await?;
    match account.kind {
        AccountKind::TelegramUser | AccountKind::TelegramBot => {
            telegram_chats(&state, &auth, &account).await.map(Json)
        }
        AccountKind::DiscordBot | AccountKind::DiscordWebhook => {
            discord_chats(&state, &auth, &account).await.map(Json)
        }
    }
}

/// A Discord bot's text channels, or a webhook's channel, asked of Discord.
async fn discord_chats(
    state: &AppState,
    auth: &AuthUser,
    account: &Account,
) -> Result<Vec<ChatView>, ApiError> {
    limit_platform_checks(state, auth).await?;
    let secret = state
        .db
        .account_secret(&state.keyring, auth.id(), account.id)
        .await?;
    let secret = String::from_utf8(secret).map_err(ApiError::internal)?;
    let endpoints = &state.config.discord;
    let refused = "the platform no longer accepts this account's credentials";
    match account.kind {
        AccountKind::DiscordBot => {
            let rest = DiscordRest::new(endpoints, Some(&secret));
            let guilds = rest
                .guilds()
                .await
                .map_err(|e| platform_failure(e, "account", refused, "Discord"))?;
            let mut chats = Vec::new();
            for guild in guilds {
                let channels = rest
                    .guild_channels(&guild.id)
                    .await
                    .map_err(|e| platform_failure(e, "account", refused, "Discord"))?;
                chats.extend(
                    channels
                        .into_iter()
                        .filter(|c| relay_discord::platform::takes_messages(c.kind))
                        .map(|c| ChatView {
                            name: c.name.unwrap_or_default(),
                            id: c.id,
                            guild_id: Some(guild.id.clone()),
                            guild_name: Some(guild.name.clone()),
                            kind: None,
                            seen_at: None,
                        }),
                );
            }
            Ok(chats)
        }
        AccountKind::DiscordWebhook => {
            let hook_id: u64 = account.external_id.parse().map_err(ApiError::internal)?;
            let hook = DiscordRest::new(endpoints, None)
                .get_webhook(hook_id, &secret)
                .await
                .map_err(|e| platform_failure(e, "account", refused, "Discord"))?;
            Ok(vec![ChatView {
                id: hook.channel_id.unwrap_or_default(),
                name: hook.name.unwrap_or_default(),
                guild_id: hook.guild_id,
                guild_name: None,
                kind: None,
                seen_at: None,
            }])
        }
        AccountKind::TelegramBot | AccountKind::TelegramUser => {
            Err(ApiError::field("account", "is not a Discord account"))
        }
    }
}

/// A Telegram account's chats, from what the worker driving it recorded: a user session's
/// dialogs (listed when the session starts and at each health check; the API never opens
/// a session itself, since two processes on one session get it revoked) or the chats a bot
/// has seen in its updates (the Bot API cannot list them).
async fn telegram_chats(
    state: &AppState,
    auth: &AuthUser,
    account: &Account,
) -> Result<Vec<ChatView>, ApiError> {
    let known = state.db.known_chats(auth.id(), account.id).await?;
    let chats = known.chats.into_iter().map(ChatView::telegram).collect();
    if account.kind == AccountKind::TelegramBot {
        return Ok(chats);
    }
    if matches!(
        account.state,
        AccountState::Unauthorized | AccountState::Revoked | AccountState::Disabled
    ) {
        return Err(ApiError::Conflict {
            message: format!(
                "the Telegram session is {}, so its chats cannot be listed; reconnect the account",
                account.state
            ),
            fields: Default::default(),
        });
    }
    if known.listed_at.is_none() {
        return Err(ApiError::Unavailable(
            "the session's chats are not known yet: they are listed as soon as the session \
             connects; try again in a moment"
                .into(),
        ));
    }
    Ok(chats)
}

/// A malformed id names no account of anyone's: 404, like another tenant's.
fn parse_id(id: &str) -> Result<AccountId, ApiError> {
    id.parse().map_err(|_| ApiError::NotFound)
}
