//! A whole Relay for a test: a fresh database, a Redis key prefix, the three fakes, and
//! Relay itself (the API, with or without an in-process worker) from the same
//! configuration code the binary uses; more workers as separate `relay worker` processes.
//! The database and the prefix's keys go when the stack does, passed or failed.

use relay_fakes::discord::{FakeDiscord, RunningFake};
use relay_fakes::telegram_bot::{FakeBotApi, RunningBotApi};
use relay_fakes::telegram_dc::{FakeDc, RunningDc};
use relay_queue::testing::TestPrefix;
use relay_store::testing::TestDatabase;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub struct Stack {
    pub env: HashMap<String, String>,
    /// Derefs to the `Database`; dropped (with the Redis keys) after everything else.
    pub db: TestDatabase,
    pub discord: RunningFake,
    pub bots: RunningBotApi,
    pub dc: RunningDc,
    pub api: String,
    pub http: reqwest::Client,
    /// The in-process Relay's wall clock: `advance` it to make tomorrow come.
    pub clock: relay_core::clock::Clock,
    shutdown: CancellationToken,
    relay: Option<JoinHandle<()>>,
    keys: TestPrefix,
}

impl Drop for Stack {
    fn drop(&mut self) {
        // A test that panicked never called `stop`: at least tell Relay to stop.
        self.shutdown.cancel();
    }
}

/// Kills the child when the test ends, passed or not.
pub struct Process(pub Child);

impl Process {
    /// SIGKILL: no draining, no releasing — a crash.
    pub fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

impl Stack {
    pub async fn start(in_process_worker: bool) -> Self {
        Self::start_with(in_process_worker, &[]).await
    }

