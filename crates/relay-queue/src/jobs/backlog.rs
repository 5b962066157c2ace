//! What is still waiting in a partition, for the sweeper (which re-enqueues only what is
//! older than the oldest entry still queued) and for metrics.

use super::JobQueue;
use super::wire::entry_list;
use crate::QueueError;
use redis::Value;

impl JobQueue {
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
