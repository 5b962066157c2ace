//! The outbox sweeper: deliveries that are due but not in flight (their job was lost with
//! a Redis flush or restart, or never made it) and claims that lapsed go back into the
//! queue. Every worker sweeps; `FOR UPDATE SKIP LOCKED` splits the work between them.
//!
//! A row is queued again only if its job cannot still be waiting in line: it was last
//! queued or touched (`quiet` or more) before the oldest entry still in its partition's
//! streams, or those streams are empty. Without that, a backlog longer than `quiet` would
//! be queued a second time, and the duplicates would deepen the backlog that caused them.
//! Entries read and not yet acknowledged count as waiting too (comparing with the oldest
//! unread entry only let a backlog held in the lanes be queued twice: offered 8,000/s,
//! throughput fell from 5,234/s to 2,980/s). So an entry must not stay unacknowledged for
//! long: the completer retries until it is recorded and acknowledged, and the only
//! entries held longer are those behind a delayed delivery in its lane (a 429 or a
//! FLOOD_WAIT), which hold back the sweeping of newer rows of their partition until then.

use chrono::{DateTime, Utc};
use relay_queue::JobQueue;
use relay_queue::partition_of;
use relay_store::Database;
use std::collections::HashMap;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Rows looked at per statement.
const BATCH: i64 = 1000;
/// Rows queued again at a takeover at most (the sweeper finds the rest).
const MAX_REQUEUE: i64 = 20_000;

pub async fn run(
    db: Database,
    queue: JobQueue,
    interval: Duration,
    quiet: Duration,
    stop: CancellationToken,
) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = tick.tick() => {}
        }
        sweep(&db, &queue, quiet).await;
    }
}

/// Taking a partition over: every row of it that is due and not in flight is queued
/// again now, whether or not its job may still be waiting (a duplicate entry is
/// acknowledged unsent by its lane). A previous owner that died between committing rows
/// and queueing their jobs leaves such rows; queued before the first read, they keep
/// their place ahead of what comes after them.
pub async fn requeue_partition(
    db: &Database,
    queue: &JobQueue,
    partition: u16,
) -> Result<usize, relay_store::StoreError> {
    let partitions = queue.config().partitions;
    let found = db
        .unqueued_of_senders(
            |account| partition_of(&account.to_string(), partitions) == partition,
            MAX_REQUEUE,
        )
        .await?;
    if let Err(e) = queue.enqueue_deliveries(&found).await {
        tracing::warn!(error = %e, jobs = found.len(), "enqueueing failed; the sweeper will retry");
    }
    if !found.is_empty() {
        tracing::info!(
            partition,
            deliveries = found.len(),
            "queued the partition's unqueued rows again"
        );
    }
    Ok(found.len())
}

/// One round: batches until a batch comes back short.
async fn sweep(db: &Database, queue: &JobQueue, quiet: Duration) {
    let partitions = queue.config().partitions;
    // Per partition: rows touched before this may be queued again (`None`: any row).
    let mut before: HashMap<u16, Option<DateTime<Utc>>> = HashMap::new();
    for partition in 0..partitions {
        let cutoff = match queue.oldest_waiting_ms(partition).await {
            Ok(oldest) => oldest
                .and_then(DateTime::<Utc>::from_timestamp_millis)
                .map(|t| t - quiet),
            // Redis unreachable: nothing to compare with; the rows go when it is back.
            Err(e) => {
                tracing::debug!(error = %e, "sweeping waits for Redis");
                return;
            }
        };
        before.insert(partition, cutoff);
    }
    let keep = |row: &relay_core::delivery::QueuedDelivery, touched: DateTime<Utc>| {
        let partition = partition_of(&row.sender_account_id.to_string(), partitions);
        before
            .get(&partition)
            .copied()
            .flatten()
            .is_none_or(|cutoff| touched < cutoff)
    };
    loop {
        match db.sweep_deliveries_where(quiet, BATCH, &keep).await {
            Ok(found) if found.is_empty() => break,
            Ok(found) => {
                tracing::info!(deliveries = found.len(), "sweeper re-enqueued deliveries");
                metrics::counter!("relay_swept_deliveries_total").increment(found.len() as u64);
                let full = found.len() as i64 >= BATCH;
                if let Err(e) = queue.enqueue_deliveries(&found).await {
                    tracing::warn!(error = %e, jobs = found.len(), "enqueueing failed; the sweeper will retry");
                }
                if !full {
                    break;
                }
            }
            Err(e) => {
                tracing::debug!(error = %e, "sweeping failed; next round");
                break;
            }
        }
    }
}
