//! Redis, Relay's job transport: the connection, key naming and (as the forwarding runtime
//! grows) streams with priorities, partitions, leases, retries and dead letters.
//!
//! Postgres stays the source of truth; anything here can be rebuilt from it.

mod keys;
mod limits;
mod redis_conn;
mod workers;

pub use keys::KeyPrefix;
pub use limits::{LimitRule, RateLimiter};
pub use redis_conn::{QueueError, RedisConfig, RedisConn, check_redis_url};
pub use workers::{WorkerInfo, WorkerRegistry};
