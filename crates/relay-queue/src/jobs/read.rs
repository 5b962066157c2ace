//! Reading a partition: new entries in priority order (a non-blocking pass, then one
//! blocking read on a connection of its own), what a blocking read got beyond the count,
//! and taking over what a dead owner left pending.

use super::wire::{RawEntry, decode_job, entry_list, field_map, is_code, items, millis, text};
use super::{
    CLAIM_BATCH, Entry, GROUP, JobQueue, MAX_IDLE_BLOCKING, STARVATION_GUARD_MIN_COUNT, StreamKind,
    lock,
};
use crate::QueueError;
use redis::Value;
use redis::aio::MultiplexedConnection;
use std::time::Duration;

impl JobQueue {
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
    pub(super) async fn decode(&self, partition: u16, raw: Vec<RawEntry>) -> Vec<Entry> {
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::{Job, Priority, QueueConfig};
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
