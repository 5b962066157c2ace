//! The job queue on Redis Streams.
//!
//! Every delivery is first an outbox row in PostgreSQL; a job here only points at it
//! (`delivery_id`), so anything lost in Redis is found again by the sweeper.
//!
//! Jobs are partitioned by the sending account ([`partition_of`]); one partition holds all
//! jobs of a destination and is read by its single owner (the holder of the partition's
//! lease) through one consumer group, `relay-workers`. The owner works one destination
//! (the job's lane) at a time in `delivery_id` order; this module gives it entries in
//! priority order, retries with backoff that remember which lane waits ([`JobQueue::paused`]),
//! and a way to take over what a dead owner left pending ([`JobQueue::claim_pending`]).
//!
//! # Keys
//!
//! All keys are `KeyPrefix::key` names; the part in braces is a Redis Cluster hash tag, so
//! every key of one partition lives in one slot and the multi-key Lua scripts stay valid on
//! a cluster. For partition 7 under the prefix `relay`:
//!
//! | key | type | holds |
//! |---|---|---|
//! | `relay:{p7}:jobs:retry` | stream | retries that are due (served first) |
//! | `relay:{p7}:jobs:high` / `:medium` / `:low` | stream | new jobs by priority |
//! | `relay:{p7}:delayed` | sorted set | retries waiting, scored by due time (ms) |
//! | `relay:{p7}:paused` | hash | destination → delivery id of the delayed job its lane waits for |
//! | `relay:{dead}:jobs` | stream | dead letters (capped with `MAXLEN ~`) |
//!
//! Stream entries carry the job as fields `d` (delivery id), `dest`, `prio`
//! (`high`/`medium`/`low`) and `a` (attempts so far). Members of the delayed set are
//! `delivery_id|attempt|priority|destination` (the destination last, so it may hold `|`).
//! Dead letters add `partition`, `error` and `at_ms`.
//!
//! Acked entries are deleted (XACK + XDEL), so streams stay short and `XLEN` is the backlog.
//! Consumer groups are created at id `0` (never `$`), so a group that went missing (a Redis
//! that was flushed or restarted empty) is recreated without skipping anything still there.

use crate::{QueueError, RedisConn, scripts};
use redis::Value;
use redis::aio::MultiplexedConnection;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use relay_core::Priority;
use relay_core::delivery::QueuedDelivery;

mod ack;
mod backlog;
mod dead;
mod read;
mod retry;
mod wire;

use wire::{is_code, job_fields};

/// The one consumer group every partition stream is read through.
pub const GROUP: &str = "relay-workers";

/// Blocking-read connections kept for reuse (one is busy per concurrent blocking read).
const MAX_IDLE_BLOCKING: usize = 16;

/// Batch size of XAUTOCLAIM.
const CLAIM_BATCH: usize = 500;

/// One unit of work: deliver the outbox row `delivery_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    pub delivery_id: i64,
    /// The lane: all jobs with one destination key are done one at a time, in delivery_id order.
    pub destination: String,
    pub priority: Priority,
    /// Attempts made so far (0 for a new job).
    pub attempt: u32,
}

/// A job as read from a stream; `id` and `stream` are needed to ack, delay or dead-letter it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The stream entry id.
    pub id: String,
    pub stream: StreamKind,
    pub job: Job,
}

/// The four streams of a partition, in the order they are served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StreamKind {
    Retry,
    High,
    Medium,
    Low,
}

impl StreamKind {
    /// In serving order: retries first, then by priority.
    pub const ALL: [StreamKind; 4] = [
        StreamKind::Retry,
        StreamKind::High,
        StreamKind::Medium,
        StreamKind::Low,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            StreamKind::Retry => "retry",
            StreamKind::High => "high",
            StreamKind::Medium => "medium",
            StreamKind::Low => "low",
        }
    }

    fn index(self) -> usize {
        match self {
            StreamKind::Retry => 0,
            StreamKind::High => 1,
            StreamKind::Medium => 2,
            StreamKind::Low => 3,
        }
    }
}

impl From<Priority> for StreamKind {
    fn from(priority: Priority) -> Self {
        match priority {
            Priority::High => StreamKind::High,
            Priority::Medium => StreamKind::Medium,
            Priority::Low => StreamKind::Low,
        }
    }
}

