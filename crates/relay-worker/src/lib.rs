//! The worker process: it owns a fair share of the queue's partitions (leases with
//! fencing tokens), sends their deliveries one lane per destination, drives the accounts
//! that hash to them (listeners and sinks), turns source events into outbox rows and jobs,
//! sweeps the outbox for work Redis lost, and keeps its heartbeat so the others know it is
//! alive. On shutdown it drains what is in flight and hands its partitions back.

pub mod account_work;
pub mod accounts;
mod album;
mod any_sink;
mod claim;
mod complete;
mod deletes;
pub mod deliver;
mod echoes;
mod identity;
mod lane;
pub mod lease_keeper;
mod media;
mod media_fetch;
mod media_http;
mod media_limits;
pub mod ownership;
pub mod partition;
mod parts;
mod quota;
mod revisions;
pub mod router;
pub mod rules_step;
mod seen_chats;
pub mod supervise;
pub mod sweeper;

use account_work::AccountWork;
use accounts::AccountHub;
use deliver::Deliverer;
use lease_keeper::{Held, LeaseKeeper};
use ownership::{Ownership, RouteSignals};
use relay_core::tasks::TaskBoard;
use relay_queue::{JobQueue, Leases, RedisConn, WorkerInfo, WorkerRegistry};
use relay_store::Database;
use relay_store::crypto::Keyring;
use router::Router;
use std::sync::Arc;
use std::time::Duration;
use supervise::Supervisor;
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Unique per process, e.g. `host-pid-random`.
    pub id: String,
    /// How many deliveries this worker runs at once.
    pub concurrency: usize,
    /// How often the heartbeat is renewed; it lives three times as long.
    pub heartbeat_interval: Duration,
    /// A partition's lease; a dead worker's partitions move within this time.
    pub lease_ttl: Duration,
    /// How often the outbox is swept, and how long a due delivery must sit untouched
    /// before the sweeper enqueues it again.
    pub sweep_interval: Duration,
    pub sweep_quiet: Duration,
    /// How often each driven account is checked with its platform.
    pub health_interval: Duration,
    /// Wall-clock time for the daily quota's day.
    pub clock: relay_core::clock::Clock,
}

impl WorkerConfig {
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            concurrency: 8,
            heartbeat_interval: Duration::from_secs(2),
            lease_ttl: Duration::from_secs(10),
            sweep_interval: Duration::from_secs(5),
            sweep_quiet: Duration::from_secs(15),
            health_interval: Duration::from_secs(300),
            clock: relay_core::clock::Clock::system(),
        }
    }
}

/// Where the platforms are (the fakes in tests and demos).
#[derive(Debug, Clone, Default)]
pub struct Platforms {
    pub discord: relay_discord::DiscordEndpoints,
    pub telegram_bot_api_url: String,
    pub telegram_user: Option<relay_telegram::user::MtprotoConfig>,
    /// Identify right away after a lost Discord session (tests).
    pub fast_identify: bool,
}

pub struct Worker {
    config: WorkerConfig,
    db: Database,
    registry: WorkerRegistry,
    queue: JobQueue,
    leases: Leases,
    keyring: Keyring,
    platforms: Arc<Platforms>,
    board: TaskBoard,
}

/// The worker could not go on: a core task failed too often.
#[derive(Debug, thiserror::Error)]
#[error("the worker stopped: {0}")]
pub struct WorkerFailed(pub String);

impl Worker {
    pub fn new(
        config: WorkerConfig,
        db: Database,
        redis: RedisConn,
        queue: JobQueue,
        keyring: Keyring,
        platforms: Platforms,
    ) -> Self {
        let registry = WorkerRegistry::new(redis.clone(), config.heartbeat_interval * 3);
        Self {
            config,
            db,
            registry,
            queue,
            leases: Leases::new(redis),
            keyring,
            platforms: Arc::new(platforms),
            board: TaskBoard::default(),
        }
    }

    pub fn registry(&self) -> &WorkerRegistry {
        &self.registry
    }

    /// The core tasks' health, for `/readyz`.
    pub fn board(&self) -> TaskBoard {
        self.board.clone()
    }

    /// Runs until `shutdown` fires, drains, then leaves the registry. Fails when a core
    /// task failed too often to be restarted: the process should exit non-zero.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), WorkerFailed> {
        let info = WorkerInfo {
            id: self.config.id.clone(),
            concurrency: self.config.concurrency,
        };
        tracing::info!(worker = %info.id, concurrency = info.concurrency, "worker started");
        // Announce first, so the fair share counts this worker from the start.
        let _ = self.registry.heartbeat(&info).await;

