//! A reconnecting Redis connection. It is created lazily so a process can start while
//! Redis is down; commands fail fast meanwhile and work again once Redis is back.

use crate::KeyPrefix;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("redis did not answer within {0:?}")]
    Timeout(Duration),
}

/// Checks a Redis URL without connecting.
pub fn check_redis_url(url: &str) -> Result<(), String> {
    if !(url.starts_with("redis://") || url.starts_with("rediss://") || url.starts_with("unix://"))
    {
        return Err("expected redis://host:port".to_owned());
    }
    redis::Client::open(url)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[derive(Clone)]
pub struct RedisConfig {
    pub url: String,
    pub key_prefix: KeyPrefix,
    /// How long one ordinary command may take. Blocking reads use connections of their own.
    pub command_timeout: Duration,
}

impl std::fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password.
        f.debug_struct("RedisConfig")
            .field("key_prefix", &self.key_prefix)
            .finish_non_exhaustive()
    }
}

/// A cloneable handle on one multiplexed, self-healing connection.
#[derive(Clone)]
pub struct RedisConn {
    manager: ConnectionManager,
    prefix: KeyPrefix,
    command_timeout: Duration,
}

impl std::fmt::Debug for RedisConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisConn")
            .field("prefix", &self.prefix)
            .finish()
    }
}

impl RedisConn {
    /// Validates the URL now and connects on first use.
    pub fn connect_lazy(config: &RedisConfig) -> Result<Self, QueueError> {
        let client = redis::Client::open(config.url.as_str())?;
        let manager_config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(config.command_timeout))
            .set_response_timeout(Some(config.command_timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let manager = ConnectionManager::new_lazy_with_config(client, manager_config)?;
        Ok(Self {
            manager,
            prefix: config.key_prefix.clone(),
            command_timeout: config.command_timeout,
        })
    }

    pub fn prefix(&self) -> &KeyPrefix {
        &self.prefix
    }

    /// How long one ordinary command may take.
    pub fn command_timeout(&self) -> Duration {
        self.command_timeout
    }

    /// The shared connection, for commands and pipelines.
    pub fn manager(&self) -> ConnectionManager {
        self.manager.clone()
    }

    /// Runs one command with the command timeout on top of the driver's own.
    pub async fn run<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, QueueError> {
        let mut conn = self.manager.clone();
        match tokio::time::timeout(self.command_timeout, cmd.query_async(&mut conn)).await {
            Ok(result) => Ok(result?),
            Err(_) => Err(QueueError::Timeout(self.command_timeout)),
        }
    }

    /// Runs a pipeline (one round trip) with the command timeout.
    pub async fn run_pipe<T: redis::FromRedisValue>(
        &self,
        pipe: &redis::Pipeline,
    ) -> Result<T, QueueError> {
        let mut conn = self.manager.clone();
        match tokio::time::timeout(self.command_timeout, pipe.query_async(&mut conn)).await {
            Ok(result) => Ok(result?),
            Err(_) => Err(QueueError::Timeout(self.command_timeout)),
        }
    }

    /// Runs a Lua script (EVALSHA, loading it on NOSCRIPT) with the command timeout.
    pub async fn run_script<T: redis::FromRedisValue>(
        &self,
        invocation: &redis::ScriptInvocation<'_>,
    ) -> Result<T, QueueError> {
        let mut conn = self.manager.clone();
        match tokio::time::timeout(self.command_timeout, invocation.invoke_async(&mut conn)).await {
            Ok(result) => Ok(result?),
            Err(_) => Err(QueueError::Timeout(self.command_timeout)),
        }
    }

    /// A round trip, for readiness checks.
    pub async fn ping(&self) -> Result<(), QueueError> {
        let _: String = self.run(&redis::cmd("PING")).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(url: &str) -> RedisConfig {
        RedisConfig {
            url: url.to_owned(),
            key_prefix: KeyPrefix::parse("test").expect("prefix"),
            command_timeout: Duration::from_secs(2),
        }
    }

    #[tokio::test]
    async fn ping_answers_on_the_local_redis() {
        let conn = RedisConn::connect_lazy(&config("redis://127.0.0.1:6379")).expect("client");
        conn.ping().await.expect("ping");
    }

    #[tokio::test]
    async fn ping_fails_quickly_when_nothing_listens() {
        // Port 1 is never a Redis here: the connection is refused at once.
        let conn = RedisConn::connect_lazy(&config("redis://127.0.0.1:1")).expect("client");
        assert!(conn.ping().await.is_err());
    }

    #[test]
    fn urls_are_checked_without_connecting() {
        assert!(check_redis_url("redis://127.0.0.1:6379").is_ok());
        assert!(check_redis_url("redis://:secret@127.0.0.1:6379/2").is_ok());
        assert!(check_redis_url("nonsense").is_err());
        assert!(check_redis_url("http://127.0.0.1:6379").is_err());
    }

    #[test]
    fn a_malformed_url_is_refused_up_front() {
        assert!(RedisConn::connect_lazy(&config("http://nope")).is_err());
    }
}
