//! The partitions this worker holds, and the task that keeps their leases. Renewing runs
//! on its own timer, apart from balancing, account starts and health checks, so no slow
//! platform call can make a lease lapse; each renewal has its own timeout. A partition
//! whose lease cannot be renewed is given up here — its lanes and its accounts stopped —
//! once half the lease has passed since the last renewal, well before another worker can
//! take it, so no account is ever driven by two workers.

use relay_queue::{Leases, partition_of};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::task::{JoinHandle, JoinSet};
use tokio_util::sync::CancellationToken;

/// One held partition.
pub struct HeldPartition {
    /// The Redis lease's token (renewals and the release carry it).
    pub token: u64,
    pub renewed: Instant,
    /// Stops the partition's lanes.
    pub stop: CancellationToken,
    pub task: JoinHandle<()>,
}

/// The partitions held, shared by the lease keeper, the ownership loop and the accounts.
#[derive(Clone)]
pub struct Held {
    partitions: u16,
    held: Arc<Mutex<HashMap<u16, HeldPartition>>>,
    /// Runners of partitions given up that are still finishing what they had in hand: the
    /// partition is not taken again here until they have (two runners, one consumer).
    draining: Arc<Mutex<HashMap<u16, JoinHandle<()>>>>,
}

impl Held {
    pub fn new(partitions: u16) -> Self {
        Self {
            partitions,
            held: Arc::default(),
            draining: Arc::default(),
        }
    }

    /// Whether the runner of a partition given up here is still finishing.
    pub fn draining(&self, partition: u16) -> bool {
        let mut draining = self.draining.lock().unwrap_or_else(|p| p.into_inner());
        match draining.get(&partition) {
            Some(task) if !task.is_finished() => true,
            Some(_) => {
                draining.remove(&partition);
                false
            }
            None => false,
        }
    }

    /// Gives a partition up without waiting: its runner is told to stop and watched.
    pub fn give_up(&self, partition: u16) {
        if let Some(h) = self.remove(partition) {
            h.stop.cancel();
            self.draining
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(partition, h.task);
        }
    }

    fn held(&self) -> MutexGuard<'_, HashMap<u16, HeldPartition>> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn partition_count(&self) -> u16 {
        self.partitions
    }

    /// The partition an account hashes to (its jobs, and who drives it).
    pub fn partition_of(&self, account: &impl ToString) -> u16 {
        partition_of(&account.to_string(), self.partitions)
    }

    pub fn holds(&self, partition: u16) -> bool {
        self.held().contains_key(&partition)
    }

    /// Whether this worker drives that account (it holds the account's partition).
    pub fn drives(&self, account: &impl ToString) -> bool {
        self.holds(self.partition_of(account))
    }

    pub fn len(&self) -> usize {
        self.held().len()
    }

    pub fn is_empty(&self) -> bool {
        self.held().is_empty()
    }

    pub fn ids(&self) -> Vec<u16> {
        self.held().keys().copied().collect()
    }

    pub fn insert(&self, partition: u16, held: HeldPartition) {
        self.held().insert(partition, held);
    }

    pub fn remove(&self, partition: u16) -> Option<HeldPartition> {
        self.held().remove(&partition)
    }

    fn tokens(&self) -> Vec<(u16, u64)> {
        self.held().iter().map(|(p, h)| (*p, h.token)).collect()
    }

    fn renewed(&self, partition: u16, token: u64) {
        if let Some(h) = self.held().get_mut(&partition)
            && h.token == token
        {
            h.renewed = Instant::now();
        }
    }

    /// Held for longer than `age` without a renewal.
    fn stale(&self, partition: u16, token: u64, age: Duration) -> bool {
        self.held()
            .get(&partition)
            .is_some_and(|h| h.token == token && h.renewed.elapsed() >= age)
    }
}

pub fn lease_name(partition: u16) -> String {
    format!("partition:{partition}")
}

/// Keeps the leases of the held partitions; `lost` is told of each partition given up
/// (after its lanes were told to stop), so the accounts it drove stop at once.
pub struct LeaseKeeper {
    pub worker_id: String,
    pub leases: Leases,
    pub held: Held,
    pub ttl: Duration,
}

impl LeaseKeeper {
    /// How often leases are renewed: four times per lease.
    pub fn interval(&self) -> Duration {
        self.ttl / 4
    }

    pub async fn run(&self, stop: CancellationToken, lost: impl Fn(u16) + Send + Sync) {
        let mut tick = tokio::time::interval(self.interval());
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tick.tick() => {}
            }
            for p in self.renew_once().await {
                lost(p);
            }
        }
    }

    /// Renews every held lease at once (each with its own timeout) and gives up those
    /// lost or too long unrenewed. Returns the partitions given up.
    pub async fn renew_once(&self) -> Vec<u16> {
        let mut renewals = JoinSet::new();
        for (p, token) in self.held.tokens() {
            let leases = self.leases.clone();
            let worker = self.worker_id.clone();
            let ttl = self.ttl;
            let limit = self.interval();
            renewals.spawn(async move {
                let renewed =
                    tokio::time::timeout(limit, leases.renew(&lease_name(p), &worker, token, ttl))
                        .await;
                (p, token, renewed)
            });
        }
        let mut given_up = Vec::new();
        while let Some(done) = renewals.join_next().await {
            let Ok((p, token, renewed)) = done else {
                continue;
            };
            match renewed {
                Ok(Ok(true)) => self.held.renewed(p, token),
                Ok(Ok(false)) => {
                    tracing::warn!(partition = p, "partition lease lost; stopping it here");
                    given_up.push(p);
                }
                // Redis slow or away: go on only while the lease surely still holds.
                Ok(Err(_)) | Err(_) if !self.held.stale(p, token, self.ttl / 2) => {}
                Ok(Err(_)) | Err(_) => {
                    tracing::warn!(
                        partition = p,
                        "cannot renew the partition lease; stopping it here before it lapses"
                    );
                    given_up.push(p);
                }
            }
        }
        for &p in &given_up {
            self.held.give_up(p);
        }
        given_up
    }
}

#[cfg(test)]
#[path = "lease_keeper_tests.rs"]
mod tests;
