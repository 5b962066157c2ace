//! Dead letters: jobs given up on, in one capped stream shared by all partitions.

use super::wire::{decode_job, entry_list, job_fields, now_ms};
use super::{DeadLetter, Entry, GROUP, JobQueue};
use crate::QueueError;
use redis::Value;

impl JobQueue {
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
        self.run_acks(&pipe).await
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
}
