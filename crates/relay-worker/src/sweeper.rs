//! The outbox sweeper: deliveries that are due but not in flight (their job was lost with
//! a Redis flush or restart, or never made it) and claims that lapsed go back into the
//! queue. Every worker sweeps; `FOR UPDATE SKIP LOCKED` splits the work between them.

use crate::router::enqueue;
use relay_queue::JobQueue;
use relay_store::Database;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

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
        loop {
            match db.sweep_deliveries(quiet, 1000).await {
                Ok(found) if found.is_empty() => break,
                Ok(found) => {
                    tracing::info!(deliveries = found.len(), "sweeper re-enqueued deliveries");
                    metrics::counter!("relay_swept_deliveries_total").increment(found.len() as u64);
                    let full = found.len() >= 1000;
                    enqueue(&queue, &found).await;
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
}
