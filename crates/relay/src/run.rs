//! Running Relay's roles in this process: the API, a worker, or both (`relay all`). The
//! listener and the shutdown token are handed in, so tests start and stop Relay freely.

use crate::config::Config;
use crate::preflight::{self, DbSetup, StartupError};
use relay_api::auth::AuthConfig;
use relay_api::{ApiConfig, AppState};
use relay_queue::{JobQueue, QueueConfig};
use relay_worker::{Platforms, Worker, WorkerConfig};
use std::sync::Arc;
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

/// Why Relay stopped other than as asked.
#[derive(Debug)]
pub enum RunError {
    /// PostgreSQL or Redis unreachable, or the schema not usable, at start-up (exit 3).
    Startup(StartupError),
    /// A role failed while running (exit 1).
    Failed(String),
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Startup(e) => e.fmt(f),
            RunError::Failed(why) => f.write_str(why),
        }
    }
}

impl From<StartupError> for RunError {
    fn from(e: StartupError) -> Self {
        RunError::Startup(e)
    }
}

/// Runs until `shutdown` is cancelled, then drains for at most the grace period. A worker
/// that cannot go on (a core task failed too often) stops the whole process with an error.
pub async fn run(
    config: Config,
    roles: Roles,
    listener: Option<TcpListener>,
    shutdown: CancellationToken,
) -> Result<(), RunError> {
    let setup = DbSetup {
        create_if_missing: config.database_auto_create,
        migrate: config.auto_migrate,
    };
    let (db, redis) = preflight::connect(&config, setup).await?;
    let mut tasks = tokio::task::JoinSet::new();
    let failure = Arc::new(std::sync::Mutex::new(None::<String>));
    let worker = roles.worker.then(|| {
        let worker_config = WorkerConfig {
            id: worker_id(),
            concurrency: config.worker_concurrency,
            heartbeat_interval: Duration::from_secs(2).min(config.worker_lease / 3),
            lease_ttl: config.worker_lease,
            sweep_interval: config.sweep_interval,
            sweep_quiet: config.sweep_quiet,
            health_interval: config.health_check,
            clock: config.clock.clone(),
        };
        job_queue(&config, &redis).map(|queue| {
            Worker::new(
                worker_config,
                db.clone(),
                redis.clone(),
                queue,
                config.keyring.clone(),
                platforms(&config),
            )
        })
    });
    let worker = worker.transpose()?;

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
        .with_queue(job_queue(&config, &redis)?)
        .with_tasks(worker.as_ref().map(Worker::board).unwrap_or_default())
        .with_payments(payments(&config, &db).await?);
        let app = relay_api::router(state);
        tracing::info!(%addr, "API listening; docs at http://{addr}/docs");
        let token = shutdown.clone();
        tasks.spawn(async move {
            if let Err(e) = relay_api::serve(listener, app, token).await {
                tracing::error!(error = %e, "API server failed");
            }
        });
    }
    if roles.worker || roles.api {
        tasks.spawn(subscription_lifecycle(
            db.clone(),
            config.subscription_grace,
            config.subscription_sweep,
            shutdown.clone(),
        ));
    }
    if let Some(worker) = worker {
        let (failure, stop) = (Arc::clone(&failure), shutdown.clone());
        tasks.spawn(async move {
            if let Err(e) = worker.run(stop.clone()).await {
                *failure.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.to_string());
                // The rest of the process stops with it: a supervisor restarts it whole.
                stop.cancel();
            }
        });
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
    let failure = failure.lock().unwrap_or_else(|p| p.into_inner()).take();
    if let Some(why) = failure {
        tracing::error!(%why, "stopped after a failure");
        return Err(RunError::Failed(why));
    }
    tracing::info!("stopped");
    Ok(())
}

/// The payment providers; PayPal's product and plans are made now if missing (a failure
/// is logged and checkout tries again).
async fn payments(
    config: &Config,
    db: &relay_store::Database,
) -> Result<Arc<relay_api::routes::payments::Payments>, StartupError> {
    let payments =
        relay_api::routes::payments::Payments::new(config.payments.clone()).map_err(|e| {
            StartupError {
                lines: vec![format!("RELAY_PAYPAL_CERT_ROOTS_FILE: {e}")],
            }
        })?;
    if let Err(e) = payments.ensure_paypal_plans(db).await {
        tracing::warn!(error = %e, "PayPal billing plans not ready; checkout will try again");
    }
    Ok(Arc::new(payments))
}

/// Ends subscriptions past their period end (plus the grace) every `every`, until
/// shutdown. Several processes may run it: the update is idempotent.
async fn subscription_lifecycle(
    db: relay_store::Database,
    grace: Duration,
    every: Duration,
    shutdown: CancellationToken,
) {
    loop {
        match db.expire_subscriptions(chrono::Utc::now(), grace).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(ended = n, "subscriptions past their period ended"),
            Err(e) => tracing::warn!(error = %e, "subscription lifecycle sweep failed"),
        }
        // A plan that ended (or shrank) leaves no pair running over its limit.
        match db.pause_pairs_over_limit(None).await {
            Ok(paused) if !paused.is_empty() => {
                tracing::info!(
                    paused = paused.len(),
                    "pairs over their plan's limit paused"
                )
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "pausing pairs over their plan's limit failed"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
    }
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
        admin_allowlist: config.admin_allowlist.clone(),
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