#[derive(Debug, Clone)]
pub struct QueueConfig {
    pub partitions: u16,
    /// After this many attempts a job goes to the dead letters.
    pub max_attempts: u32,
    pub base_backoff: Duration,
    pub max_backoff: Duration,
    /// Approximate cap of the dead-letter stream (`XADD MAXLEN ~`).
    pub dead_letter_max_len: usize,
}

impl Default for QueueConfig {
    fn default() -> Self {
        Self {
            partitions: 16,
            max_attempts: 8,
            base_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(300),
            dead_letter_max_len: 100_000,
        }
    }
}

/// A job that was given up on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    pub job: Job,
    pub partition: u16,
    pub error: String,
    pub at_ms: i64,
}

/// Stable partition of a sending account (any string id): FNV-1a 64 of the bytes, mod
/// `partitions` (0 is taken as 1).
pub fn partition_of(sender_account: &str, partitions: u16) -> u16 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in sender_account.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    // The remainder is below `partitions`, so it fits.
    u16::try_from(hash % u64::from(partitions.max(1))).unwrap_or(0)
}

/// Exponential backoff with full jitter: a random wait in
/// `[base·2^(attempt-1) / 2, base·2^(attempt-1)]`, that range capped at `max_backoff`.
/// `attempt` counts from 1 (0 is taken as 1).
pub fn backoff(config: &QueueConfig, attempt: u32) -> Duration {
    let doublings = attempt.max(1) - 1;
    let base = config.base_backoff.as_nanos();
    let ceiling = if doublings >= 100 {
        u128::MAX
    } else {
        base.saturating_mul(1u128 << doublings)
    };
    let cap = ceiling.min(config.max_backoff.as_nanos());
    let low = cap / 2;
    let jitter = u128::from(random_u64()) % (cap - low + 1);
    Duration::from_nanos(u64::try_from(low + jitter).unwrap_or(u64::MAX))
}

fn random_u64() -> u64 {
    getrandom::u64().unwrap_or_else(|_| {
        // No OS randomness: the clock's nanoseconds still spread retries apart.
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::from(d.subsec_nanos()) ^ d.as_secs().rotate_left(32))
            .unwrap_or(0)
    })
}

struct Inner {
    redis: RedisConn,
    client: redis::Client,
    config: QueueConfig,
    /// Stream keys whose consumer group this process created or saw.
    groups: Mutex<HashSet<String>>,
    /// Connections for blocking reads, without a response timeout.
    idle_blocking: Mutex<Vec<MultiplexedConnection>>,
    /// Entries a blocking read delivered beyond the requested count, per (partition, consumer).
    overflow: Mutex<HashMap<(u16, String), VecDeque<Entry>>>,
    read: redis::Script,
    delay: redis::Script,
    promote: redis::Script,
}

/// The partitioned job queue. Cheap to clone.
#[derive(Clone)]
pub struct JobQueue {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for JobQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobQueue")
            .field("redis", &self.inner.redis)
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Reads of at least this many entries reserve a tenth for the lower priorities.
pub const STARVATION_GUARD_MIN_COUNT: usize = 20;

impl JobQueue {
    /// `redis` serves ordinary commands; `redis_url` opens the dedicated blocking-read
    /// connections, lazily, without the driver's 500 ms response timeout.
    pub fn new(redis: RedisConn, redis_url: &str, config: QueueConfig) -> Result<Self, QueueError> {
        let client = redis::Client::open(redis_url)?;
        Ok(Self {
            inner: Arc::new(Inner {
                redis,
                client,
                config,
                groups: Mutex::new(HashSet::new()),
                idle_blocking: Mutex::new(Vec::new()),
                overflow: Mutex::new(HashMap::new()),
                read: redis::Script::new(scripts::READ),
                delay: redis::Script::new(scripts::DELAY),
                promote: redis::Script::new(scripts::PROMOTE),
            }),
        })
    }

    pub fn config(&self) -> &QueueConfig {
        &self.inner.config
    }

    /// The job of one outbox row, with the partition of its sending account.
    pub fn job_for(
        &self,
        sender_account: &str,
        delivery_id: i64,
        destination: &str,
        priority: Priority,
        attempt: u32,
    ) -> (u16, Job) {
        (
            partition_of(sender_account, self.inner.config.partitions),
            Job {
                delivery_id,
                destination: destination.to_owned(),
                priority,
                attempt,
            },
        )
    }

