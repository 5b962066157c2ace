//! A lane: the deliveries of one destination within a partition, sent one at a time in
//! outbox order (delivery id).
//!
//! [`LaneState`] is the lane's bookkeeping, pure and unit-tested: the entries it holds
//! (ordered by delivery id, whatever order they arrived in), the delivery it waits for
//! (one that was delayed: nothing behind it goes first), and the duplicate entries it
//! acknowledges without a send. [`run_lane`] drives it: claim a batch, send each delivery,
//! hand what was sent to the completer, put back what the batch did not get to.

use crate::deliver::{Outcome, SharedDeliverer, reads_message_map};
use relay_queue::Entry;
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio_util::sync::CancellationToken;

/// Deliveries a lane claims in one statement (it holds them in outbox order anyway).
const CLAIM_BATCH: usize = 64;
/// Sends a lane may have waiting to be recorded before it waits for the oldest.
const MAX_RECORDING: usize = 256;

/// What a partition hands a lane.
#[derive(Debug)]
pub enum LaneMsg {
    Entry(Entry),
    /// The lane's delivery with this id is delayed: nothing behind it goes first.
    WaitFor(i64),
}

/// The entries a lane holds and what it may send next.
#[derive(Debug, Default)]
pub struct LaneState {
    pending: BTreeMap<i64, Entry>,
    waiting_for: Option<i64>,
    /// Entries for a delivery the lane already holds (a sweep raced the original): they
    /// are acknowledged without a send; the one kept finds the delivery done or does it.
    stale: Vec<Entry>,
}

impl LaneState {
    /// Takes a message. True when the entry replaced one the lane held for the same
    /// delivery (the older one is then stale, and no longer counts as held).
    pub fn take(&mut self, msg: LaneMsg) -> bool {
        match msg {
            LaneMsg::Entry(entry) => match self.pending.insert(entry.job.delivery_id, entry) {
                Some(old) => {
                    self.stale.push(old);
                    true
                }
                None => false,
            },
            LaneMsg::WaitFor(id) => {
                self.waiting_for = Some(id);
                false
            }
        }
    }

    /// The next deliveries to send, in outbox order: the one the lane waits for alone
    /// (nothing while it is not back), otherwise up to `max` from the front.
    pub fn next_batch(&mut self, max: usize) -> Vec<Entry> {
        match self.waiting_for {
            Some(id) => match self.pending.remove(&id) {
                Some(entry) => {
                    self.waiting_for = None;
                    vec![entry]
                }
                None => Vec::new(),
            },
            None => std::iter::from_fn(|| self.pending.pop_first().map(|(_, e)| e))
                .take(max)
                .collect(),
        }
    }

    /// Puts an entry back in line, in its place by delivery id.
    pub fn put_back(&mut self, entry: Entry) {
        self.pending.insert(entry.job.delivery_id, entry);
    }

    /// The delivery `id` was delayed: the lane sends nothing else until it comes back.
    pub fn wait_for(&mut self, id: i64) {
        self.waiting_for = Some(id);
    }

    /// Ends a batch: what it did not get to goes back in line. Returns the ids whose
    /// claims are given back: those of `rest` that were claimed, and the stalled one.
    pub fn end_batch(
        &mut self,
        rest: impl Iterator<Item = Entry>,
        claimed: impl Fn(i64) -> bool,
        stalled: Option<i64>,
    ) -> Vec<i64> {
        let mut give_back = Vec::new();
        for entry in rest {
            let id = entry.job.delivery_id;
            self.put_back(entry);
            if claimed(id) {
                give_back.push(id);
            }
        }
        give_back.extend(stalled);
        give_back
    }

    /// Duplicates to acknowledge without a send.
    pub fn stale(&self) -> &[Entry] {
        &self.stale
    }

    pub fn clear_stale(&mut self) {
        self.stale.clear();
    }

    /// Entries held (not counting stale ones).
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }
}