        let supervisor = Supervisor::new(self.board.clone());
        let held = Held::new(self.queue.config().partitions);
        let (events_tx, events_rx) = mpsc::channel(1024);
        let hub = AccountHub::new(
            self.db.clone(),
            self.keyring.clone(),
            Arc::clone(&self.platforms),
            events_tx,
            held.clone(),
        );
        // Stops, in this order: ownership (lanes drain), then the lease keeper, then the
        // rest (the router, the sweeper, the claimer and completer once drained).
        let ownership_stop = CancellationToken::new();
        let keeper_stop = CancellationToken::new();
        let inner = CancellationToken::new();
        let deliverer = Arc::new(Deliverer::new(
            self.db.clone(),
            self.queue.clone(),
            hub.clone(),
            http_client(),
            &supervisor,
            inner.clone(),
        ));
        let router = Arc::new(Router::new(
            self.db.clone(),
            self.queue.clone(),
            hub.clone(),
            self.config.clock.clone(),
        ));
        let events_rx = Arc::new(tokio::sync::Mutex::new(events_rx));
        let router_task = supervisor.spawn("router", inner.clone(), {
            let stop = inner.clone();
            move || {
                let (router, rx, stop) =
                    (Arc::clone(&router), Arc::clone(&events_rx), stop.clone());
                async move { router.run(&mut *rx.lock().await, stop).await }
            }
        });
        let sweeper_task = supervisor.spawn("sweeper", inner.clone(), {
            let (db, queue, stop) = (self.db.clone(), self.queue.clone(), inner.clone());
            let (interval, quiet) = (self.config.sweep_interval, self.config.sweep_quiet);
            move || sweeper::run(db.clone(), queue.clone(), interval, quiet, stop.clone())
        });
        let signals = Arc::new(RouteSignals::default());
        let watcher_task = supervisor.spawn("route-watcher", inner.clone(), {
            let (db, signals, stop) = (self.db.clone(), Arc::clone(&signals), inner.clone());
            move || ownership::watch_routes(db.clone(), Arc::clone(&signals), stop.clone())
        });
        let keeper = Arc::new(LeaseKeeper {
            worker_id: self.config.id.clone(),
            leases: self.leases.clone(),
            held: held.clone(),
            ttl: self.config.lease_ttl,
        });
        let keeper_task = supervisor.spawn("lease-keeper", keeper_stop.clone(), {
            let (keeper, hub, stop) = (Arc::clone(&keeper), hub.clone(), keeper_stop.clone());
            move || {
                let (keeper, hub, stop) = (Arc::clone(&keeper), hub.clone(), stop.clone());
                async move { keeper.run(stop, move |p| hub.stop_partition(p)).await }
            }
        });
        let ownership = Arc::new(Ownership::new(
            self.config.id.clone(),
            self.db.clone(),
            self.queue.clone(),
            self.leases.clone(),
            self.registry.clone(),
            deliverer,
            hub,
            Arc::new(Semaphore::new(self.config.concurrency.max(1))),
            held,
            AccountWork::default(),
            signals,
            self.config.lease_ttl,
            self.config.health_interval,
        ));
        let ownership_task = supervisor.spawn("ownership", ownership_stop.clone(), {
            let (ownership, stop) = (Arc::clone(&ownership), ownership_stop.clone());
            move || Arc::clone(&ownership).run(stop.clone())
        });

        let mut healthy = true;
        let mut tick = tokio::time::interval(self.config.heartbeat_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = supervisor.fatal.cancelled() => break,
                _ = tick.tick() => {}
            }
            let (beat, db) = tokio::join!(self.registry.heartbeat(&info), self.db.ping());
            // Log transitions only, so an outage is two lines rather than one per tick.
            match (beat, db, healthy) {
                (Ok(()), Ok(()), false) => {
                    tracing::info!(worker = %info.id, "dependencies reachable again");
                    healthy = true;
                }
                (Err(e), _, true) => {
                    tracing::warn!(worker = %info.id, error = %e, "redis unreachable; will keep trying");
                    healthy = false;
                }
                (_, Err(e), true) => {
                    tracing::warn!(worker = %info.id, error = %e, "postgres unreachable; will keep trying");
                    healthy = false;
                }
                _ => {}
            }
        }
        // Drain: partitions finish what is in hand and are handed back; then the rest.
        ownership_stop.cancel();
        ownership_task.join().await;
        keeper_stop.cancel();
        keeper_task.join().await;
        ownership.release_all().await;
        drop(ownership);
        inner.cancel();
        tokio::join!(router_task.join(), sweeper_task.join(), watcher_task.join());
        if let Err(e) = self.registry.leave(&info.id).await {
            tracing::warn!(worker = %info.id, error = %e, "could not leave the worker registry");
        }
        let dead = self.board.dead();
        if let Some((task, error)) = dead.first() {
            tracing::error!(worker = %info.id, task, error, "worker stopped: a core task failed");
            return Err(WorkerFailed(format!("the {task} task failed: {error}")));
        }
        tracing::info!(worker = %info.id, "worker stopped");
        Ok(())
    }
}

/// The HTTP client for fetching files: it follows no redirects.
fn http_client() -> reqwest::Client {
    media_http::client()
}

#[cfg(test)]
mod tests {
    use super::*;
    use relay_queue::testing::TestPrefix;
    use relay_store::DbConfig;

    #[tokio::test]
    async fn a_running_worker_is_alive_and_leaves_on_shutdown() {
        let keys = TestPrefix::new();
        let redis = RedisConn::connect_lazy(&keys.config(Duration::from_secs(1))).expect("redis");
        let db = Database::connect_lazy(&DbConfig {
            url: "postgres://postgres@127.0.0.1:5432/postgres".into(),
            max_connections: 1,
            acquire_timeout: Duration::from_secs(2),
        })
        .expect("db");
        let config = WorkerConfig {
            heartbeat_interval: Duration::from_millis(50),
            ..WorkerConfig::new("w-test")
        };
        let queue = JobQueue::new(
            redis.clone(),
            keys.url(),
            relay_queue::QueueConfig::default(),
        )
        .expect("queue");
        let worker = Worker::new(
            config,
            db,
            redis,
            queue,
            Keyring::development(),
            Platforms::default(),
        );
        let registry = worker.registry().clone();
        let worker_board = worker.board();
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(worker.run(shutdown.clone()));
        let board = worker_board;

        let mut alive = Vec::new();
        for _ in 0..40 {
            alive = registry.alive().await.expect("alive");
            if !alive.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        assert_eq!(alive, vec!["w-test"]);

        assert!(board.dead().is_empty(), "{:?}", board.snapshot());
        shutdown.cancel();
        task.await.expect("worker task").expect("a clean stop");
        assert!(
            registry.alive().await.expect("alive").is_empty(),
            "left on shutdown"
        );
    }
}
