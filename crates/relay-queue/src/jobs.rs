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

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Whether Redis answered with this error code, such as `NOGROUP`.
fn is_code(err: &redis::RedisError, code: &str) -> bool {
    err.code() == Some(code)
}

fn job_fields(job: &Job) -> [(&'static str, String); 4] {
    [
        ("d", job.delivery_id.to_string()),
        ("dest", job.destination.clone()),
        ("prio", job.priority.as_str().to_owned()),
        ("a", job.attempt.to_string()),
    ]
}

fn delayed_member(job: &Job) -> String {
    format!(
        "{}|{}|{}|{}",
        job.delivery_id,
        job.attempt.saturating_add(1),
        job.priority.as_str(),
        job.destination
    )
}

/// The text of a reply element.
fn text(value: &Value) -> Option<String> {
    match value {
        Value::BulkString(bytes) => String::from_utf8(bytes.clone()).ok(),
        Value::SimpleString(s) => Some(s.clone()),
        Value::Int(n) => Some(n.to_string()),
        Value::VerbatimString { text, .. } => Some(text.clone()),
        Value::Okay => Some("OK".to_owned()),
        _ => None,
    }
}

fn items(value: &Value) -> &[Value] {
    match value {
        Value::Array(items) | Value::Set(items) => items,
        _ => &[],
    }
}

/// Field/value pairs of a stream entry (a flat array, or a map under RESP3).
fn field_map(value: &Value) -> Option<HashMap<String, String>> {
    match value {
        Value::Map(pairs) => pairs
            .iter()
            .map(|(k, v)| Some((text(k)?, text(v)?)))
            .collect(),
        Value::Array(flat) => flat
            .chunks(2)
            .map(|pair| match pair {
                [k, v] => Some((text(k)?, text(v)?)),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

fn decode_job(fields: &HashMap<String, String>) -> Option<Job> {
    Some(Job {
        delivery_id: fields.get("d")?.parse().ok()?,
        destination: fields.get("dest")?.clone(),
        priority: fields.get("prio")?.parse().ok()?,
        attempt: fields.get("a")?.parse().ok()?,
    })
}

/// An entry as Redis returned it: its stream, id and fields (`None`: deleted while pending).
type RawEntry = (StreamKind, String, Option<HashMap<String, String>>);

/// `(id, fields)` of the entries in an entry list such as XRANGE's; `None` fields for
/// entries that were deleted while pending.
fn entry_list(value: &Value) -> Vec<(String, Option<HashMap<String, String>>)> {
    items(value)
        .iter()
        .filter_map(|entry| match items(entry) {
            [id, fields, ..] => Some((text(id)?, field_map(fields))),
            [id] => Some((text(id)?, None)),
            _ => None,
        })
        .collect()
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

    /// New entries for this consumer, at most `count`: first one non-blocking pass over
    /// Retry, High, Medium, Low in that order, and only if all are empty one
    /// `XREADGROUP … BLOCK block` over all four (on a dedicated connection, so the wait is
    /// not cut by a response timeout). A zero `block` never blocks.
    ///
    /// Strict priority: a lower stream is read only when the higher ones have nothing new.
    pub async fn read(
        &self,
        partition: u16,
        consumer: &str,
        count: usize,
        block: Duration,
    ) -> Result<Vec<Entry>, QueueError> {
        if count == 0 {
            return Ok(Vec::new());
        }
        let mut out = self.take_overflow(partition, consumer, count);
        if out.len() < count {
            out.extend(
                self.read_now(partition, consumer, count - out.len())
                    .await?,
            );
        }
        if !out.is_empty() || block.is_zero() {
            return Ok(out);
        }
        self.read_blocking(partition, consumer, count, block).await
    }

    fn take_overflow(&self, partition: u16, consumer: &str, count: usize) -> Vec<Entry> {
        let mut overflow = lock(&self.inner.overflow);
        let key = (partition, consumer.to_owned());
        let Some(queue) = overflow.get_mut(&key) else {
            return Vec::new();
        };
        let n = count.min(queue.len());
        let out: Vec<Entry> = queue.drain(..n).collect();
        if queue.is_empty() {
            overflow.remove(&key);
        }
        out
    }

    async fn read_now(
        &self,
        partition: u16,
        consumer: &str,
        count: usize,
    ) -> Result<Vec<Entry>, QueueError> {
        let mut call = self.inner.read.prepare_invoke();
        for key in self.stream_keys(partition) {
            call.key(key);
        }
        // A tenth of a large read may go to Low and Medium first, so that a steady flood
        // of higher-priority work never starves them (small reads stay strictly ordered).
        let reserve = if count >= STARVATION_GUARD_MIN_COUNT {
            count / 10
        } else {
            0
        };
        call.arg(GROUP).arg(consumer).arg(count).arg(reserve);
        let raw: Value = self.redis().run_script(&call).await?;
        let mut found = Vec::new();
        for item in items(&raw) {
            if let [index, id, fields] = items(item) {
                let kind = text(index)
                    .and_then(|i| i.parse::<usize>().ok())
                    .and_then(|i| StreamKind::ALL.get(i.wrapping_sub(1)).copied());
                if let (Some(kind), Some(id)) = (kind, text(id)) {
                    found.push((kind, id, field_map(fields)));
                }
            }
        }
        Ok(self.decode(partition, found).await)
    }

    /// Turns raw entries into jobs; entries that are not jobs are logged and removed.
    async fn decode(&self, partition: u16, raw: Vec<RawEntry>) -> Vec<Entry> {
        let mut entries = Vec::with_capacity(raw.len());
        let mut junk = Vec::new();
        for (kind, id, fields) in raw {
            match fields.as_ref().and_then(decode_job) {
                Some(job) => entries.push(Entry {
                    id,
                    stream: kind,
                    job,
                }),
                None => junk.push((kind, id)),
            }
        }
        if !junk.is_empty() {
            tracing::warn!(
                partition,
                entries = junk.len(),
                "removing stream entries that are not jobs (or were deleted while pending)"
            );
            if let Err(e) = self.ack_ids(partition, &junk).await {
                tracing::warn!(partition, error = %e, "could not remove malformed entries");
            }
        }
        entries
    }

    async fn blocking_conn(&self) -> Result<MultiplexedConnection, QueueError> {
        if let Some(conn) = lock(&self.inner.idle_blocking).pop() {
            return Ok(conn);
        }
        let timeout = self.redis().command_timeout();
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(None);
        let connect = self
            .inner
            .client
            .get_multiplexed_async_connection_with_config(&config);
        match tokio::time::timeout(timeout, connect).await {
            Ok(conn) => Ok(conn?),
            Err(_) => Err(QueueError::Timeout(timeout)),
        }
    }

    fn return_conn(&self, conn: MultiplexedConnection) {
        let mut idle = lock(&self.inner.idle_blocking);
        if idle.len() < MAX_IDLE_BLOCKING {
            idle.push(conn);
        }
    }

    async fn read_blocking(
        &self,
        partition: u16,
        consumer: &str,
        count: usize,
        block: Duration,
    ) -> Result<Vec<Entry>, QueueError> {
        let keys = self.stream_keys(partition);
        let mut cmd = redis::cmd("XREADGROUP");
        cmd.arg("GROUP")
            .arg(GROUP)
            .arg(consumer)
            .arg("COUNT")
            .arg(count)
            .arg("BLOCK")
            .arg(millis(block).max(1))
            .arg("STREAMS")
            .arg(&keys)
            .arg(&[">"; 4]);
        let mut conn = self.blocking_conn().await?;
        // The server answers after `block` at the latest; the margin covers the round trip.
        let limit = block.saturating_add(self.redis().command_timeout());
        let reply = match tokio::time::timeout(limit, cmd.query_async::<Value>(&mut conn)).await {
            // The connection is in an unknown state: drop it.
            Err(_) => return Err(QueueError::Timeout(limit)),
            Ok(Err(e)) if is_code(&e, "NOGROUP") || is_code(&e, "UNBLOCKED") => {
                // The streams or the group vanished (Redis flushed): the script recreates them.
                self.return_conn(conn);
                lock(&self.inner.groups).retain(|k| !keys.contains(k));
                return self.read_now(partition, consumer, count).await;
            }
            Ok(Err(e)) => return Err(e.into()),
            Ok(Ok(reply)) => {
                self.return_conn(conn);
                reply
            }
        };
        let per_stream: Vec<(String, &Value)> = match &reply {
            Value::Map(pairs) => pairs
                .iter()
                .filter_map(|(k, v)| Some((text(k)?, v)))
                .collect(),
            other => items(other)
                .iter()
                .filter_map(|pair| match items(pair) {
                    [k, v] => Some((text(k)?, v)),
                    _ => None,
                })
                .collect(),
        };
        let mut raw = Vec::new();
        for (key, list) in per_stream {
            let Some(i) = keys.iter().position(|k| *k == key) else {
                continue;
            };
            for (id, fields) in entry_list(list) {
                raw.push((StreamKind::ALL[i], id, fields));
            }
        }
        raw.sort_by_key(|(kind, _, _)| kind.index());
        let mut entries = self.decode(partition, raw).await;
        if entries.len() > count {
            let rest = entries.split_off(count);
            lock(&self.inner.overflow)
                .entry((partition, consumer.to_owned()))
                .or_default()
                .extend(rest);
        }
        Ok(entries)
    }

    /// Takes over every pending (delivered, not acked) entry of the partition's streams,
    /// whoever it was delivered to (XAUTOCLAIM with min-idle 0, following the cursor). Use
    /// it right after acquiring a partition. Sorted by `job.delivery_id`.
    pub async fn claim_pending(
        &self,
        partition: u16,
        consumer: &str,
    ) -> Result<Vec<Entry>, QueueError> {
        // What a blocking read left over is pending too and comes back below.
        lock(&self.inner.overflow).retain(|(p, _), _| *p != partition);
        let mut raw = Vec::new();
        for kind in StreamKind::ALL {
            let key = self.stream_key(partition, kind);
            let mut cursor = "0-0".to_owned();
            loop {
                let mut cmd = redis::cmd("XAUTOCLAIM");
                cmd.arg(&key)
                    .arg(GROUP)
                    .arg(consumer)
                    .arg(0)
                    .arg(&cursor)
                    .arg("COUNT")
                    .arg(CLAIM_BATCH);
                let reply: Value = match self.redis().run(&cmd).await {
                    Ok(reply) => reply,
                    // No stream or no group: nothing is pending there.
                    Err(QueueError::Redis(e)) if is_code(&e, "NOGROUP") => break,
                    Err(e) => return Err(e),
                };
                let parts = items(&reply);
                for (id, fields) in parts.get(1).map(entry_list).unwrap_or_default() {
                    raw.push((kind, id, fields));
                }
                match parts.first().and_then(text) {
                    Some(next) if next != "0-0" && next != cursor => cursor = next,
                    _ => break,
                }
            }
        }
        let mut entries = self.decode(partition, raw).await;
        entries.sort_by(|a, b| {
            (a.job.delivery_id, a.stream.index(), &a.id).cmp(&(
                b.job.delivery_id,
                b.stream.index(),
                &b.id,
            ))
        });
        Ok(entries)
    }

    /// Done: XACK and XDEL, in one round trip.
    pub async fn ack(&self, partition: u16, entries: &[Entry]) -> Result<(), QueueError> {
        let ids: Vec<(StreamKind, String)> =
            entries.iter().map(|e| (e.stream, e.id.clone())).collect();
        self.ack_ids(partition, &ids).await
    }

    /// Done, for entries of several partitions: XACK and XDEL of them all in one round trip.
    pub async fn ack_many(&self, entries: &[(u16, &Entry)]) -> Result<(), QueueError> {
        let mut by_partition: Vec<(u16, Vec<(StreamKind, String)>)> = Vec::new();
        for (partition, entry) in entries {
            let id = (entry.stream, entry.id.clone());
            match by_partition.iter_mut().find(|(p, _)| p == partition) {
                Some((_, ids)) => ids.push(id),
                None => by_partition.push((*partition, vec![id])),
            }
        }
        self.ack_grouped(&by_partition).await
    }

    async fn ack_ids(
        &self,
        partition: u16,
        ids: &[(StreamKind, String)],
    ) -> Result<(), QueueError> {
        self.ack_grouped(&[(partition, ids.to_vec())]).await
    }

    async fn ack_grouped(
        &self,
        groups: &[(u16, Vec<(StreamKind, String)>)],
    ) -> Result<(), QueueError> {
        let mut pipe = redis::pipe();
        pipe.ignore_errors();
        let mut commands = 0;
        for (partition, ids) in groups {
            for kind in StreamKind::ALL {
                let of_kind: Vec<&String> = ids
                    .iter()
                    .filter(|(k, _)| *k == kind)
                    .map(|(_, id)| id)
                    .collect();
                if of_kind.is_empty() {
                    continue;
                }
                let key = self.stream_key(*partition, kind);
                pipe.cmd("XACK").arg(&key).arg(GROUP).arg(&of_kind);
                pipe.cmd("XDEL").arg(&key).arg(&of_kind);
                commands += 2;
            }
        }
        if commands == 0 {
            return Ok(());
        }
        let results: Vec<redis::RedisResult<Value>> = self.redis().run_pipe(&pipe).await?;
        for result in results {
            match result {
                // The group is gone, and with it what was pending.
                Err(e) if is_code(&e, "NOGROUP") => {}
                Err(e) => return Err(e.into()),
                Ok(_) => {}
            }
        }
        Ok(())
    }

    /// Retry later, atomically (one script): the job with `attempt + 1` goes into the
    /// partition's delayed set, due at Redis' now + `after`; the partition's `paused` hash
    /// records destination → delivery id (so a new owner knows that lane waits for it); the
    /// entry is acked and deleted. If the entry was no longer pending (someone acked it
    /// already), nothing is scheduled.
    pub async fn delay(
        &self,
        partition: u16,
        entry: &Entry,
        after: Duration,
    ) -> Result<(), QueueError> {
        let mut call = self
            .inner
            .delay
            .key(self.stream_key(partition, entry.stream));
        call.key(self.delayed_key(partition))
            .key(self.paused_key(partition))
            .arg(GROUP)
            .arg(&entry.id)
            .arg(delayed_member(&entry.job))
            .arg(millis(after))
            .arg(&entry.job.destination)
            .arg(entry.job.delivery_id);
        let scheduled: i64 = self.redis().run_script(&call).await?;
        if scheduled == 0 {
            tracing::debug!(
                partition,
                delivery_id = entry.job.delivery_id,
                "not delayed: the entry was no longer pending"
            );
        }
        Ok(())
    }

    /// Moves up to `limit` due jobs (Redis' clock) from the delayed set into the partition's
    /// Retry stream and clears their lane's paused marker if it still names that delivery.
    /// One script. Returns how many moved.
    pub async fn promote_due(&self, partition: u16, limit: usize) -> Result<usize, QueueError> {
        if limit == 0 {
            return Ok(0);
        }
        let mut call = self.inner.promote.key(self.delayed_key(partition));
        call.key(self.paused_key(partition))
            .key(self.stream_key(partition, StreamKind::Retry))
            .arg(limit);
        self.redis().run_script(&call).await
    }

    /// Destination → delivery id of the lanes waiting for a delayed job.
    pub async fn paused(&self, partition: u16) -> Result<HashMap<String, i64>, QueueError> {
        self.redis()
            .run(redis::cmd("HGETALL").arg(self.paused_key(partition)))
            .await
    }

    /// Give up: XADD to the dead-letter stream (job fields, `partition`, `error`, `at_ms`;
    /// `MAXLEN ~`), then XACK + XDEL the entry, in one MULTI. (The dead-letter stream has a
    /// hash tag of its own: on a Redis Cluster this transaction would have to be split.)
    pub async fn dead_letter(
        &self,
        partition: u16,
        entry: &Entry,
        error: &str,
    ) -> Result<(), QueueError> {
        let key = self.stream_key(partition, entry.stream);
        let mut pipe = redis::pipe();
        pipe.atomic().ignore_errors();
        let add = pipe
            .cmd("XADD")
            .arg(self.dead_key())
            .arg("MAXLEN")
            .arg("~")
            .arg(self.config().dead_letter_max_len)
            .arg("*");
        for (field, value) in job_fields(&entry.job) {
            add.arg(field).arg(value);
        }
        add.arg("partition")
            .arg(partition)
            .arg("error")
            .arg(error)
            .arg("at_ms")
            .arg(now_ms());
        pipe.cmd("XACK").arg(&key).arg(GROUP).arg(&entry.id);
        pipe.cmd("XDEL").arg(&key).arg(&entry.id);
        let results: Vec<redis::RedisResult<Value>> = self.redis().run_pipe(&pipe).await?;
        for result in results {
            match result {
                Err(e) if is_code(&e, "NOGROUP") => {}
                Err(e) => return Err(e.into()),
                Ok(_) => {}
            }
        }
        Ok(())
    }

    /// The newest `count` dead letters, newest first.
    pub async fn dead_letters(&self, count: usize) -> Result<Vec<DeadLetter>, QueueError> {
        if count == 0 {
            return Ok(Vec::new());
        }
        let mut cmd = redis::cmd("XREVRANGE");
        cmd.arg(self.dead_key())
            .arg("+")
            .arg("-")
            .arg("COUNT")
            .arg(count);
        let reply: Value = self.redis().run(&cmd).await?;
        Ok(entry_list(&reply)
            .into_iter()
            .filter_map(|(_, fields)| {
                let fields = fields?;
                Some(DeadLetter {
                    job: decode_job(&fields)?,
                    partition: fields.get("partition")?.parse().ok()?,
                    error: fields.get("error").cloned().unwrap_or_default(),
                    at_ms: fields
                        .get("at_ms")
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0),
                })
            })
            .collect())
    }

    /// When the oldest entry still in the partition's streams (waiting, or read and not
    /// acknowledged) was added, in Unix milliseconds of the Redis clock; `None` when the
    /// streams are empty. A job added after that moment may still be waiting in line.
    pub async fn oldest_waiting_ms(&self, partition: u16) -> Result<Option<i64>, QueueError> {
        let mut pipe = redis::pipe();
        for key in self.stream_keys(partition) {
            pipe.cmd("XRANGE")
                .arg(key)
                .arg("-")
                .arg("+")
                .arg("COUNT")
                .arg(1);
        }
        let replies: Vec<Value> = self.redis().run_pipe(&pipe).await?;
        Ok(replies
            .iter()
            .flat_map(entry_list)
            .filter_map(|(id, _)| id.split('-').next()?.parse::<i64>().ok())
            .min())
    }

    /// Entries in the partition's four streams (waiting or in flight) plus delayed jobs.
    pub async fn backlog(&self, partition: u16) -> Result<u64, QueueError> {
        let mut pipe = redis::pipe();
        for key in self.stream_keys(partition) {
            pipe.cmd("XLEN").arg(key);
        }
        pipe.cmd("ZCARD").arg(self.delayed_key(partition));
        let counts: Vec<u64> = self.redis().run_pipe(&pipe).await?;
        Ok(counts.iter().sum())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TestPrefix;

    #[tokio::test]
    async fn a_blocking_read_keeps_what_it_got_beyond_the_count_for_the_next_read() {
        let keys = TestPrefix::new();
        let redis = keys.connect().expect("client");
        let queue =
            JobQueue::new(redis.clone(), keys.url(), QueueConfig::default()).expect("queue");
        let job = |d: i64, priority| Job {
            delivery_id: d,
            destination: "x".into(),
            priority,
            attempt: 0,
        };
        // The non-blocking pass creates the groups of all four streams.
        assert!(
            queue
                .read(0, "w1", 1, Duration::ZERO)
                .await
                .expect("read")
                .is_empty()
        );
        // Entries that arrive between the non-blocking pass and the blocking read: XREADGROUP
        // answers at once with up to COUNT from every stream.
        queue
            .enqueue_many(&[(0, job(1, Priority::Low)), (0, job(2, Priority::High))])
            .await
            .expect("enqueue");
        let first = queue
            .read_blocking(0, "w1", 1, Duration::from_secs(1))
            .await
            .expect("read");
        assert_eq!(first.len(), 1);
        assert_eq!(
            (first[0].job.delivery_id, first[0].stream),
            (2, StreamKind::High)
        );
        assert_eq!(lock(&queue.inner.overflow).len(), 1);
        let next = queue.read(0, "w1", 5, Duration::ZERO).await.expect("read");
        assert_eq!(next.len(), 1);
        assert_eq!(
            (next[0].job.delivery_id, next[0].stream),
            (1, StreamKind::Low)
        );
        assert!(lock(&queue.inner.overflow).is_empty());
        // claim_pending drops the leftovers of the partition: they are pending and come back.
        queue
            .enqueue_many(&[(0, job(3, Priority::Low)), (0, job(4, Priority::High))])
            .await
            .expect("enqueue");
        let got = queue
            .read_blocking(0, "w1", 1, Duration::from_secs(1))
            .await
            .expect("read");
        assert_eq!(got.len(), 1);
        let claimed = queue.claim_pending(0, "w1").await.expect("claim");
        let ids: Vec<i64> = claimed.iter().map(|e| e.job.delivery_id).collect();
        assert_eq!(ids, vec![1, 2, 3, 4], "nothing was acked");
        assert!(lock(&queue.inner.overflow).is_empty());
    }
}
