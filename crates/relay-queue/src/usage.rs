//! Copies sent per owner and day (UTC), counted in Redis so no PostgreSQL row is hot: the
//! router adds what it queues and reads the total back in the same round trip, and the
//! worker flushes the totals it touched to `usage_daily` now and then. Redis holds the
//! count, so a flush after a crash writes the exact total; a count kept for three days.

use crate::{QueueError, RedisConn};

const KEEP_SECS: i64 = 3 * 24 * 3600;

#[derive(Clone, Debug)]
pub struct UsageCounter {
    redis: RedisConn,
}

impl UsageCounter {
    pub fn new(redis: RedisConn) -> Self {
        Self { redis }
    }

    fn key(&self, owner: &str, day: &str) -> String {
        self.redis.prefix().key(&["usage", day, owner])
    }

    /// Adds `n` to each owner's count for `day` (`YYYY-MM-DD`); the totals after, in order.
    pub async fn add(&self, day: &str, counts: &[(String, i64)]) -> Result<Vec<i64>, QueueError> {
        if counts.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for (owner, n) in counts {
            let key = self.key(owner, day);
            pipe.cmd("INCRBY")
                .arg(&key)
                .arg(*n)
                .expire(&key, KEEP_SECS)
                .ignore();
        }
        self.redis.run_pipe(&pipe).await
    }

    /// Each owner's count for `day` (0 when none).
    pub async fn totals(&self, day: &str, owners: &[String]) -> Result<Vec<i64>, QueueError> {
        if owners.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for owner in owners {
            pipe.cmd("GET").arg(self.key(owner, day));
        }
        let values: Vec<Option<i64>> = self.redis.run_pipe(&pipe).await?;
        Ok(values.into_iter().map(Option::unwrap_or_default).collect())
    }
}
