//! Redis, Relay's job transport: the connection, key naming and (as the forwarding runtime
//! grows) streams with priorities, partitions, leases, retries and dead letters: see
//! [`JobQueue`] (and the key names in the `jobs` module) and [`Leases`].
//!
//! Postgres stays the source of truth; anything here can be rebuilt from it.

mod echo_marks;
mod jobs;
mod keys;
mod leases;
mod limits;
mod redis_conn;
mod scripts;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
mod usage;
mod workers;

pub use echo_marks::EchoMarks;
pub use jobs::{
    DeadLetter, Entry, GROUP, Job, JobQueue, Priority, QueueConfig, StreamKind, backoff,
    partition_of,
};
pub use keys::KeyPrefix;
pub use leases::Leases;
pub use limits::{LimitRule, RateLimiter};
pub use redis_conn::{QueueError, RedisConfig, RedisConn, check_redis_url};
pub use usage::UsageCounter;
pub use workers::{WorkerInfo, WorkerRegistry};
