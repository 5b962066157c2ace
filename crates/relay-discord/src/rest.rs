//! Discord REST v10 over reqwest, with twilight-model types for what comes back. Every call
//! goes through the bot's global limiter (50/s); a 429 comes back as
//! `SendError::RateLimited` with Discord's `retry_after` and scope, other failures as the
//! matching `SendError`. A webhook execution (no idempotency key) that went out and got no
//! answer is `SendError::Ambiguous`; a connect failure (nothing sent) stays transient.

use crate::global_limit::GlobalLimit;
use crate::webhook_name::webhook_username;
use relay_core::format::{DiscordOptions, to_discord_markdown};
use relay_core::messages::{EmbedPart, LimitScope, OutgoingMessage, SendError};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use twilight_model::channel::Message;
use twilight_model::user::CurrentUser;

/// Where Discord is: the real one by default, the fake in tests and demos.
#[derive(Debug, Clone)]
pub struct DiscordEndpoints {
    /// Base URL without `/api/v10`, e.g. `https://discord.com`.
    pub api_url: String,
    /// Gateway URL, e.g. `wss://gateway.discord.gg`.
    pub gateway_url: String,
}

impl Default for DiscordEndpoints {
    fn default() -> Self {
        Self {
            api_url: "https://discord.com".into(),
            gateway_url: "wss://gateway.discord.gg".into(),
        }
    }
}

const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// Shorter than the request timeout, so a connection that never opens is a connect error
/// (nothing was sent) and not a request timeout (which may come after sending).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Whether a request that went out unanswered may be sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resend {
    /// Reads, edits, deletes, and bot messages (Discord drops a repeated nonce).
    Safe,
    /// Webhook messages: a second request may post a second message.
    Unsafe,
}
pub const GLOBAL_REQUESTS_PER_SEC: u32 = 50;

static GLOBAL_LIMIT_ON: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// Turns Relay's own keeping to Discord's global 50 requests/s per bot off (or back on)
/// for this process: only for benchmarks against the fake, which can turn its limit off too.
pub fn set_global_limit(on: bool) {
    GLOBAL_LIMIT_ON.store(on, std::sync::atomic::Ordering::Relaxed);
}

/// A guild the bot is in.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct GuildInfo {
    pub id: String,
    pub name: String,
}

/// A channel of a guild.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct ChannelInfo {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: u8,
    pub name: Option<String>,
}

/// A webhook as Discord describes it.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct WebhookInfo {
    pub id: String,
    pub name: Option<String>,
    pub channel_id: Option<String>,
    pub guild_id: Option<String>,
}

/// One bot token's (or the webhooks') view of Discord.
#[derive(Clone)]
pub struct DiscordRest {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
    limit: Arc<GlobalLimit>,
}