    pub async fn start_with(in_process_worker: bool, extra: &[(&str, &str)]) -> Self {
        relay_discord::install_crypto_provider();
        if std::env::var("TEST_LOG").is_ok() {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(std::env::var("TEST_LOG").unwrap_or_default())
                .with_test_writer()
                .try_init();
        }
        let db = relay_store::testing::empty_database()
            .await
            .expect("database");
        let keys = TestPrefix::new();
        let discord = FakeDiscord::new()
            .start("127.0.0.1:0")
            .await
            .expect("fake discord");
        let bots = FakeBotApi::new()
            .start("127.0.0.1:0")
            .await
            .expect("fake bot api");
        let dc = FakeDc::new()
            .start("127.0.0.1:0".parse().expect("addr"))
            .await
            .expect("fake dc");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("port")
            .port();
        let mut env: HashMap<String, String> = [
            ("RELAY_DATABASE_URL", db.url().to_owned()),
            ("RELAY_REDIS_URL", keys.url().to_owned()),
            ("RELAY_REDIS_KEY_PREFIX", keys.prefix().to_string()),
            ("RELAY_HTTP_ADDR", format!("127.0.0.1:{port}")),
            ("RELAY_DISCORD_API_URL", discord.api_url()),
            ("RELAY_DISCORD_GATEWAY_URL", discord.gateway_url()),
            ("RELAY_TELEGRAM_BOT_API_URL", bots.url()),
            ("RELAY_TELEGRAM_API_ID", "12345".into()),
            (
                "RELAY_TELEGRAM_API_HASH",
                "0123456789abcdef0123456789abcdef".into(),
            ),
            ("RELAY_TELEGRAM_DC_ADDR", dc.addr().to_string()),
            ("RELAY_WORKER_LEASE_SECS", "3".into()),
            ("RELAY_SWEEP_INTERVAL_SECS", "1".into()),
            ("RELAY_SWEEP_QUIET_SECS", "3".into()),
            ("RELAY_LOG_LEVEL", "warn".into()),
            ("RELAY_SHUTDOWN_GRACE_SECS", "5".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        for (k, v) in extra {
            env.insert((*k).to_owned(), (*v).to_owned());
        }
        // Relay reaches PostgreSQL through a proxy the test controls; the test itself
        // keeps its direct handle.
        if let Some(proxy) = env.remove("DB_PROXY") {
            let direct = env["RELAY_DATABASE_URL"].clone();
            env.insert(
                "RELAY_DATABASE_URL".into(),
                direct.replace("127.0.0.1:5432", &proxy),
            );
        }
        let mut config = relay::config::load(None, &|k| env.get(k).cloned()).expect("config");
        let clock = relay_core::clock::Clock::adjustable();
        config.clock = clock.clone();
        let listener = relay::run::bind(&config).await.expect("bind");
        let shutdown = CancellationToken::new();
        let roles = relay::run::Roles {
            api: true,
            worker: in_process_worker,
        };
        let token = shutdown.clone();
        let relay = tokio::spawn(async move {
            if let Err(e) = relay::run::run(config, roles, Some(listener), token).await {
                panic!("relay failed: {e}");
            }
        });
        let stack = Self {
            env,
            db,
            discord,
            bots,
            dc,
            api: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
            clock,
            shutdown,
            relay: Some(relay),
            keys,
        };
        stack
            .eventually("the API is ready", Duration::from_secs(30), || async {
                stack
                    .http
                    .get(format!("{}/readyz", stack.api))
                    .send()
                    .await
                    .is_ok_and(|r| r.status() == 200)
            })
            .await;
        stack
    }

    /// Redis under the stack's key prefix.
    pub fn queue_redis(&self) -> relay_queue::RedisConn {
        self.keys.connect().expect("redis")
    }

    /// The job queue as the workers see it (same Redis prefix and partitions).
    pub fn queue(&self) -> relay_queue::JobQueue {
        let redis = self.queue_redis();
        relay_queue::JobQueue::new(redis, self.keys.url(), relay_queue::QueueConfig::default())
            .expect("queue")
    }

    /// Another worker, as its own process.
    pub fn worker_process(&self) -> Process {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_relay"));
        for (name, _) in std::env::vars() {
            if name.starts_with("RELAY_") || name == "DATABASE_URL" || name == "REDIS_URL" {
                cmd.env_remove(name);
            }
        }
        cmd.arg("worker")
            .envs(&self.env)
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        Process(cmd.spawn().expect("spawn worker"))
    }

    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(relay) = self.relay.take() {
            let _ = relay.await;
        }
    }

    /// Waits until `check` holds, or fails the test naming what never happened.
    pub async fn eventually<F, Fut>(&self, what: &str, within: Duration, mut check: F)
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = bool>,
    {
        let deadline = Instant::now() + within;
        while !check().await {
            assert!(Instant::now() < deadline, "{what}: not within {within:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.api))
            .bearer_auth(token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.expect("request");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Value {
        let (status, value) = self
            .call(reqwest::Method::POST, path, token, Some(body))
            .await;
        assert!(
            (200..300).contains(&status),
            "POST {path}: {status} {value}"
        );
        value
    }

    /// A registered, signed-in user; their access token.
    pub async fn user(&self, email: &str) -> String {
        let password = "correct horse battery staple";
        let res = self
            .http
            .post(format!("{}/api/v1/auth/register", self.api))
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .expect("register");
        assert_eq!(res.status(), 201);
        let res = self
            .http
            .post(format!("{}/api/v1/auth/login", self.api))
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .expect("login");
        let tokens: Value = res.json().await.expect("tokens");
        // Elite: enough pairs, destinations and accounts for any test, and high priority.
        sqlx::query(
            "INSERT INTO subscriptions (user_id, plan_id, status, provider) \
             SELECT id, 'elite', 'active', 'admin' FROM users WHERE email = $1",
        )
        .bind(email)
        .execute(self.db.pool())
        .await
        .expect("subscription");
        tokens["access_token"].as_str().expect("token").to_owned()
    }

    pub async fn discord_bot(&self, token: &str, bot_token: &str) -> String {
        let account = self
            .post(
                "/api/v1/accounts/discord",
                token,
                json!({"kind": "bot", "token": bot_token}),
            )
            .await;
        account["id"].as_str().expect("id").to_owned()
    }

    pub async fn discord_webhook(&self, token: &str, id: u64, hook_token: &str) -> String {
        let url = format!("https://discord.com/api/webhooks/{id}/{hook_token}");
        let account = self
            .post(
                "/api/v1/accounts/discord",
                token,
                json!({"kind": "webhook", "url": url}),
            )
            .await;
        account["id"].as_str().expect("id").to_owned()
    }

    pub async fn telegram_bot(&self, token: &str, bot_token: &str) -> String {
        let account = self
            .post(
                "/api/v1/accounts/telegram",
                token,
                json!({"kind": "bot", "token": bot_token}),
            )
            .await;
        account["id"].as_str().expect("id").to_owned()
    }

    /// A Telegram user account through the login API (no 2FA).
    pub async fn telegram_user(&self, token: &str, phone: &str) -> String {
        let login = self
            .post(
                "/api/v1/accounts/telegram/login",
                token,
                json!({"phone": phone}),
            )
            .await;
        let id = login["login_id"].as_str().expect("login");
        let code = self.dc.fake.last_code(phone).expect("code");
        let account = self
            .post(
                &format!("/api/v1/accounts/telegram/login/{id}/code"),
                token,
                json!({"code": code}),
            )
            .await;
        account["id"].as_str().expect("id").to_owned()
    }

    /// A pair whose copies show exactly the source text (`"show_author": false`: the tests
    /// of text fidelity compare texts; `identity.rs` tests the author line, which is on
    /// by default).
    pub async fn pair(
        &self,
        token: &str,
        source: (&str, String),
        destinations: &[(&str, Option<String>)],
    ) -> String {
        let destinations: Vec<Value> = destinations
            .iter()
            .map(|(account, chat)| match chat {
                Some(chat) => json!({"account_id": account, "chat_id": chat, "show_author": false}),
                None => json!({"account_id": account, "show_author": false}),
            })
            .collect();
        let pair = self
            .post(
                "/api/v1/pairs",
                token,
                json!({"source": {"account_id": source.0, "chat_id": source.1}, "destinations": destinations}),
            )
            .await;
        pair["id"].as_str().expect("id").to_owned()
    }

    /// Texts of a fake Discord channel, oldest first.
    pub fn discord_texts(&self, channel: u64) -> Vec<String> {
        self.discord
            .fake
            .messages(channel)
            .into_iter()
            .map(|m| m.content)
            .collect()
    }

    /// Texts of a fake Bot API chat, oldest first.
    pub fn bot_texts(&self, chat: i64) -> Vec<String> {
        self.bots
            .fake
            .messages(chat)
            .into_iter()
            .map(|m| {
                m["text"]
                    .as_str()
                    .or(m["caption"].as_str())
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect()
    }
}
