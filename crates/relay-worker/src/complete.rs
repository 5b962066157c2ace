//! Recording sends in batches. A lane hands each sent delivery here and goes on to its next
//! one; this task marks what gathered meanwhile done in one statement (with the message
//! map), then acknowledges those entries in Redis in one round trip, in that order: an
//! entry is never acknowledged before its delivery is recorded. Lanes wait for what they
//! handed in before an edit, a delete or a reply (which look up the message map) and before
//! they stop, so a partition is handed over only once what it sent is recorded.
//!
//! At light load a batch is one delivery, as before; under load one statement and one
//! Redis round trip serve hundreds of deliveries.

use crate::supervise::{Supervised, Supervisor};
use relay_queue::{Entry, JobQueue};
use relay_store::Database;
use relay_store::outbox::Completed;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

/// Deliveries recorded per statement at most.
const MAX_BATCH: usize = 512;
/// Waits between attempts at recording or acknowledging a batch: doubling up to this.
const MAX_WAIT: Duration = Duration::from_secs(5);

struct Item {
    partition: u16,
    token: i64,
    entry: Entry,
    chat: String,
    message: String,
    done: oneshot::Sender<()>,
}

/// The handle lanes submit to; the task ends when every handle is gone.
pub struct Completer {
    tx: mpsc::UnboundedSender<Item>,
    /// The task; it goes with the handle (every submission was answered by then).
    _task: Supervised,
}

impl Completer {
    /// Starts the task under `supervisor` (restarted on the same queue after a panic);
    /// it drains and ends once `stop` fired and every handle is gone.
    pub fn start(
        db: Database,
        queue: JobQueue,
        supervisor: &Supervisor,
        stop: CancellationToken,
    ) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let rx = Arc::new(tokio::sync::Mutex::new(rx));
        let task = supervisor.spawn("completer", stop, move || {
            let (db, queue, rx) = (db.clone(), queue.clone(), Arc::clone(&rx));
            async move { run(db, queue, &mut *rx.lock().await).await }
        });
        Self { tx, _task: task }
    }

    /// Records the sent delivery and acknowledges its entry; the receiver fires when that
    /// was attempted (or at once if the task is gone).
    pub fn submit(
        &self,
        partition: u16,
        token: u64,
        entry: &Entry,
        chat: String,
        message: String,
    ) -> oneshot::Receiver<()> {
        let (done, rx) = oneshot::channel();
        let _ = self.tx.send(Item {
            partition,
            token: token as i64,
            entry: entry.clone(),
            chat,
            message,
            done,
        });
        rx
    }
}

async fn run(db: Database, queue: JobQueue, rx: &mut mpsc::UnboundedReceiver<Item>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    // The next send, and what gathered meanwhile.
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        record(&db, &queue, &batch).await;
        for item in batch.drain(..) {
            let _ = item.done.send(());
        }
    }
}

async fn record(db: &Database, queue: &JobQueue, batch: &[Item]) {
    let completed: Vec<Completed<'_>> = batch
        .iter()
        .map(|i| Completed {
            id: i.entry.job.delivery_id,
            token: i.token,
            dest_chat_id: &i.chat,
            dest_message_id: &i.message,
        })
        .collect();
    // Until it is recorded: giving up would leave rows claimed and entries unacknowledged
    // (the sweeper holds back behind the oldest entry of a partition), and the lanes wait
    // for these anyway before an edit, a delete or a stop. PostgreSQL down: this waits for
    // it, like the claims do.
    let mut wait = Duration::from_millis(100);
    let mut attempt = 1;
    let done: HashSet<i64> = loop {
        match db.complete_deliveries(&completed).await {
            Ok(ids) => break ids.into_iter().collect(),
            Err(e) => {
                tracing::warn!(error = %e, attempt, deliveries = batch.len(),
                    "recording sent deliveries failed; retrying");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(MAX_WAIT);
                attempt += 1;
            }
        }
    };
    for item in batch {
        if !done.contains(&item.entry.job.delivery_id) {
            tracing::warn!(
                delivery = item.entry.job.delivery_id,
                "claim lost before completion"
            );
        }
    }
    metrics::counter!("relay_deliveries_total", "outcome" => "done").increment(done.len() as u64);
    // Acknowledged either way: done here, or finished under a newer claim by someone else.
    let entries: Vec<(u16, &Entry)> = batch.iter().map(|i| (i.partition, &i.entry)).collect();
    let mut wait = Duration::from_millis(100);
    let mut attempt = 1;
    while let Err(e) = queue.ack_many(&entries).await {
        tracing::warn!(error = %e, attempt, entries = entries.len(),
            "acknowledging recorded deliveries failed; retrying");
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(MAX_WAIT);
        attempt += 1;
    }
}