impl std::fmt::Debug for DiscordRest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiscordRest")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl DiscordRest {
    /// A client for one bot token (`None` for webhook-only use).
    pub fn new(endpoints: &DiscordEndpoints, token: Option<&str>) -> Self {
        crate::install_crypto_provider();
        Self {
            http: http_client(REQUEST_TIMEOUT),
            base: format!("{}/api/v10", endpoints.api_url.trim_end_matches('/')),
            token: token.map(|t| t.trim().trim_start_matches("Bot ").to_owned()),
            limit: shared_limit(token),
        }
    }

    /// The same client with another limit on each request (tests use a short one).
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.http = http_client(timeout);
        self
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let req = self.http.request(method, format!("{}/{path}", self.base));
        match &self.token {
            Some(token) if !path.starts_with("webhooks/") => {
                req.header("authorization", format!("Bot {token}"))
            }
            _ => req,
        }
    }

    async fn send_raw(&self, req: RequestBuilder) -> Result<reqwest::Response, SendError> {
        self.send_raw_as(req, Resend::Safe).await
    }

    async fn send_raw_as(
        &self,
        req: RequestBuilder,
        resend: Resend,
    ) -> Result<reqwest::Response, SendError> {
        if GLOBAL_LIMIT_ON.load(std::sync::atomic::Ordering::Relaxed) {
            self.limit.acquire().await;
        }
        let res = req.send().await.map_err(|e| {
            if resend == Resend::Unsafe && e.is_timeout() && !e.is_connect() {
                SendError::Ambiguous(
                    "Discord did not answer in time after the webhook message was sent".into(),
                )
            } else {
                SendError::Transient(transport_error(&e))
            }
        })?;
        if res.status().is_success() {
            return Ok(res);
        }
        Err(error_from(res).await)
    }

    async fn call<T: DeserializeOwned>(&self, req: RequestBuilder) -> Result<T, SendError> {
        self.call_as(req, Resend::Safe).await
    }

    async fn call_as<T: DeserializeOwned>(
        &self,
        req: RequestBuilder,
        resend: Resend,
    ) -> Result<T, SendError> {
        let res = self.send_raw_as(req, resend).await?;
        res.json::<T>().await.map_err(|e| match resend {
            // Accepted (2xx), but without the message's id Relay cannot follow it.
            Resend::Unsafe => SendError::Ambiguous(format!(
                "Discord accepted the message but its answer was cut short: {e}"
            )),
            Resend::Safe => SendError::Transient(format!("unexpected answer from Discord: {e}")),
        })
    }

    /// The bot behind the token (how a token is validated).
    pub async fn current_user(&self) -> Result<CurrentUser, SendError> {
        self.call(self.request(Method::GET, "users/@me")).await
    }

    pub async fn guilds(&self) -> Result<Vec<GuildInfo>, SendError> {
        self.call(self.request(Method::GET, "users/@me/guilds"))
            .await
    }

    pub async fn guild_channels(&self, guild_id: &str) -> Result<Vec<ChannelInfo>, SendError> {
        self.call(self.request(Method::GET, &format!("guilds/{guild_id}/channels")))
            .await
    }

    /// Messages after `after` (oldest first), up to 100.
    pub async fn messages_after(
        &self,
        channel_id: u64,
        after: u64,
        limit: u8,
    ) -> Result<Vec<Message>, SendError> {
        let path = format!(
            "channels/{channel_id}/messages?after={after}&limit={}",
            limit.clamp(1, 100)
        );
        let mut page: Vec<Message> = self.call(self.request(Method::GET, &path)).await?;
        page.sort_by_key(|m| m.id);
        Ok(page)
    }

    /// Creates a message; `nonce` (at most 25 characters) with `enforce_nonce` makes a retry
    /// return the first message instead of posting a second one.
    pub async fn create_message(
        &self,
        channel_id: &str,
        message: &OutgoingMessage,
        nonce: &str,
    ) -> Result<Message, SendError> {
        let mut payload = message_payload(message);
        payload["nonce"] = json!(nonce.chars().take(25).collect::<String>());
        payload["enforce_nonce"] = json!(true);
        if let Some(reply) = &message.reply_to {
            payload["message_reference"] =
                json!({"message_id": reply, "fail_if_not_exists": false});
        }
        let req = self.request(Method::POST, &format!("channels/{channel_id}/messages"));
        self.call(with_body(req, payload, message)).await
    }

    pub async fn edit_message(
        &self,
        channel_id: &str,
        message_id: &str,
        message: &OutgoingMessage,
    ) -> Result<Message, SendError> {
        self.patch_message(
            &format!("channels/{channel_id}/messages/{message_id}"),
            message,
        )
        .await
    }

    /// Replaces a message's text and embeds (bots and webhooks alike).
    async fn patch_message(
        &self,
        path: &str,
        message: &OutgoingMessage,
    ) -> Result<Message, SendError> {
        let payload = json!({"content": content(message), "embeds": embeds(&message.embeds)});
        self.call(self.request(Method::PATCH, path).json(&payload))
            .await
    }

    pub async fn delete_message(
        &self,
        channel_id: &str,
        message_id: &str,
    ) -> Result<(), SendError> {
        self.send_raw(self.request(
            Method::DELETE,
            &format!("channels/{channel_id}/messages/{message_id}"),
        ))
        .await
        .map(drop)
    }

    pub async fn get_webhook(&self, id: u64, token: &str) -> Result<WebhookInfo, SendError> {
        self.call(self.request(Method::GET, &format!("webhooks/{id}/{token}")))
            .await
    }

    /// Executes a webhook with `wait=true`, so the message id comes back and failures show.
    pub async fn execute_webhook(
        &self,
        id: u64,
        token: &str,
        message: &OutgoingMessage,
    ) -> Result<Message, SendError> {
        self.execute_webhook_in(id, token, None, message).await
    }

    /// [`Self::execute_webhook`] into a thread of the webhook's channel (`?thread_id=`), or
    /// the channel itself with `None`.
    pub async fn execute_webhook_in(
        &self,
        id: u64,
        token: &str,
        thread: Option<&str>,
        message: &OutgoingMessage,
    ) -> Result<Message, SendError> {
        let mut payload = message_payload(message);
        if let Some(author) = &message.author {
            payload["username"] = json!(webhook_username(&author.name));
            if let Some(avatar) = &author.avatar_url {
                payload["avatar_url"] = json!(avatar);
            }
        }
        let req = self.request(
            Method::POST,
            &format!(
                "webhooks/{id}/{token}?wait=true{}",
                thread_query(thread, '&')
            ),
        );
        self.call_as(with_body(req, payload, message), Resend::Unsafe)
            .await
    }

    pub async fn edit_webhook_message(
        &self,
        id: u64,
        token: &str,
        message_id: &str,
        message: &OutgoingMessage,
    ) -> Result<Message, SendError> {
        self.edit_webhook_message_in(id, token, None, message_id, message)
            .await
    }

    /// Edits a webhook's message in a thread of its channel (`None`: the channel itself).
    pub async fn edit_webhook_message_in(
        &self,
        id: u64,
        token: &str,
        thread: Option<&str>,
        message_id: &str,
        message: &OutgoingMessage,
    ) -> Result<Message, SendError> {
        self.patch_message(
            &format!(
                "webhooks/{id}/{token}/messages/{message_id}{}",
                thread_query(thread, '?')
            ),
            message,
        )
        .await
    }

    pub async fn delete_webhook_message(
        &self,
        id: u64,
        token: &str,
        message_id: &str,
    ) -> Result<(), SendError> {
        self.delete_webhook_message_in(id, token, None, message_id)
            .await
    }

    /// Deletes a webhook's message in a thread of its channel (`None`: the channel itself).
    pub async fn delete_webhook_message_in(
        &self,
        id: u64,
        token: &str,
        thread: Option<&str>,
        message_id: &str,
    ) -> Result<(), SendError> {
        self.send_raw(self.request(
            Method::DELETE,
            &format!(
                "webhooks/{id}/{token}/messages/{message_id}{}",
                thread_query(thread, '?')
            ),
        ))
        .await
        .map(drop)
    }
}

