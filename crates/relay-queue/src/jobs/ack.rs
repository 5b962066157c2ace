//! Acknowledging entries: XACK + XDEL, so a stream's length is its backlog.

use super::wire::is_code;
use super::{Entry, GROUP, JobQueue, StreamKind};
use crate::QueueError;
use redis::Value;

impl JobQueue {
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

    pub(super) async fn ack_ids(
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
        self.run_acks(&pipe).await
    }

    /// Runs a pipeline of XACKs (and XDELs and the like); a stream whose group is gone
    /// is no error: with the group went what was pending.
    pub(super) async fn run_acks(&self, pipe: &redis::Pipeline) -> Result<(), QueueError> {
        let results: Vec<redis::RedisResult<Value>> = self.redis().run_pipe(pipe).await?;
        for result in results {
            match result {
                Err(e) if is_code(&e, "NOGROUP") => {}
                Err(e) => return Err(e.into()),
                Ok(_) => {}
            }
        }
        Ok(())
    }
}
