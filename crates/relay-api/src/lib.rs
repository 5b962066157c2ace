//! Relay's HTTP API (axum): the router, its layers and its handlers. `router` builds the
//! whole application from an [`AppState`]; `serve` runs it on a listener until the
//! shutdown token fires, then drains in-flight requests.

pub mod auth;
mod client_ip;
mod error;
pub mod gate;
mod health;
mod middleware;
mod observability;
mod openapi;
pub mod routes;

pub use error::{ApiError, ErrorBody, FieldErrors};
pub use observability::metrics_handle;

use axum::Router;
use axum::http::StatusCode;
use relay_queue::{RateLimiter, RedisConn};
use relay_store::Database;
use relay_store::crypto::Keyring;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_http::LatencyUnit;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};

/// The API's own settings.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Largest accepted request body.
    pub body_limit_bytes: usize,
    /// How long one request may take before it is answered with a timeout error.
    pub request_timeout: Duration,
    pub auth: auth::AuthConfig,
    /// Where Discord is (the fake in tests and demos).
    pub discord: relay_discord::DiscordEndpoints,
    /// The Telegram Bot API server (Telegram's, a self-hosted one, or the fake).
    pub telegram_bot_api_url: String,
    /// Telegram user accounts over MTProto; `None` turns their login off.
    pub telegram_user: Option<relay_telegram::user::MtprotoConfig>,
    /// Proxies whose `X-Forwarded-For` names the client (for rate limits).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Networks the admin API may be used from, besides the database's `ip_allowlist`.
    pub admin_allowlist: Vec<ipnet::IpNet>,
}

/// What every handler can reach.
#[derive(Clone, Debug)]
pub struct AppState {
    pub db: Database,
    pub redis: RedisConn,
    pub config: ApiConfig,
    pub auth: Arc<auth::Auth>,
    /// Seals and opens the secrets of connected accounts.
    pub keyring: Keyring,
    /// Where manual forwards are enqueued; without it they wait for the outbox sweeper.
    pub queue: Option<relay_queue::JobQueue>,
    /// The core tasks of a worker in the same process (`relay all`): `/readyz` reports a
    /// dead one.
    pub tasks: relay_core::tasks::TaskBoard,
    /// The payment providers (none configured by default).
    pub payments: Arc<routes::payments::Payments>,
}

impl AppState {
    pub fn new(db: Database, redis: RedisConn, config: ApiConfig, keyring: Keyring) -> Self {
        let auth = Arc::new(auth::Auth::new(
            &config.auth,
            RateLimiter::new(redis.clone()),
        ));
        Self {
            db,
            redis,
            config,
            auth,
            keyring,
            queue: None,
            tasks: relay_core::tasks::TaskBoard::default(),
            payments: Arc::default(),
        }
    }

    /// Reports the core tasks of the worker running beside the API.
    pub fn with_tasks(mut self, tasks: relay_core::tasks::TaskBoard) -> Self {
        self.tasks = tasks;
        self
    }

    /// Takes payments with these providers.
    pub fn with_payments(mut self, payments: Arc<routes::payments::Payments>) -> Self {
        self.payments = payments;
        self
    }

    /// Enqueues manual forwards right away (the worker's queue, same partitions).
    pub fn with_queue(mut self, queue: relay_queue::JobQueue) -> Self {
        self.queue = Some(queue);
        self
    }
}

/// The whole application: API routes, health, metrics, OpenAPI and Swagger UI.
pub fn router(state: AppState) -> Router {
    // Install the recorder before the first request is counted.
    metrics_handle();
    let config = state.config.clone();
    let (api, spec) = openapi::api_router().with_state(state).split_for_parts();
    let app = api
        .merge(openapi::docs_router(spec))
        .merge(observability::metrics_router())
        .fallback(|| async { ApiError::NotFound });
    with_layers(app, &config)
}

/// Wraps routes in the layers every response passes through.
pub fn with_layers(app: Router, config: &ApiConfig) -> Router {
    // The last layer added is the outermost: a request meets the request id first,
    // then the log span, metrics, the JSON error rewriting (which so also sees the
    // body limit's 413 and the timeout's 503), the limits, and the panic guard.
    app.layer(CatchPanicLayer::custom(middleware::panic_response))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            config.request_timeout,
        ))
        .layer(RequestBodyLimitLayer::new(config.body_limit_bytes))
        // Extractors have a 2 MiB limit of their own; make it the configured one.
        .layer(axum::extract::DefaultBodyLimit::max(
            config.body_limit_bytes,
        ))
        .layer(axum::middleware::from_fn(middleware::json_errors))
        .layer(axum::middleware::from_fn(middleware::record_metrics))
        .layer(PropagateRequestIdLayer::new(middleware::REQUEST_ID))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(middleware::request_span)
                .on_response(
                    DefaultOnResponse::new()
                        .level(tracing::Level::INFO)
                        .latency_unit(LatencyUnit::Micros),
                ),
        )
        .layer(SetRequestIdLayer::new(
            middleware::REQUEST_ID,
            MakeRequestUuid,
        ))
}

/// Serves `app` on `listener` until `shutdown` is cancelled, then lets in-flight
/// requests finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown.cancelled_owned())
    .await
}
