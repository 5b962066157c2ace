//! Retries: a job waits in the partition's delayed set (its lane marked paused) until it
//! is due, then moves to the Retry stream.

use super::Entry;
use super::wire::{delayed_member, millis};
use super::{GROUP, JobQueue, StreamKind};
use crate::QueueError;
use std::collections::HashMap;
use std::time::Duration;

impl JobQueue {
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
}
