//! Renewable leases with fencing tokens: exactly one holder per name at a time (a
//! partition, a Telegram session, a bot).
//!
//! Keys: the lease `<prefix>:{lease}:<name>` holds `<token>:<holder>` with a TTL; its
//! counter `<prefix>:{lease}:<name>:token` only ever grows, so every acquisition gets a
//! larger token than any before it. Both keys share the `{lease}` hash tag, so the Lua
//! scripts that touch both stay valid on a Redis Cluster. Whoever acts on behalf of a lease
//! should pass its token along (for instance into the rows it writes), so that a holder
//! that lost its lease without noticing can be told apart from the current one.

use crate::{QueueError, RedisConn, scripts};
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Leases {
    redis: RedisConn,
    acquire: redis::Script,
    renew: redis::Script,
    release: redis::Script,
}

fn ttl_ms(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

fn value(holder: &str, token: u64) -> String {
    format!("{token}:{holder}")
}

impl Leases {
    pub fn new(redis: RedisConn) -> Self {
        Self {
            redis,
            acquire: redis::Script::new(scripts::LEASE_ACQUIRE),
            renew: redis::Script::new(scripts::LEASE_RENEW),
            release: redis::Script::new(scripts::LEASE_RELEASE),
        }
    }

    fn key(&self, name: &str) -> String {
        self.redis.prefix().key(&["{lease}", name])
    }

    fn token_key(&self, name: &str) -> String {
        self.redis.prefix().key(&["{lease}", name, "token"])
    }

    /// SET NX PX plus a fencing token from the name's counter, atomically. `None` when the
    /// lease is held (by someone else, or already by `holder` under another token).
    pub async fn acquire(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<Option<u64>, QueueError> {
        let mut call = self.acquire.key(self.key(name));
        call.key(self.token_key(name)).arg(holder).arg(ttl_ms(ttl));
        self.redis.run_script(&call).await
    }

    /// Extends the lease only if `holder` and `token` still match. `false`: the lease is lost.
    pub async fn renew(
        &self,
        name: &str,
        holder: &str,
        token: u64,
        ttl: Duration,
    ) -> Result<bool, QueueError> {
        let mut call = self.renew.key(self.key(name));
        call.arg(value(holder, token)).arg(ttl_ms(ttl));
        let done: i64 = self.redis.run_script(&call).await?;
        Ok(done == 1)
    }

    /// Deletes the lease only if it is still ours. `false`: it was not (any more).
    pub async fn release(&self, name: &str, holder: &str, token: u64) -> Result<bool, QueueError> {
        let mut call = self.release.key(self.key(name));
        call.arg(value(holder, token));
        let done: i64 = self.redis.run_script(&call).await?;
        Ok(done == 1)
    }

    /// The current holder and token, if the lease is held.
    pub async fn holder(&self, name: &str) -> Result<Option<(String, u64)>, QueueError> {
        let raw: Option<String> = self
            .redis
            .run(redis::cmd("GET").arg(self.key(name)))
            .await?;
        Ok(raw.and_then(|v| {
            let (token, holder) = v.split_once(':')?;
            Some((holder.to_owned(), token.parse().ok()?))
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TestPrefix;

    /// Also the guard of the test's keys: keep it until the test ends.
    fn leases() -> (Leases, TestPrefix) {
        let keys = TestPrefix::new();
        let conn = keys.connect().expect("client");
        (Leases::new(conn), keys)
    }

    const TTL: Duration = Duration::from_secs(10);

    #[tokio::test]
    async fn only_one_holder_acquires_and_only_it_releases() {
        let (leases, _keys) = leases();
        let token = leases
            .acquire("p:1", "w1", TTL)
            .await
            .expect("redis")
            .expect("free lease");
        assert_eq!(leases.acquire("p:1", "w2", TTL).await.expect("redis"), None);
        assert_eq!(
            leases.acquire("p:1", "w1", TTL).await.expect("redis"),
            None,
            "not twice, even by the holder"
        );
        assert_eq!(
            leases.holder("p:1").await.expect("redis"),
            Some(("w1".to_owned(), token))
        );
        assert!(!leases.release("p:1", "w2", token).await.expect("redis"));
        assert!(!leases.release("p:1", "w1", token + 1).await.expect("redis"));
        assert!(leases.release("p:1", "w1", token).await.expect("redis"));
        assert_eq!(leases.holder("p:1").await.expect("redis"), None);
        assert!(!leases.release("p:1", "w1", token).await.expect("redis"));
    }

    #[tokio::test]
    async fn tokens_grow_across_acquisitions() {
        let (leases, _keys) = leases();
        let mut last = 0;
        for holder in ["w1", "w2", "w1:with:colons"] {
            let token = leases
                .acquire("s", holder, TTL)
                .await
                .expect("redis")
                .expect("free lease");
            assert!(token > last, "{token} after {last}");
            assert_eq!(
                leases.holder("s").await.expect("redis"),
                Some((holder.to_owned(), token))
            );
            assert!(leases.release("s", holder, token).await.expect("redis"));
            last = token;
        }
        // Names are independent.
        assert!(
            leases
                .acquire("other", "w1", TTL)
                .await
                .expect("redis")
                .is_some()
        );
    }

    #[tokio::test]
    async fn renew_needs_the_holder_and_token_and_fails_after_expiry() {
        let (leases, _keys) = leases();
        let ttl = Duration::from_millis(200);
        let token = leases
            .acquire("p:2", "w1", ttl)
            .await
            .expect("redis")
            .expect("free lease");
        assert!(!leases.renew("p:2", "w2", token, ttl).await.expect("redis"));
        assert!(
            !leases
                .renew("p:2", "w1", token + 1, ttl)
                .await
                .expect("redis")
        );
        assert!(leases.renew("p:2", "w1", token, ttl).await.expect("redis"));
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!leases.renew("p:2", "w1", token, ttl).await.expect("redis"));
        assert_eq!(leases.holder("p:2").await.expect("redis"), None);
        let next = leases
            .acquire("p:2", "w2", ttl)
            .await
            .expect("redis")
            .expect("expired lease is free");
        assert!(next > token);
        assert!(!leases.renew("p:2", "w1", token, ttl).await.expect("redis"));
    }
}
