//! Throwaway key prefixes for tests: each [`TestPrefix`] is a fresh `test-<unix seconds>-<hex>`
//! prefix on the local Redis (or the one in `RELAY_TEST_REDIS_URL`), and every key under it
//! is deleted (SCAN + UNLINK) when the last clone of the guard goes, whether the test passed
//! or panicked. Prefixes left behind by runs that were killed are deleted once two hours old.

use crate::{KeyPrefix, QueueError, RedisConfig, RedisConn};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const DEFAULT_URL: &str = "redis://127.0.0.1:6379";
const STALE_AFTER_SECS: u64 = 2 * 3600;
/// Keys asked for per SCAN step and deleted per UNLINK.
const BATCH: usize = 500;

static SWEPT: AtomicBool = AtomicBool::new(false);

/// The Redis tests keep their keys on.
pub fn redis_url() -> String {
    std::env::var("RELAY_TEST_REDIS_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned())
}

/// A key prefix of a test's own; see the module docs.
#[derive(Clone, Debug)]
pub struct TestPrefix {
    inner: Arc<Guard>,
}

#[derive(Debug)]
struct Guard {
    prefix: KeyPrefix,
    url: String,
}

impl TestPrefix {
    /// A new prefix (no key exists under it yet).
    pub fn new() -> Self {
        let url = redis_url();
        let now = unix_secs();
        if !SWEPT.swap(true, Ordering::SeqCst)
            && let Err(e) = sweep_stale(&url, now)
        {
            eprintln!("could not sweep stale test keys: {e}");
        }
        let random = |n: u64| getrandom::u64().unwrap_or(n);
        let name = format!(
            "test-{now}-{:016x}{:016x}",
            random(u64::from(std::process::id())),
            random(unix_nanos())
        );
        let prefix = KeyPrefix::parse(&name).expect("digits and hex make a valid prefix");
        Self {
            inner: Arc::new(Guard { prefix, url }),
        }
    }

    pub fn prefix(&self) -> &KeyPrefix {
        &self.inner.prefix
    }

    /// The Redis URL the prefix lives on.
    pub fn url(&self) -> &str {
        &self.inner.url
    }

    /// A connection configuration under this prefix.
    pub fn config(&self, command_timeout: Duration) -> RedisConfig {
        RedisConfig {
            url: self.inner.url.clone(),
            key_prefix: self.inner.prefix.clone(),
            command_timeout,
        }
    }

    /// A connection under this prefix (2 s command timeout).
    pub fn connect(&self) -> Result<RedisConn, QueueError> {
        RedisConn::connect_lazy(&self.config(Duration::from_secs(2)))
    }
}

impl Default for TestPrefix {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let pattern = format!("{}:*", self.prefix);
        if let Err(e) = unlink_matching(&self.url, &pattern, |_| true) {
            eprintln!("could not delete the test keys {pattern}: {e}");
        }
    }
}

/// Deletes the keys matching `pattern` that `select` accepts; how many it deleted.
/// A synchronous client: this runs inside `Drop`, maybe on the test's own runtime thread.
fn unlink_matching(
    url: &str,
    pattern: &str,
    select: impl Fn(&str) -> bool,
) -> redis::RedisResult<usize> {
    let client = redis::Client::open(url)?;
    let mut conn = client.get_connection_with_timeout(Duration::from_secs(2))?;
    conn.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut cursor: u64 = 0;
    let mut deleted = 0;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(pattern)
            .arg("COUNT")
            .arg(BATCH)
            .query(&mut conn)?;
        let chosen: Vec<&String> = keys.iter().filter(|k| select(k)).collect();
        if !chosen.is_empty() {
            let n: usize = redis::cmd("UNLINK").arg(&chosen).query(&mut conn)?;
            deleted += n;
        }
        if next == 0 {
            return Ok(deleted);
        }
        cursor = next;
    }
}

/// The safety net for runs that were killed before their guards could delete anything:
/// keys under `test-<unix seconds>-…` prefixes older than two hours.
fn sweep_stale(url: &str, now: u64) -> redis::RedisResult<usize> {
    unlink_matching(url, "test-*", |key| {
        let created = key
            .strip_prefix("test-")
            .and_then(|rest| rest.split('-').next())
            .and_then(|secs| secs.parse::<u64>().ok());
        created.is_some_and(|t| now.saturating_sub(t) > STALE_AFTER_SECS)
    })
}

fn unix_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

fn unix_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::from(d.subsec_nanos()))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(pattern: &str) -> usize {
        let client = redis::Client::open(redis_url()).expect("client");
        let mut conn = client.get_connection().expect("redis");
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(pattern)
            .query(&mut conn)
            .expect("keys");
        keys.len()
    }

    #[tokio::test]
    async fn every_key_of_the_prefix_goes_with_the_last_guard() {
        let prefix = TestPrefix::new();
        let pattern = format!("{}:*", prefix.prefix());
        let redis = prefix.connect().expect("redis");
        for i in 0..1200 {
            let key = redis.prefix().key(&["k", &i.to_string()]);
            let _: () = redis
                .run(redis::cmd("SET").arg(key).arg(1))
                .await
                .expect("set");
        }
        let _: String = redis
            .run(
                redis::cmd("XADD")
                    .arg(redis.prefix().key(&["{p0}", "jobs"]))
                    .arg("*")
                    .arg("d")
                    .arg(1),
            )
            .await
            .expect("xadd");
        let copy = prefix.clone();
        drop(prefix);
        assert_eq!(count(&pattern), 1201, "a clone still holds them");
        drop(copy);
        assert_eq!(count(&pattern), 0, "keys of {pattern} are left");
    }

    #[test]
    fn stale_prefixes_are_swept_and_fresh_ones_kept() {
        let client = redis::Client::open(redis_url()).expect("client");
        let mut conn = client.get_connection().expect("redis");
        let now = unix_secs();
        let old = format!("test-{}-sweepcheck{now}:k", now - STALE_AFTER_SECS - 60);
        let fresh = format!("test-{}-sweepcheck{now}:k", now - 60);
        for key in [&old, &fresh] {
            let _: () = redis::cmd("SET")
                .arg(key)
                .arg(1)
                .query(&mut conn)
                .expect("set");
        }
        sweep_stale(&redis_url(), now).expect("sweep");
        assert_eq!(count(&old), 0);
        assert_eq!(count(&fresh), 1);
        let _: usize = redis::cmd("UNLINK")
            .arg(&fresh)
            .query(&mut conn)
            .expect("unlink");
    }
}
