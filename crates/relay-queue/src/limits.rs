//! Fixed-window rate limits kept in Redis, so every API node counts the same attempts.
//! Each key counts hits in a window that starts with its first hit.

use crate::{QueueError, RedisConn};
use std::time::Duration;

/// How many hits a window allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitRule {
    pub max: u32,
    pub window: Duration,
}

#[derive(Clone, Debug)]
pub struct RateLimiter {
    redis: RedisConn,
    script: redis::Script,
}

const HIT: &str = r"
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {n, ttl}
";

impl RateLimiter {
    pub fn new(redis: RedisConn) -> Self {
        Self {
            redis,
            script: redis::Script::new(HIT),
        }
    }

    fn key(&self, name: &str) -> String {
        self.redis.prefix().key(&["limit", name])
    }

    /// Counts a hit. `Err(wait)` when this hit is over the limit: try again after `wait`.
    pub async fn hit(
        &self,
        name: &str,
        rule: LimitRule,
    ) -> Result<Result<(), Duration>, QueueError> {
        let window_ms = u64::try_from(rule.window.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        let mut conn = self.redis.manager();
        let mut call = self.script.key(self.key(name));
        call.arg(window_ms);
        let invocation = call.invoke_async(&mut conn);
        let (count, ttl_ms): (u64, i64) = tokio::time::timeout(Duration::from_secs(2), invocation)
            .await
            .map_err(|_| QueueError::Timeout(Duration::from_secs(2)))??;
        Ok(verdict(count, ttl_ms, rule))
    }

    /// Whether the limit is already reached, without counting a hit.
    pub async fn check(
        &self,
        name: &str,
        rule: LimitRule,
    ) -> Result<Result<(), Duration>, QueueError> {
        let key = self.key(name);
        let (count, ttl_ms): (Option<u64>, i64) = self
            .redis
            .run_pipe(redis::pipe().get(&key).cmd("PTTL").arg(&key))
            .await?;
        let count = count.unwrap_or(0);
        if count >= u64::from(rule.max) {
            return Ok(Err(wait(ttl_ms, rule)));
        }
        Ok(Ok(()))
    }

    /// Forgets the hits of a key (after a successful sign-in, for instance).
    pub async fn reset(&self, name: &str) -> Result<(), QueueError> {
        let _: i64 = self
            .redis
            .run(redis::cmd("DEL").arg(self.key(name)))
            .await?;
        Ok(())
    }
}

fn verdict(count: u64, ttl_ms: i64, rule: LimitRule) -> Result<(), Duration> {
    if count > u64::from(rule.max) {
        Err(wait(ttl_ms, rule))
    } else {
        Ok(())
    }
}

fn wait(ttl_ms: i64, rule: LimitRule) -> Duration {
    u64::try_from(ttl_ms)
        .map(Duration::from_millis)
        .unwrap_or(rule.window)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TestPrefix;

    /// Also the guard of the test's keys: keep it until the test ends.
    fn limiter() -> (RateLimiter, TestPrefix) {
        let keys = TestPrefix::new();
        let conn = keys.connect().expect("client");
        (RateLimiter::new(conn), keys)
    }

    #[tokio::test]
    async fn hits_over_the_limit_are_refused_with_the_time_left() {
        let (limiter, _keys) = limiter();
        let rule = LimitRule {
            max: 3,
            window: Duration::from_secs(60),
        };
        for _ in 0..3 {
            assert_eq!(limiter.hit("ip:1", rule).await.expect("redis"), Ok(()));
        }
        let wait = limiter
            .hit("ip:1", rule)
            .await
            .expect("redis")
            .expect_err("over the limit");
        assert!(
            wait > Duration::from_secs(55) && wait <= Duration::from_secs(60),
            "{wait:?}"
        );
        assert_eq!(
            limiter.hit("ip:2", rule).await.expect("redis"),
            Ok(()),
            "keys are independent"
        );
    }

    #[tokio::test]
    async fn the_window_ends_and_reset_forgets() {
        let (limiter, _keys) = limiter();
        let rule = LimitRule {
            max: 1,
            window: Duration::from_millis(200),
        };
        limiter.hit("a", rule).await.expect("redis").expect("first");
        assert!(limiter.check("a", rule).await.expect("redis").is_err());
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(limiter.check("a", rule).await.expect("redis"), Ok(()));
        limiter
            .hit("a", rule)
            .await
            .expect("redis")
            .expect("new window");
        limiter.reset("a").await.expect("reset");
        assert_eq!(limiter.check("a", rule).await.expect("redis"), Ok(()));
    }
}
