//! Who does what: partitions are leased (renewable, with a fencing token) and a worker
//! takes its fair share — the partitions divided by the live workers, rounded up. Owning a
//! partition means sending its jobs and driving its accounts (the sending accounts hash to
//! partitions), so every account has exactly one owner. A worker that dies stops renewing;
//! within the lease's lifetime the others take its partitions, their pending entries and
//! their accounts over.

use crate::accounts::AccountHub;
use crate::deliver::SharedDeliverer;
use crate::partition::PartitionRunner;
use relay_core::messages::SendError;
use relay_core::{AccountId, AccountKind, AccountState};
use relay_queue::{JobQueue, Leases, WorkerRegistry, partition_of};
use relay_store::Database;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

struct Owned {
    token: u64,
    renewed: Instant,
    stop: CancellationToken,
    task: JoinHandle<()>,
}

pub struct Ownership {
    pub worker_id: String,
    pub db: Database,
    pub queue: JobQueue,
    pub leases: Leases,
    pub registry: WorkerRegistry,
    pub deliverer: SharedDeliverer,
    pub hub: AccountHub,
    pub permits: Arc<Semaphore>,
    pub lease_ttl: Duration,
    pub health_interval: Duration,
    owned: HashMap<u16, Owned>,
    last_health: Instant,
}

fn lease_name(partition: u16) -> String {
    format!("partition:{partition}")
}