/// What a lane needs to send.
pub struct Lane {
    pub partition: u16,
    pub token: u64,
    pub deliverer: SharedDeliverer,
    pub permits: Arc<Semaphore>,
    /// Entries held by the partition's lanes (reading pauses above a bound).
    pub buffered: Arc<AtomicUsize>,
}

impl Lane {
    fn left(&self, n: usize) {
        self.buffered.fetch_sub(n, Ordering::Relaxed);
    }
}

/// Sends the lane's deliveries until `stop` or until the partition drops its sender;
/// returns once what it sent is recorded.
pub async fn run_lane(
    lane: Lane,
    mut rx: mpsc::UnboundedReceiver<LaneMsg>,
    stop: CancellationToken,
) {
    let mut state = LaneState::default();
    // Sends handed to the completer and not yet recorded, oldest first.
    let mut recording: VecDeque<oneshot::Receiver<()>> = VecDeque::new();
    let take = |state: &mut LaneState, msg| {
        if state.take(msg) {
            lane.left(1);
        }
    };
    loop {
        while let Ok(msg) = rx.try_recv() {
            take(&mut state, msg);
        }
        if !state.stale().is_empty() && lane.deliverer.ack(lane.partition, state.stale()).await {
            state.clear_stale();
        }
        let batch = state.next_batch(CLAIM_BATCH);
        if batch.is_empty() {
            tokio::select! {
                _ = stop.cancelled() => break,
                msg = rx.recv() => match msg {
                    Some(msg) => take(&mut state, msg),
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
                batch.into_iter().for_each(|entry| state.put_back(entry));
                sleep_or_stop(&stop, Duration::from_secs(1)).await;
                continue;
            }
        };
        // Done, dead or deleted already (a duplicate job after a sweep): acknowledged unsent.
        let mut finished = Vec::new();
        let mut rest = batch.into_iter();
        let mut stalled = None;
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
                state.put_back(entry);
                break;
            };
            let outcome = lane
                .deliverer
                .deliver_claimed(lane.partition, lane.token, &entry, &delivery)
                .await;
            drop(permit);
            match outcome {
                Outcome::Sent(rec) => {
                    lane.left(1);
                    recording.push_back(rec);
                    if recording.len() > MAX_RECORDING
                        && let Some(oldest) = recording.pop_front()
                    {
                        let _ = oldest.await;
                    }
                }
                Outcome::Done => lane.left(1),
                Outcome::Delayed => {
                    lane.left(1);
                    state.wait_for(entry.job.delivery_id);
                    break;
                }
                Outcome::Stalled(wait) => {
                    // Its claim goes back with the rest: the lane claims it again when it
                    // retries, and a lane stopped meanwhile leaves it to the next owner
                    // at once rather than after the claim's hold.
                    stalled = Some((entry.job.delivery_id, wait));
                    state.put_back(entry);
                    break;
                }
            }
            if stop.is_cancelled() {
                break;
            }
        }
        let unsent = state.end_batch(
            rest,
            |id| claimed.contains_key(&id),
            stalled.map(|(id, _)| id),
        );
        let mut pause = stalled.map(|(_, wait)| wait);
        if !unsent.is_empty() {
            lane.deliverer.give_back(&unsent, lane.token).await;
        }
        if !finished.is_empty() {
            if lane.deliverer.ack(lane.partition, &finished).await {
                lane.left(finished.len());
            } else {
                finished.into_iter().for_each(|entry| state.put_back(entry));
                pause.get_or_insert(Duration::from_secs(1));
            }
        }
        if let Some(wait) = pause {
            sleep_or_stop(&stop, wait).await;
        }
    }
    // The partition is handed over only once what this lane sent is recorded.
    for rec in recording {
        let _ = rec.await;
    }
}

pub async fn sleep_or_stop(stop: &CancellationToken, wait: Duration) {
    tokio::select! {
        _ = stop.cancelled() => {}
        _ = tokio::time::sleep(wait) => {}
    }
}

#[cfg(test)]
#[path = "lane_tests.rs"]
mod tests;
