//! The worker process: it announces itself while it runs and will host the listeners,
//! deliveries, session ownership, health checks and the sweeper. Today it keeps its
//! heartbeat so other processes can see which workers are alive, and leaves cleanly on
//! shutdown.

use relay_queue::{RedisConn, WorkerInfo, WorkerRegistry};
use relay_store::Database;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Unique per process, e.g. `host-pid-random`.
    pub id: String,
    /// How many deliveries this worker runs at once.
    pub concurrency: usize,
    /// How often the heartbeat is renewed; it lives three times as long.
    pub heartbeat_interval: Duration,
}

pub struct Worker {
    config: WorkerConfig,
    db: Database,
    registry: WorkerRegistry,
}

impl Worker {
    pub fn new(config: WorkerConfig, db: Database, redis: RedisConn) -> Self {
        let registry = WorkerRegistry::new(redis, config.heartbeat_interval * 3);
        Self {
            config,
            db,
            registry,
        }
    }

    pub fn registry(&self) -> &WorkerRegistry {
        &self.registry
    }

    /// Runs until `shutdown` fires, then leaves the registry.
    pub async fn run(self, shutdown: CancellationToken) {
        let info = WorkerInfo {
            id: self.config.id.clone(),
            concurrency: self.config.concurrency,
        };
        tracing::info!(worker = %info.id, concurrency = info.concurrency, "worker started");
        let mut healthy = true;
        let mut tick = tokio::time::interval(self.config.heartbeat_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
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
        if let Err(e) = self.registry.leave(&info.id).await {
            tracing::warn!(worker = %info.id, error = %e, "could not leave the worker registry");
        }
        tracing::info!(worker = %info.id, "worker stopped");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use relay_queue::{KeyPrefix, RedisConfig};
    use relay_store::DbConfig;

    #[tokio::test]
    async fn a_running_worker_is_alive_and_leaves_on_shutdown() {
        let prefix = format!("test-{}", uuid::Uuid::new_v4().simple());
        let redis = RedisConn::connect_lazy(&RedisConfig {
            url: "redis://127.0.0.1:6379".into(),
            key_prefix: KeyPrefix::parse(&prefix).expect("prefix"),
            command_timeout: Duration::from_secs(1),
        })
        .expect("redis");
        let db = Database::connect_lazy(&DbConfig {
            url: "postgres://postgres@127.0.0.1:5432/postgres".into(),
            max_connections: 1,
            acquire_timeout: Duration::from_secs(2),
        })
        .expect("db");
        let config = WorkerConfig {
            id: "w-test".into(),
            concurrency: 2,
            heartbeat_interval: Duration::from_millis(50),
        };
        let worker = Worker::new(config, db, redis);
        let registry = worker.registry().clone();
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(worker.run(shutdown.clone()));

        let mut alive = Vec::new();
        for _ in 0..40 {
            alive = registry.alive().await.expect("alive");
            if !alive.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        assert_eq!(alive, vec!["w-test"]);

        shutdown.cancel();
        task.await.expect("worker task");
        assert!(
            registry.alive().await.expect("alive").is_empty(),
            "left on shutdown"
        );
    }
}