    fn redis(&self) -> &RedisConn {
        &self.inner.redis
    }

    /// The echo marks on the same connection (see [`crate::EchoMarks`]).
    pub fn echo_marks(&self) -> crate::EchoMarks {
        crate::EchoMarks::new(self.inner.redis.clone())
    }

    /// Copies sent per owner and day (`crate::UsageCounter`).
    pub fn usage(&self) -> crate::UsageCounter {
        crate::UsageCounter::new(self.inner.redis.clone())
    }

    fn tag(partition: u16) -> String {
        format!("{{p{partition}}}")
    }

    fn stream_key(&self, partition: u16, kind: StreamKind) -> String {
        self.redis()
            .prefix()
            .key(&[&Self::tag(partition), "jobs", kind.as_str()])
    }

    fn stream_keys(&self, partition: u16) -> [String; 4] {
        StreamKind::ALL.map(|kind| self.stream_key(partition, kind))
    }

    fn delayed_key(&self, partition: u16) -> String {
        self.redis()
            .prefix()
            .key(&[&Self::tag(partition), "delayed"])
    }

    fn paused_key(&self, partition: u16) -> String {
        self.redis()
            .prefix()
            .key(&[&Self::tag(partition), "paused"])
    }

    fn dead_key(&self) -> String {
        self.redis().prefix().key(&["{dead}", "jobs"])
    }

    /// XADD to the partition's stream for the job's priority.
    pub async fn enqueue(&self, partition: u16, job: &Job) -> Result<(), QueueError> {
        self.enqueue_many(std::slice::from_ref(&(partition, job.clone())))
            .await
    }

    /// The jobs of outbox rows, each in its sending account's partition, in one pipeline
    /// (nothing at all for no rows). The rows are already in PostgreSQL, so an error only
    /// delays them: the worker's sweeper queues whatever stays pending.
    pub async fn enqueue_deliveries(&self, queued: &[QueuedDelivery]) -> Result<(), QueueError> {
        if queued.is_empty() {
            return Ok(());
        }
        let jobs: Vec<(u16, Job)> = queued
            .iter()
            .map(|d| {
                self.job_for(
                    &d.sender_account_id.to_string(),
                    d.id,
                    &d.destination_id.to_string(),
                    d.priority,
                    d.attempts.max(0) as u32,
                )
            })
            .collect();
        self.enqueue_many(&jobs).await
    }

    /// Enqueues many jobs in one pipeline (one round trip), creating consumer groups for
    /// streams this process has not seen yet.
    pub async fn enqueue_many(&self, jobs: &[(u16, Job)]) -> Result<(), QueueError> {
        if jobs.is_empty() {
            return Ok(());
        }
        let keys: Vec<String> = jobs
            .iter()
            .map(|(p, job)| self.stream_key(*p, job.priority.into()))
            .collect();
        let mut new_keys: Vec<&String> = Vec::new();
        {
            let groups = lock(&self.inner.groups);
            for key in &keys {
                if !groups.contains(key) && !new_keys.contains(&key) {
                    new_keys.push(key);
                }
            }
        }
        let mut pipe = redis::pipe();
        pipe.ignore_errors();
        for key in &new_keys {
            pipe.cmd("XGROUP")
                .arg("CREATE")
                .arg(*key)
                .arg(GROUP)
                .arg("0")
                .arg("MKSTREAM");
        }
        for (key, (_, job)) in keys.iter().zip(jobs) {
            let cmd = pipe.cmd("XADD").arg(key).arg("*");
            for (field, value) in job_fields(job) {
                cmd.arg(field).arg(value);
            }
        }
        let results: Vec<redis::RedisResult<Value>> = self.redis().run_pipe(&pipe).await?;
        for (i, result) in results.into_iter().enumerate() {
            match result {
                Err(e) if i < new_keys.len() && is_code(&e, "BUSYGROUP") => {}
                Err(e) => return Err(e.into()),
                Ok(_) => {}
            }
        }
        let mut groups = lock(&self.inner.groups);
        groups.extend(new_keys.into_iter().cloned());
        Ok(())
    }
}