/// `thread_id={thread}` after `sep`, or nothing; only a snowflake is sent.
fn thread_query(thread: Option<&str>, sep: char) -> String {
    match thread {
        Some(t) if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) => {
            format!("{sep}thread_id={t}")
        }
        _ => String::new(),
    }
}

/// One global limiter per bot token in this process, however many clients use the token
/// (the API checking a bot's channels and the worker sending through it count together).
/// Webhook-only clients share one limiter of their own.
fn shared_limit(token: Option<&str>) -> Arc<GlobalLimit> {
    static LIMITS: OnceLock<Mutex<HashMap<String, Arc<GlobalLimit>>>> = OnceLock::new();
    let key = token
        .map(|t| t.trim().trim_start_matches("Bot ").to_owned())
        .unwrap_or_default();
    let mut limits = LIMITS
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    limits
        .entry(key)
        .or_insert_with(|| Arc::new(GlobalLimit::new(GLOBAL_REQUESTS_PER_SEC)))
        .clone()
}

fn embeds(parts: &[EmbedPart]) -> Vec<Value> {
    parts
        .iter()
        .map(|e| json!({"type": "rich", "title": e.title, "description": e.description, "url": e.url, "color": e.color}))
        .collect()
}

/// The text as Discord markdown: styles as markers, literal text escaped, mentions and
/// custom emoji as readable text (not live: Relay does not know the destination is the
/// same Discord, and `allowed_mentions` would not ping anyway).
fn content(message: &OutgoingMessage) -> String {
    to_discord_markdown(&message.text, &DiscordOptions::default())
}

