//! `spawn_app`: the whole router on port 0 with its own database and Redis prefix, and a
//! TCP proxy in front of Redis that a test can take down and bring back. The database and
//! the prefix's keys go when the app does, whether the test passed or not.

use relay_api::auth::AuthConfig;
use relay_api::{ApiConfig, AppState};
use relay_discord::DiscordEndpoints;
use relay_fakes::discord::{FakeDiscord, RunningFake};
pub use relay_fakes::proxy::FlakyProxy;
use relay_fakes::telegram_bot::{FakeBotApi, RunningBotApi};
use relay_fakes::telegram_dc::{FakeDc, RunningDc};
use relay_queue::LimitRule;
use relay_queue::RedisConn;
use relay_queue::testing::TestPrefix;
use relay_store::crypto::Keyring;
use relay_store::testing::TestDatabase;
use relay_store::{Database, DbConfig};
use relay_telegram::user::{DcOverride, MtprotoConfig};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub struct TestApp {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    shutdown: CancellationToken,
    /// The app's database, for arranging what the API cannot (bans, for instance).
    pub db: Option<Database>,
    /// The fake Discord this app talks to.
    pub discord: Option<Arc<RunningFake>>,
    /// The fake Telegram Bot API this app talks to.
    pub telegram: Option<Arc<RunningBotApi>>,
    /// The fake Telegram DC this app's user sessions talk to.
    pub telegram_dc: Option<Arc<RunningDc>>,
    /// Dropped after the app stopped (fields drop after `Drop::drop`): the throwaway
    /// database and the Redis keys.
    cleanup: Option<(Option<TestDatabase>, TestPrefix)>,
}

/// The database an app runs on and, when it is a throwaway one, its guard.
pub struct AppDb {
    db: Database,
    guard: Option<TestDatabase>,
}

impl From<TestDatabase> for AppDb {
    fn from(guard: TestDatabase) -> Self {
        Self {
            db: guard.database().clone(),
            guard: Some(guard),
        }
    }
}

/// A database someone else keeps (another app's, or one that is never there).
impl From<Database> for AppDb {
    fn from(db: Database) -> Self {
        Self { db, guard: None }
    }
}

/// A Redis connection under a prefix of the test's own, and the guard of its keys.
pub struct TestRedis {
    pub conn: RedisConn,
    pub keys: TestPrefix,
}

impl TestApp {
    pub fn dc(&self) -> &FakeDc {
        &self
            .telegram_dc
            .as_ref()
            .expect("this app has a fake DC")
            .fake
    }
}

/// The API id and hash the test apps use (the fake DC accepts any).
pub const TEST_API_ID: i32 = 12345;
pub const TEST_API_HASH: &str = "0123456789abcdef0123456789abcdef";

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }
}

/// A signed-in user as a test holds it.
#[derive(Debug, Clone)]
pub struct Session {
    pub email: String,
    pub user_id: String,
    pub access: String,
    pub refresh: String,
}

impl TestApp {
    pub fn db(&self) -> &Database {
        self.db.as_ref().expect("this app has a database")
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn register(&self, email: &str, password: &str) -> reqwest::Response {
        self.post_json(
            "/api/v1/auth/register",
            &json!({"email": email, "password": password}),
        )
        .await
    }

    pub async fn login(&self, email: &str, password: &str) -> reqwest::Response {
        self.post_json(
            "/api/v1/auth/login",
            &json!({"email": email, "password": password}),
        )
        .await
    }

    pub async fn refresh(&self, refresh_token: &str) -> reqwest::Response {
        self.post_json(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": refresh_token}),
        )
        .await
    }

    /// Registers and signs in a user.
    pub async fn signed_in(&self, email: &str) -> Session {
        let res = self.register(email, PASSWORD).await;
        assert_eq!(res.status(), 201, "register {email}");
        let user: Value = res.json().await.expect("json");
        self.sign_in(email, user["id"].as_str().expect("id")).await
    }

    /// Signs in an existing user again (a second session).
    pub async fn sign_in(&self, email: &str, user_id: &str) -> Session {
        let res = self.login(email, PASSWORD).await;
        assert_eq!(res.status(), 200, "login {email}");
        let tokens: Value = res.json().await.expect("json");
        Session {
            email: email.to_owned(),
            user_id: user_id.to_owned(),
            access: tokens["access_token"].as_str().expect("access").to_owned(),
            refresh: tokens["refresh_token"]
                .as_str()
                .expect("refresh")
                .to_owned(),
        }
    }

    /// Any method on any path with a bearer token.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<&Value>,
    ) -> reqwest::Response {
        let mut req = self
            .client
            .request(method, self.url(path))
            .bearer_auth(token);
        if let Some(body) = body {
            req = req.json(body);
        }
        req.send().await.expect("request")
    }

