//! One owned partition: its entries are split into lanes (see [`crate::lane`]), one per
//! destination, and each lane sends one delivery at a time in outbox order (delivery id).
//! A lane claims what it holds in batches (one statement) and hands each sent delivery to
//! the worker's completer, which records and acknowledges them in batches. A lane whose
//! delivery waits (a 429, a FLOOD_WAIT, a network error) holds the deliveries behind it
//! until that one comes back from the delayed set, while every other lane keeps flowing.
//!
//! Taking a partition over: first the entries the previous owner read but never
//! acknowledged (XAUTOCLAIM), and the lanes it left waiting; then new entries. On stop,
//! lanes finish the delivery in hand and leave the rest unacknowledged for the next owner.

use crate::deliver::SharedDeliverer;
use crate::lane::{Lane, LaneMsg, run_lane, sleep_or_stop};
use relay_queue::{Entry, JobQueue};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// Entries read per round trip.
const READ_BATCH: usize = 256;
/// How long one read waits for new entries.
const READ_BLOCK: Duration = Duration::from_millis(1000);
/// Stop reading while this many entries wait in lanes (memory stays bounded).
const MAX_BUFFERED: usize = 20_000;

pub struct PartitionRunner {
    pub partition: u16,
    /// The lease's fencing token: claims in the outbox carry it.
    pub token: u64,
    pub consumer: String,
    pub queue: JobQueue,
    pub deliverer: SharedDeliverer,
    /// Shared by every partition of the worker: deliveries in flight at once.
    pub permits: Arc<Semaphore>,
}

impl PartitionRunner {
    pub async fn run(self, stop: CancellationToken) {
        let p = self.partition;
        let buffered = Arc::new(AtomicUsize::new(0));
        let mut lanes: HashMap<String, mpsc::UnboundedSender<LaneMsg>> = HashMap::new();
        let mut tasks = JoinSet::new();
        let lanes_stop = CancellationToken::new();

        // Due retries go back into the partition's retry stream, on their own timer so a
        // blocking read is never cut short (an entry read then dropped would stay pending).
        let promoter = {
            let queue = self.queue.clone();
            let stop = stop.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_millis(250));
                loop {
                    tokio::select! {
                        _ = stop.cancelled() => break,
                        _ = tick.tick() => {}
                    }
                    if let Err(e) = queue.promote_due(p, 500).await {
                        tracing::debug!(partition = p, error = %e, "promoting due retries failed");
                    }
                }
            })
        };

        // Recovery: lanes left waiting, then entries left pending by the previous owner.
        let mut recovered = false;
        while !recovered && !stop.is_cancelled() {
            match self.recover().await {
                Ok((paused, pending)) => {
                    for (destination, id) in paused {
                        self.lane(&mut lanes, &mut tasks, &lanes_stop, &buffered, &destination)
                            .send(LaneMsg::WaitFor(id))
                            .ok();
                    }
                    if !pending.is_empty() {
                        tracing::info!(
                            partition = p,
                            entries = pending.len(),
                            "took over pending entries"
                        );
                    }
                    for entry in pending {
                        self.push(&mut lanes, &mut tasks, &lanes_stop, &buffered, entry);
                    }
                    recovered = true;
                }
                Err(e) => {
                    tracing::warn!(partition = p, error = %e, "cannot recover the partition yet");
                    sleep_or_stop(&stop, Duration::from_secs(1)).await;
                }
            }
        }

        while !stop.is_cancelled() {
            if buffered.load(Ordering::Relaxed) >= MAX_BUFFERED {
                sleep_or_stop(&stop, Duration::from_millis(50)).await;
                continue;
            }
            match self
                .queue
                .read(p, &self.consumer, READ_BATCH, READ_BLOCK)
                .await
            {
                Ok(entries) => {
                    for entry in entries {
                        self.push(&mut lanes, &mut tasks, &lanes_stop, &buffered, entry);
                    }
                }
                Err(e) => {
                    tracing::warn!(partition = p, error = %e, "reading the partition failed");
                    sleep_or_stop(&stop, Duration::from_secs(1)).await;
                }
            }
        }
        // Drain: each lane finishes the delivery in hand, the rest stays for the next owner.
        lanes_stop.cancel();
        drop(lanes);
        while tasks.join_next().await.is_some() {}
        let _ = promoter.await;
        tracing::info!(partition = p, "partition released");
    }

    async fn recover(&self) -> Result<(HashMap<String, i64>, Vec<Entry>), String> {
        let paused = self
            .queue
            .paused(self.partition)
            .await
            .map_err(|e| e.to_string())?;
        let pending = self
            .queue
            .claim_pending(self.partition, &self.consumer)
            .await
            .map_err(|e| e.to_string())?;
        // Rows a crashed owner committed but never queued go in line before anything new
        // is read, so they keep their place (a sweep only finds them much later).
        self.deliverer
            .requeue_partition(self.partition)
            .await
            .map_err(|e| e.to_string())?;
        Ok((paused, pending))
    }

    fn push(
        &self,
        lanes: &mut HashMap<String, mpsc::UnboundedSender<LaneMsg>>,
        tasks: &mut JoinSet<()>,
        lanes_stop: &CancellationToken,
        buffered: &Arc<AtomicUsize>,
        entry: Entry,
    ) {
        buffered.fetch_add(1, Ordering::Relaxed);
        let destination = entry.job.destination.clone();
        let _ = self
            .lane(lanes, tasks, lanes_stop, buffered, &destination)
            .send(LaneMsg::Entry(entry));
    }

    fn lane<'a>(
        &self,
        lanes: &'a mut HashMap<String, mpsc::UnboundedSender<LaneMsg>>,
        tasks: &mut JoinSet<()>,
        lanes_stop: &CancellationToken,
        buffered: &Arc<AtomicUsize>,
        destination: &str,
    ) -> &'a mpsc::UnboundedSender<LaneMsg> {
        if !lanes.contains_key(destination) {
            let (tx, rx) = mpsc::unbounded_channel();
            tasks.spawn(run_lane(
                Lane {
                    partition: self.partition,
                    token: self.token,
                    deliverer: Arc::clone(&self.deliverer),
                    permits: Arc::clone(&self.permits),
                    buffered: Arc::clone(buffered),
                },
                rx,
                lanes_stop.clone(),
            ));
            lanes.insert(destination.to_owned(), tx);
        }
        &lanes[destination]
    }
}
