//! One owned partition: its entries are split into lanes, one per destination, and each
//! lane sends one delivery at a time in outbox order (delivery id). A lane claims what it
//! holds in batches (one statement) and hands each sent delivery to the worker's completer,
//! which records and acknowledges them in batches. A lane whose delivery
//! waits (a 429, a FLOOD_WAIT, a network error) holds the deliveries behind it until that
//! one comes back from the delayed set, while every other lane keeps flowing.
//!
//! Taking a partition over: first the entries the previous owner read but never
//! acknowledged (XAUTOCLAIM), and the lanes it left waiting; then new entries. On stop,
//! lanes finish the delivery in hand and leave the rest unacknowledged for the next owner.

use crate::deliver::{Outcome, SharedDeliverer, reads_message_map};
use relay_queue::{Entry, JobQueue};

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// Entries read per round trip.
const READ_BATCH: usize = 256;
/// How long one read waits for new entries.
const READ_BLOCK: Duration = Duration::from_millis(1000);
/// Stop reading while this many entries wait in lanes (memory stays bounded).
const MAX_BUFFERED: usize = 20_000;
/// Deliveries a lane claims in one statement (it holds them in outbox order anyway).
const CLAIM_BATCH: usize = 64;
/// Sends a lane may have waiting to be recorded before it waits for the oldest.
const MAX_RECORDING: usize = 256;

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

enum LaneMsg {
    Entry(Entry),
    /// The lane's delivery with this id is delayed: nothing behind it goes first.
    WaitFor(i64),
}