fn message_payload(message: &OutgoingMessage) -> Value {
    json!({
        "content": content(message),
        "embeds": embeds(&message.embeds),
        "allowed_mentions": {"parse": []},
    })
}

/// JSON, or multipart with `payload_json` and `files[n]` when there are files.
fn with_body(req: RequestBuilder, mut payload: Value, message: &OutgoingMessage) -> RequestBuilder {
    if message.files.is_empty() {
        return req.json(&payload);
    }
    payload["attachments"] = Value::Array(
        message
            .files
            .iter()
            .enumerate()
            .map(|(i, f)| json!({"id": i, "filename": f.filename}))
            .collect(),
    );
    let mut form = reqwest::multipart::Form::new().part(
        "payload_json",
        reqwest::multipart::Part::text(payload.to_string())
            .mime_str("application/json")
            .unwrap_or_else(|_| reqwest::multipart::Part::text("{}")),
    );
    for (i, file) in message.files.iter().enumerate() {
        form = form.part(
            format!("files[{i}]"),
            reqwest::multipart::Part::bytes(file.bytes.clone()).file_name(file.filename.clone()),
        );
    }
    req.multipart(form)
}

fn http_client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(CONNECT_TIMEOUT.min(timeout))
        .user_agent("DiscordBot (https://github.com/relay, 0.1) Relay")
        .build()
        .unwrap_or_default()
}

fn transport_error(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "Discord did not answer in time".into()
    } else if e.is_connect() {
        "cannot reach Discord".into()
    } else {
        let mut text = e.to_string();
        if let Some(url) = e.url() {
            text = text.replace(url.as_str(), "[url]");
        }
        format!("request to Discord failed: {text}")
    }
}

/// Turns a non-2xx answer into the error the queue acts on.
async fn error_from(res: reqwest::Response) -> SendError {
    let status = res.status();
    let headers = res.headers().clone();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    let code = body["code"]
        .as_u64()
        .map(|c| c.to_string())
        .unwrap_or_else(|| status.as_u16().to_string());
    let message = body["message"]
        .as_str()
        .unwrap_or("Discord refused the request")
        .to_owned();
    match status {
        StatusCode::TOO_MANY_REQUESTS => {
            let from_body = body["retry_after"].as_f64();
            let from_header = headers
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<f64>().ok());
            let secs = from_body.or(from_header).unwrap_or(1.0).clamp(0.0, 3600.0);
            let global = body["global"].as_bool().unwrap_or(false)
                || headers.get("x-ratelimit-global").is_some()
                || headers
                    .get("x-ratelimit-scope")
                    .and_then(|v| v.to_str().ok())
                    == Some("global");
            let scope = if global {
                LimitScope::Global
            } else {
                LimitScope::Route
            };
            SendError::RateLimited {
                retry_after: Duration::from_secs_f64(secs),
                scope,
            }
        }
        StatusCode::UNAUTHORIZED => SendError::Unauthorized(message),
        StatusCode::NOT_FOUND => SendError::NotFound(format!("{message} ({code})")),
        s if s.is_server_error() => SendError::Transient(format!("Discord answered {s}")),
        _ => {
            let detail = body
                .get("errors")
                .map(|e| format!("{message}: {e}"))
                .unwrap_or(message);
            SendError::Rejected {
                code,
                message: detail,
            }
        }
    }
}