    pub async fn get_as(&self, path: &str, token: &str) -> reqwest::Response {
        self.call(reqwest::Method::GET, path, token, None).await
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

pub const TEST_JWT_SECRET: &str = "test-secret-test-secret-test-secret!";
pub const PASSWORD: &str = "correct horse battery staple";

pub fn test_config() -> ApiConfig {
    ApiConfig {
        body_limit_bytes: 64 * 1024,
        request_timeout: Duration::from_secs(10),
        auth: AuthConfig {
            jwt_secret: TEST_JWT_SECRET.to_owned(),
            access_token_ttl: Duration::from_secs(900),
            refresh_token_ttl: Duration::from_secs(30 * 86_400),
            login_per_ip: LimitRule {
                max: 1000,
                window: Duration::from_secs(60),
            },
            login_per_account: LimitRule {
                max: 5,
                window: Duration::from_secs(900),
            },
            session_cache_ttl: Duration::from_secs(1),
        },
        discord: DiscordEndpoints::default(),
        telegram_bot_api_url: "https://api.telegram.org".into(),
        telegram_user: None,
        trusted_proxies: Vec::new(),
        admin_allowlist: Vec::new(),
    }
}

/// A connection to the Redis at `url` (the test Redis, or a proxy in front of it) under a
/// fresh prefix, whose keys are deleted when the app using it goes.
pub fn redis(url: &str) -> TestRedis {
    let keys = TestPrefix::new();
    let mut config = keys.config(Duration::from_secs(1));
    config.url = url.to_owned();
    TestRedis {
        conn: RedisConn::connect_lazy(&config).expect("redis client"),
        keys,
    }
}

/// [`redis`] on the test Redis itself.
pub fn test_redis() -> TestRedis {
    redis(&relay_queue::testing::redis_url())
}

pub async fn test_database() -> TestDatabase {
    relay_store::testing::test_database()
        .await
        .expect("test database")
}

pub async fn spawn_app() -> TestApp {
    spawn_with(test_database().await, test_redis()).await
}

pub async fn spawn_with(db: impl Into<AppDb>, redis: TestRedis) -> TestApp {
    spawn_configured(db, redis, test_config()).await
}

pub async fn spawn_configured(
    db: impl Into<AppDb>,
    redis: TestRedis,
    mut config: ApiConfig,
) -> TestApp {
    relay_discord::install_crypto_provider();
    let discord = FakeDiscord::new()
        .start("127.0.0.1:0")
        .await
        .expect("fake discord");
    config.discord = DiscordEndpoints {
        api_url: discord.api_url(),
        gateway_url: discord.gateway_url(),
    };
    let telegram = FakeBotApi::new()
        .start("127.0.0.1:0")
        .await
        .expect("fake bot api");
    config.telegram_bot_api_url = telegram.url();
    let dc = FakeDc::new()
        .start("127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("fake dc");
    let mut app = spawn_sharing_dc(db, redis, config, Arc::new(dc)).await;
    app.discord = Some(Arc::new(discord));
    app.telegram = Some(Arc::new(telegram));
    app
}

/// An app whose Telegram user sessions go to an existing fake DC (a second API node).
pub async fn spawn_sharing_dc(
    db: impl Into<AppDb>,
    redis: TestRedis,
    mut config: ApiConfig,
    dc: Arc<RunningDc>,
) -> TestApp {
    config.telegram_user = Some(MtprotoConfig {
        api_id: TEST_API_ID,
        api_hash: TEST_API_HASH.into(),
        dc: Some(DcOverride {
            addr: dc.addr(),
            key_half: dc.fake.key_half(),
        }),
    });
    let AppDb { db, guard } = db.into();
    let state = AppState::new(db.clone(), redis.conn, config, Keyring::development());
    let mut app = spawn_router(relay_api::router(state)).await;
    app.db = Some(db);
    app.cleanup = Some((guard, redis.keys));
    app.telegram_dc = Some(dc);
    app
}

/// Serves any router on port 0.
pub async fn spawn_router(app: axum::Router) -> TestApp {
    relay_discord::install_crypto_provider();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let shutdown = CancellationToken::new();
    tokio::spawn(relay_api::serve(listener, app, shutdown.clone()));
    TestApp {
        addr,
        client: reqwest::Client::new(),
        shutdown,
        db: None,
        discord: None,
        telegram: None,
        telegram_dc: None,
        cleanup: None,
    }
}

/// A database handle whose server never answers (nothing listens on port 1).
pub fn unreachable_database() -> Database {
    Database::connect_lazy(&DbConfig {
        url: "postgres://postgres@127.0.0.1:1/none".into(),
        max_connections: 1,
        acquire_timeout: Duration::from_millis(500),
    })
    .expect("lazy pool")
}

/// An app on its own database whose state `customize` finishes, given the address it
/// will listen on (for settings that name the app's own URL, such as payment callbacks).
pub async fn spawn_customized(customize: impl FnOnce(AppState, SocketAddr) -> AppState) -> TestApp {
    relay_discord::install_crypto_provider();
    let guard = test_database().await;
    let redis = test_redis();
    let db = guard.database().clone();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let state = AppState::new(
        db.clone(),
        redis.conn,
        test_config(),
        Keyring::development(),
    );
    let state = customize(state, addr);
    let shutdown = CancellationToken::new();
    tokio::spawn(relay_api::serve(
        listener,
        relay_api::router(state),
        shutdown.clone(),
    ));
    TestApp {
        addr,
        client: reqwest::Client::new(),
        shutdown,
        db: Some(db),
        discord: None,
        telegram: None,
        telegram_dc: None,
        cleanup: Some((Some(guard), redis.keys)),
    }
}
