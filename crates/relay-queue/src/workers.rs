//! Which worker processes are alive. Each worker keeps a key with a short TTL fresh while
//! it runs and deletes it when it stops; a worker that dies simply lets its key expire.
//! Partition and session ownership build on this.

use crate::{QueueError, RedisConn};
use std::time::Duration;

/// What a worker announces about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerInfo {
    pub id: String,
    pub concurrency: usize,
}

#[derive(Clone, Debug)]
pub struct WorkerRegistry {
    redis: RedisConn,
    ttl: Duration,
}

impl WorkerRegistry {
    pub fn new(redis: RedisConn, ttl: Duration) -> Self {
        Self { redis, ttl }
    }

    fn key(&self, id: &str) -> String {
        self.redis.prefix().key(&["workers", id])
    }

    /// Announces (or renews) a worker for one TTL.
    pub async fn heartbeat(&self, worker: &WorkerInfo) -> Result<(), QueueError> {
        let ttl_ms = u64::try_from(self.ttl.as_millis()).unwrap_or(u64::MAX);
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.key(&worker.id))
            .arg(worker.concurrency)
            .arg("PX")
            .arg(ttl_ms);
        let _: () = self.redis.run(&cmd).await?;
        Ok(())
    }

    /// Removes a worker that is stopping cleanly, so others need not wait for the TTL.
    pub async fn leave(&self, id: &str) -> Result<(), QueueError> {
        let _: i64 = self.redis.run(redis::cmd("DEL").arg(self.key(id))).await?;
        Ok(())
    }

    /// The ids of the workers whose heartbeat is current, sorted.
    pub async fn alive(&self) -> Result<Vec<String>, QueueError> {
        let pattern = self.key("*");
        let prefix_len = pattern.len() - 1;
        let mut cursor: u64 = 0;
        let mut ids = Vec::new();
        loop {
            let mut cmd = redis::cmd("SCAN");
            cmd.arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(500);
            let (next, keys): (u64, Vec<String>) = self.redis.run(&cmd).await?;
            ids.extend(keys.into_iter().map(|k| k[prefix_len..].to_owned()));
            if next == 0 {
                break;
            }
            cursor = next;
        }
        ids.sort();
        ids.dedup();
        Ok(ids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TestPrefix;

    /// Also the guard of the test's keys: keep it until the test ends.
    fn registry(ttl: Duration) -> (WorkerRegistry, TestPrefix) {
        let keys = TestPrefix::new();
        let conn = keys.connect().expect("client");
        (WorkerRegistry::new(conn, ttl), keys)
    }

    #[tokio::test]
    async fn heartbeats_make_a_worker_alive_until_it_leaves() {
        let (reg, _keys) = registry(Duration::from_secs(10));
        let w = WorkerInfo {
            id: "w1".into(),
            concurrency: 4,
        };
        reg.heartbeat(&w).await.expect("heartbeat");
        reg.heartbeat(&WorkerInfo {
            id: "w2".into(),
            concurrency: 1,
        })
        .await
        .expect("heartbeat");
        assert_eq!(reg.alive().await.expect("alive"), vec!["w1", "w2"]);
        reg.leave("w1").await.expect("leave");
        assert_eq!(reg.alive().await.expect("alive"), vec!["w2"]);
        reg.leave("w2").await.expect("leave");
    }

    #[tokio::test]
    async fn a_worker_that_stops_beating_expires() {
        let (reg, _keys) = registry(Duration::from_millis(150));
        reg.heartbeat(&WorkerInfo {
            id: "gone".into(),
            concurrency: 1,
        })
        .await
        .expect("heartbeat");
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert!(reg.alive().await.expect("alive").is_empty());
    }
}
