//! Running Relay's roles in this process: the API, a worker, or both (`relay all`). The
//! listener and the shutdown token are handed in, so tests start and stop Relay freely.

use crate::config::Config;
use crate::preflight::{self, DbSetup, StartupError};
use relay_api::auth::AuthConfig;
use relay_api::{ApiConfig, AppState};
use relay_queue::{JobQueue, QueueConfig};
use relay_worker::{Platforms, Worker, WorkerConfig};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Which roles this process plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Roles {
    pub api: bool,
    pub worker: bool,
}

/// Binds the configured address, with a message that says what to change when it fails.
pub async fn bind(config: &Config) -> Result<TcpListener, StartupError> {
    TcpListener::bind(config.http_addr).await.map_err(|e| StartupError {
        lines: vec![format!(
            "RELAY_HTTP_ADDR: cannot listen on {} ({e}); is another Relay running? Choose another address.",
            config.http_addr
        )],
    })
}

/// Runs until `shutdown` is cancelled, then drains for at most the grace period.
pub async fn run(
    config: Config,
    roles: Roles,
    listener: Option<TcpListener>,
    shutdown: CancellationToken,
) -> Result<(), StartupError> {
    let setup = DbSetup {
        create_if_missing: config.database_auto_create,
        migrate: config.auto_migrate,
    };
    let (db, redis) = preflight::connect(&config, setup).await?;
    let mut tasks = tokio::task::JoinSet::new();

    if roles.api {
        let listener = listener.ok_or_else(|| StartupError {
            lines: vec!["no listener for the API".into()],
        })?;
        let addr = listener.local_addr().map_err(|e| StartupError {
            lines: vec![e.to_string()],
        })?;
        let state = AppState::new(
            db.clone(),
            redis.clone(),
            api_config(&config),
            config.keyring.clone(),
        )
        .with_queue(job_queue(&config, &redis)?);
        let app = relay_api::router(state);
        tracing::info!(%addr, "API listening; docs at http://{addr}/docs");
        let token = shutdown.clone();
        tasks.spawn(async move {
            if let Err(e) = relay_api::serve(listener, app, token).await {
                tracing::error!(error = %e, "API server failed");
            }
        });
    }
    if roles.worker {
        let worker_config = WorkerConfig {
            id: worker_id(),
            concurrency: config.worker_concurrency,
            heartbeat_interval: Duration::from_secs(2).min(config.worker_lease / 3),
            lease_ttl: config.worker_lease,
            sweep_interval: config.sweep_interval,
            sweep_quiet: config.sweep_quiet,
            health_interval: config.health_check,
        };
        let queue = job_queue(&config, &redis)?;
        let worker = Worker::new(
            worker_config,
            db.clone(),
            redis.clone(),
            queue,
            config.keyring.clone(),
            platforms(&config),
        );
        tasks.spawn(worker.run(shutdown.clone()));
    }

    shutdown.cancelled().await;
    let drained = tokio::time::timeout(config.shutdown_grace, async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(grace = ?config.shutdown_grace, "work still running after the grace period; stopping anyway");
        tasks.abort_all();
    }
    db.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// The API's settings out of the whole configuration.
pub fn api_config(config: &Config) -> ApiConfig {
    ApiConfig {
        body_limit_bytes: config.http_body_limit_bytes,
        request_timeout: config.http_request_timeout,
        auth: AuthConfig {
            jwt_secret: config.jwt_secret.expose().to_owned(),
            access_token_ttl: config.access_token_ttl,
            refresh_token_ttl: config.refresh_token_ttl,
            login_per_ip: config.login_per_ip,
            login_per_account: config.login_per_account,
            session_cache_ttl: config.session_cache_ttl,
        },
        discord: config.discord.clone(),
        telegram_bot_api_url: config.telegram_bot_api_url.clone(),
        telegram_user: config.telegram_user.clone(),
        trusted_proxies: config.http_trusted_proxies.clone(),
    }
}

/// The job queue as every node sees it (the partition count must agree everywhere).
pub fn job_queue(
    config: &Config,
    redis: &relay_queue::RedisConn,
) -> Result<JobQueue, StartupError> {
    let queue_config = QueueConfig {
        partitions: config.queue_partitions,
        max_attempts: config.queue_max_attempts,
        ..QueueConfig::default()
    };
    JobQueue::new(redis.clone(), config.redis_url.expose(), queue_config).map_err(|e| {
        StartupError {
            lines: vec![format!("the job queue: {e}")],
        }
    })
}

/// Where the platforms are, for the worker.
pub fn platforms(config: &Config) -> Platforms {
    Platforms {
        discord: config.discord.clone(),
        telegram_bot_api_url: config.telegram_bot_api_url.clone(),
        telegram_user: config.telegram_user.clone(),
        fast_identify: false,
    }
}

/// `host-pid-random`: unique per process, readable in logs.
fn worker_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "relay".to_owned());
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("{host}-{}-{}", std::process::id(), &random[..6])
}
