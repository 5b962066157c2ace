//! Claiming in batches. Every lane claims the deliveries it is about to send; this task
//! gathers the claims that arrive while a statement runs and makes the next one for all of
//! them (each under its partition's fencing token), then answers each lane with what it
//! got. At light load a batch is one lane's claim, as before; under load one statement
//! serves dozens of lanes, so the number of statements no longer grows with the number of
//! destinations.

use crate::supervise::{Supervised, Supervisor};
use relay_store::outbox::ClaimedDelivery;
use relay_store::{Database, StoreError};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

/// Deliveries claimed per statement at most.
const MAX_BATCH: usize = 1024;

/// Claimed deliveries by id, or why the claim could not be made.
pub type ClaimResult = Result<HashMap<i64, ClaimedDelivery>, String>;

struct Request {
    token: i64,
    ids: Vec<i64>,
    reply: oneshot::Sender<ClaimResult>,
}

/// The handle lanes claim through; the task ends when every handle is gone.
pub struct Claimer {
    tx: mpsc::UnboundedSender<Request>,
    /// The task; it goes with the handle (every submission was answered by then).
    _task: Supervised,
}

impl Claimer {
    /// Starts the task under `supervisor` (restarted on the same queue after a panic);
    /// it drains and ends once `stop` fired and every handle is gone.
    pub fn start(
        db: Database,
        hold: Duration,
        supervisor: &Supervisor,
        stop: CancellationToken,
    ) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let rx = Arc::new(tokio::sync::Mutex::new(rx));
        let task = supervisor.spawn("claimer", stop, move || {
            let (db, rx) = (db.clone(), Arc::clone(&rx));
            async move { run(db, hold, &mut *rx.lock().await).await }
        });
        Self { tx, _task: task }
    }

    /// Claims these deliveries under `token`: those still to be sent, by id.
    pub async fn claim(&self, token: u64, ids: Vec<i64>) -> ClaimResult {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Request {
                token: token as i64,
                ids,
                reply,
            })
            .map_err(|_| "the claimer stopped".to_owned())?;
        rx.await.map_err(|_| "the claimer stopped".to_owned())?
    }
}

async fn run(db: Database, hold: Duration, rx: &mut mpsc::UnboundedReceiver<Request>) {
    while let Some(first) = rx.recv().await {
        let mut size = first.ids.len();
        let mut batch = vec![first];
        while size < MAX_BATCH {
            match rx.try_recv() {
                Ok(request) => {
                    size += request.ids.len();
                    batch.push(request);
                }
                Err(_) => break,
            }
        }
        let claims: Vec<(i64, i64)> = batch
            .iter()
            .flat_map(|r| r.ids.iter().map(|id| (*id, r.token)))
            .collect();
        answer(batch, db.claim_many(&claims, hold).await);
    }
}

/// Hands each lane the deliveries it asked for that were claimed under its token.
fn answer(batch: Vec<Request>, claimed: Result<Vec<ClaimedDelivery>, StoreError>) {
    let mut claimed: HashMap<i64, ClaimedDelivery> = match claimed {
        Ok(rows) => rows.into_iter().map(|c| (c.id, c)).collect(),
        Err(e) => {
            let why = e.to_string();
            for request in batch {
                let _ = request.reply.send(Err(why.clone()));
            }
            return;
        }
    };
    for request in batch {
        let mine = request
            .ids
            .iter()
            .filter_map(|id| claimed.remove_entry(id))
            .collect();
        let _ = request.reply.send(Ok(mine));
    }
}