impl PartitionRunner {
    pub async fn run(self, stop: CancellationToken) {
        let p = self.partition;
        let buffered = Arc::new(std::sync::atomic::AtomicUsize::new(0));
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
            if buffered.load(std::sync::atomic::Ordering::Relaxed) >= MAX_BUFFERED {
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
        crate::sweeper::requeue_partition(&self.deliverer.db, &self.queue, self.partition)
            .await
            .map_err(|e| e.to_string())?;
        Ok((paused, pending))
    }

    fn push(
        &self,
        lanes: &mut HashMap<String, mpsc::UnboundedSender<LaneMsg>>,
        tasks: &mut JoinSet<()>,
        lanes_stop: &CancellationToken,
        buffered: &Arc<std::sync::atomic::AtomicUsize>,
        entry: Entry,
    ) {
        buffered.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
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
        buffered: &Arc<std::sync::atomic::AtomicUsize>,
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

struct Lane {
    partition: u16,
    token: u64,
    deliverer: SharedDeliverer,
    permits: Arc<Semaphore>,
    buffered: Arc<std::sync::atomic::AtomicUsize>,
}

async fn run_lane(lane: Lane, mut rx: mpsc::UnboundedReceiver<LaneMsg>, stop: CancellationToken) {
    let mut pending: BTreeMap<i64, Entry> = BTreeMap::new();
    let mut waiting_for: Option<i64> = None;
    // Entries for a delivery the lane already holds (a sweep raced the original): they are
    // acknowledged without a send; the one kept finds the delivery done or does it.
    let mut stale: Vec<Entry> = Vec::new();
    // Sends handed to the completer and not yet recorded, oldest first.
    let mut recording: VecDeque<oneshot::Receiver<()>> = VecDeque::new();
    let take = |msg: LaneMsg,
                pending: &mut BTreeMap<i64, Entry>,
                waiting_for: &mut Option<i64>,
                stale: &mut Vec<Entry>| match msg {
        LaneMsg::Entry(entry) => {
            if let Some(old) = pending.insert(entry.job.delivery_id, entry) {
                lane.buffered.fetch_sub(1, Ordering::Relaxed);
                stale.push(old);
            }
        }
        LaneMsg::WaitFor(id) => *waiting_for = Some(id),
    };
    let queue = &lane.deliverer.queue;
    loop {
        while let Ok(msg) = rx.try_recv() {
            take(msg, &mut pending, &mut waiting_for, &mut stale);
        }
        if !stale.is_empty() && queue.ack(lane.partition, &stale).await.is_ok() {
            stale.clear();
        }
        // The next deliveries in outbox order: the one the lane waits for alone, or a batch.
        let batch: Vec<Entry> = match waiting_for {
            Some(id) => pending
                .remove(&id)
                .inspect(|_| waiting_for = None)
                .into_iter()
                .collect(),
            None => std::iter::from_fn(|| pending.pop_first().map(|(_, e)| e))
                .take(CLAIM_BATCH)
                .collect(),
        };
        if batch.is_empty() {
            tokio::select! {
                _ = stop.cancelled() => break,
                msg = rx.recv() => match msg {
                    Some(msg) => take(msg, &mut pending, &mut waiting_for, &mut stale),
                    None => break,
                },
            }
            continue;
        }
        if stop.is_cancelled() {
            break;
        }
        let mut claimed = match lane.deliverer.claim(lane.token, &batch).await {
            Ok(claimed) => claimed,
            Err(e) => {
                tracing::warn!(error = %e, "a dependency is not answering; the deliveries wait");
                for entry in batch {
                    pending.insert(entry.job.delivery_id, entry);
                }
                sleep_or_stop(&stop, Duration::from_secs(1)).await;
                continue;
            }
        };
        // Done, dead or deleted already (a duplicate job after a sweep): acknowledged unsent.
        let mut finished = Vec::new();
        let mut rest = batch.into_iter();
        let mut stalled = None;
        let mut stalled_id = None;
        for entry in rest.by_ref() {
            let Some(delivery) = claimed.remove(&entry.job.delivery_id) else {
                finished.push(entry);
                continue;
            };
            if reads_message_map(&delivery) {
                // Edits, deletes and replies look up where earlier sends landed.
                while let Some(rec) = recording.pop_front() {
                    let _ = rec.await;
                }
            }
            let Ok(permit) = lane.permits.acquire().await else {
                pending.insert(entry.job.delivery_id, entry);
                break;
            };
            let outcome = lane
                .deliverer
                .deliver_claimed(lane.partition, lane.token, &entry, &delivery)
                .await;
            drop(permit);
            match outcome {
                Outcome::Sent(rec) => {
                    lane.buffered.fetch_sub(1, Ordering::Relaxed);
                    recording.push_back(rec);
                    if recording.len() > MAX_RECORDING
                        && let Some(oldest) = recording.pop_front()
                    {
                        let _ = oldest.await;
                    }
                }
                Outcome::Done => {
                    lane.buffered.fetch_sub(1, Ordering::Relaxed);
                }
                Outcome::Delayed => {
                    lane.buffered.fetch_sub(1, Ordering::Relaxed);
                    waiting_for = Some(entry.job.delivery_id);
                    break;
                }
                Outcome::Stalled(wait) => {
                    // Its claim goes back with the rest: the lane claims it again when it
                    // retries, and a lane stopped meanwhile leaves it to the next owner
                    // at once rather than after the claim's hold.
                    stalled_id = Some(entry.job.delivery_id);
                    pending.insert(entry.job.delivery_id, entry);
                    stalled = Some(wait);
                    break;
                }
            }
            if stop.is_cancelled() {
                break;
            }
        }
        // What the batch did not get to goes back in line, its claims given back.
        let unsent: Vec<i64> = rest
            .map(|entry| {
                let id = entry.job.delivery_id;
                pending.insert(id, entry);
                id
            })
            .filter(|id| claimed.contains_key(id))
            .chain(stalled_id)
            .collect();
        if !unsent.is_empty()
            && let Err(e) = lane
                .deliverer
                .db
                .release_claims(&unsent, lane.token as i64)
                .await
        {
            // They stay claimed under this token: the lane (or the next owner) claims them again.
            tracing::debug!(error = %e, "could not give claims back");
        }
        if !finished.is_empty() {
            if queue.ack(lane.partition, &finished).await.is_ok() {
                lane.buffered.fetch_sub(finished.len(), Ordering::Relaxed);
            } else {
                for entry in finished {
                    pending.insert(entry.job.delivery_id, entry);
                }
                stalled.get_or_insert(Duration::from_secs(1));
            }
        }
        if let Some(wait) = stalled {
            sleep_or_stop(&stop, wait).await;
        }
    }
    // The partition is handed over only once what this lane sent is recorded.
    for rec in recording {
        let _ = rec.await;
    }
}

async fn sleep_or_stop(stop: &CancellationToken, wait: Duration) {
    tokio::select! {
        _ = stop.cancelled() => {}
        _ = tokio::time::sleep(wait) => {}
    }
}