impl Ownership {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        worker_id: String,
        db: Database,
        queue: JobQueue,
        leases: Leases,
        registry: WorkerRegistry,
        deliverer: SharedDeliverer,
        hub: AccountHub,
        permits: Arc<Semaphore>,
        lease_ttl: Duration,
        health_interval: Duration,
    ) -> Self {
        Self {
            worker_id,
            db,
            queue,
            leases,
            registry,
            deliverer,
            hub,
            permits,
            lease_ttl,
            health_interval,
            owned: HashMap::new(),
            last_health: Instant::now(),
        }
    }

    pub async fn run(mut self, stop: CancellationToken) {
        let mut tick = tokio::time::interval(self.lease_ttl / 4);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = tick.tick() => {}
            }
            self.renew().await;
            self.balance().await;
            self.refresh_accounts().await;
            if self.last_health.elapsed() >= self.health_interval {
                self.last_health = Instant::now();
                self.check_health().await;
            }
        }
        // Shutdown: every partition drains its lanes, then its lease is released so
        // another worker takes over at once rather than after the lease runs out.
        for owned in self.owned.values() {
            owned.stop.cancel();
        }
        let partitions: Vec<u16> = self.owned.keys().copied().collect();
        for p in partitions {
            self.release(p).await;
        }
        self.hub.stop_all();
    }

    async fn renew(&mut self) {
        let mut lost = Vec::new();
        for (&p, owned) in &mut self.owned {
            match self
                .leases
                .renew(&lease_name(p), &self.worker_id, owned.token, self.lease_ttl)
                .await
            {
                Ok(true) => owned.renewed = Instant::now(),
                Ok(false) => lost.push(p),
                // Redis unreachable: keep going only while the lease surely still holds.
                Err(_) if owned.renewed.elapsed() < self.lease_ttl / 2 => {}
                Err(_) => lost.push(p),
            }
        }
        for p in lost {
            tracing::warn!(partition = p, "partition lease lost; stopping it here");
            if let Some(owned) = self.owned.remove(&p) {
                owned.stop.cancel();
                let _ = owned.task.await;
            }
        }
    }

    async fn balance(&mut self) {
        let partitions = self.queue.config().partitions;
        let alive = match self.registry.alive().await {
            Ok(alive) => alive.len().max(1),
            Err(_) => return,
        };
        let target = (usize::from(partitions)).div_ceil(alive);
        if self.owned.len() > target {
            // One at a time, so workers joining do not make everything move at once.
            if let Some(&p) = self.owned.keys().max() {
                tracing::info!(
                    partition = p,
                    target,
                    "handing a partition to another worker"
                );
                self.release(p).await;
            }
            return;
        }
        // Start from a per-worker offset so workers do not all race for partition 0.
        let offset = self
            .worker_id
            .bytes()
            .fold(0u16, |h, b| h.wrapping_mul(31).wrapping_add(u16::from(b)));
        for i in 0..partitions {
            if self.owned.len() >= target {
                break;
            }
            let p = (offset.wrapping_add(i)) % partitions;
            if self.owned.contains_key(&p) {
                continue;
            }
            match self
                .leases
                .acquire(&lease_name(p), &self.worker_id, self.lease_ttl)
                .await
            {
                Ok(Some(token)) => match self.db.next_lease_epoch().await {
                    Ok(epoch) => self.start(p, token, epoch as u64),
                    Err(e) => {
                        // Without a fencing token from PostgreSQL, no claims: give it back.
                        tracing::warn!(partition = p, error = %e, "no fencing token; releasing");
                        let _ = self
                            .leases
                            .release(&lease_name(p), &self.worker_id, token)
                            .await;
                        return;
                    }
                },
                Ok(None) => {}
                Err(_) => return,
            }
        }
    }

    /// `token` renews the Redis lease; `epoch` fences the outbox claims.
    fn start(&mut self, partition: u16, token: u64, epoch: u64) {
        tracing::info!(partition, epoch, worker = %self.worker_id, "partition acquired");
        let stop = CancellationToken::new();
        let runner = PartitionRunner {
            partition,
            token: epoch,
            consumer: self.worker_id.clone(),
            queue: self.queue.clone(),
            deliverer: Arc::clone(&self.deliverer),
            permits: Arc::clone(&self.permits),
        };
        let task = tokio::spawn(runner.run(stop.clone()));
        self.owned.insert(
            partition,
            Owned {
                token,
                renewed: Instant::now(),
                stop,
                task,
            },
        );
    }

    async fn release(&mut self, partition: u16) {
        let Some(owned) = self.owned.remove(&partition) else {
            return;
        };
        owned.stop.cancel();
        let _ = owned.task.await;
        let partitions = self.queue.config().partitions;
        for account in self.hub.running_ids() {
            if partition_of(&account.to_string(), partitions) == partition {
                self.hub.stop(account);
            }
        }
        if let Err(e) = self
            .leases
            .release(&lease_name(partition), &self.worker_id, owned.token)
            .await
        {
            tracing::warn!(partition, error = %e, "could not release the lease; it will lapse");
        }
    }

    /// Checks every account this worker drives with its platform and records the state:
    /// connected, flood_wait until T, reconnecting (with the error), or unauthorized (the
    /// account stops here and is reported; nothing retries it until its owner reconnects).
    async fn check_health(&mut self) {
        let Ok(accounts) = self.db.active_accounts().await else {
            return;
        };
        let running: HashSet<AccountId> = self.hub.running_ids().into_iter().collect();
        for account in accounts.iter().filter(|a| running.contains(&a.id)) {
            let (state, until, error) = match self.hub.check(account).await {
                Ok(()) => (AccountState::Connected, None, None),
                Err(SendError::RateLimited { retry_after, .. }) => (
                    AccountState::FloodWait,
                    Some(
                        chrono::Utc::now()
                            + chrono::Duration::from_std(retry_after).unwrap_or_default(),
                    ),
                    Some(format!("rate limited for {retry_after:?}")),
                ),
                Err(SendError::Unauthorized(why)) => {
                    self.hub.stop(account.id);
                    (AccountState::Unauthorized, None, Some(why))
                }
                Err(other) => (AccountState::Reconnecting, None, Some(other.to_string())),
            };
            if (state != account.state || error.is_some())
                && let Err(e) = self
                    .db
                    .set_account_state(account.id, state, until, error.as_deref())
                    .await
            {
                tracing::warn!(account = %account.id, error = %e, "could not record the account's health");
            }
        }
    }

    /// Runs the accounts of the owned partitions: listeners for those pairs read from (and
    /// every user session), and stops accounts whose partition moved away.
    async fn refresh_accounts(&mut self) {
        let partitions = self.queue.config().partitions;
        let owned: HashSet<u16> = self.owned.keys().copied().collect();
        let mine = |id: AccountId| owned.contains(&partition_of(&id.to_string(), partitions));
        for id in self.hub.running_ids() {
            if !mine(id) {
                self.hub.stop(id);
            }
        }
        let Ok(accounts) = self.db.active_accounts().await else {
            return;
        };
        let active: HashSet<AccountId> = accounts.iter().map(|a| a.id).collect();
        for id in self.hub.running_ids() {
            if !active.contains(&id) {
                self.hub.stop(id);
            }
        }
        for account in accounts.iter().filter(|a| mine(a.id)) {
            if self.hub.is_listening(account.id) || account.kind == AccountKind::DiscordWebhook {
                continue;
            }
            let watched = match self.db.watched_chats(account.id).await {
                Ok(chats) => !chats.is_empty(),
                Err(_) => return,
            };
            if (watched || account.kind == AccountKind::TelegramUser)
                && let Err(e) = self.hub.start(account, true).await
            {
                tracing::warn!(account = %account.id, error = %e, "cannot start the account");
            }
        }
    }
}
