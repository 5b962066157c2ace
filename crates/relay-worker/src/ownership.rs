//! Who does what: partitions are leased (renewable, with a fencing token) and a worker
//! takes its fair share — the partitions divided by the live workers, rounded up. Owning a
//! partition means sending its jobs and driving its accounts (the sending accounts hash to
//! partitions), so every account has exactly one owner. A worker that dies stops renewing;
//! within the lease's lifetime the others take its partitions, their pending entries and
//! their accounts over.
//!
//! This loop balances partitions and keeps the accounts of the held ones running: on its
//! tick, and at once when a pair changes (a route change committed in PostgreSQL). Leases
//! are renewed elsewhere ([`crate::lease_keeper`]); account starts and health checks run
//! on a bounded pool ([`crate::account_work`]), so none of them can hold this loop up.

use crate::account_work::AccountWork;
use crate::accounts::AccountHub;
use crate::deliver::SharedDeliverer;
use crate::lease_keeper::{Held, HeldPartition, lease_name};
use crate::partition::PartitionRunner;
use relay_core::{AccountId, AccountKind};
use relay_queue::{JobQueue, Leases, WorkerRegistry};
use relay_store::{Database, RouteChange};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, Semaphore};
use tokio_util::sync::CancellationToken;

/// Accounts whose pairs changed, waiting for the ownership loop.
#[derive(Default)]
pub struct RouteSignals {
    pending: Mutex<Pending>,
    notify: Notify,
}

#[derive(Default)]
struct Pending {
    accounts: HashSet<AccountId>,
    everything: bool,
}

impl RouteSignals {
    pub fn push(&self, change: RouteChange) {
        {
            let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            match change {
                RouteChange::Account(id) => {
                    pending.accounts.insert(id);
                }
                RouteChange::Missed => pending.everything = true,
            }
        }
        self.notify.notify_one();
    }

    fn take(&self) -> Pending {
        std::mem::take(&mut *self.pending.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// Listens for committed route changes and hands them to the ownership loop; after a
/// lost connection, asks for a full refresh (changes may have been missed).
pub async fn watch_routes(db: Database, signals: Arc<RouteSignals>, stop: CancellationToken) {
    loop {
        let mut changes = match db.listen_route_changes().await {
            Ok(changes) => changes,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for pair changes yet; retrying");
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
                continue;
            }
        };
        // What changed before we listened is picked up by one full refresh.
        signals.push(RouteChange::Missed);
        loop {
            let change = tokio::select! {
                _ = stop.cancelled() => return,
                change = changes.next() => change,
            };
            match change {
                Ok(change) => signals.push(change),
                Err(e) => {
                    tracing::warn!(error = %e, "listening for pair changes failed; listening again");
                    break;
                }
            }
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
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
    pub held: Held,
    pub work: AccountWork,
    pub signals: Arc<RouteSignals>,
    pub lease_ttl: Duration,
    pub health_interval: Duration,
    last_health: Mutex<Instant>,
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
        held: Held,
        work: AccountWork,
        signals: Arc<RouteSignals>,
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
            held,
            work,
            signals,
            lease_ttl,
            health_interval,
            last_health: Mutex::new(Instant::now()),
        }
    }

    /// One loop until `stop`; restartable (all state is shared), so a supervisor can run
    /// it again after a panic.
    pub async fn run(self: Arc<Self>, stop: CancellationToken) {
        let mut tick = tokio::time::interval(self.lease_ttl / 4);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let everything = tokio::select! {
                _ = stop.cancelled() => break,
                _ = tick.tick() => true,
                _ = self.signals.notify.notified() => false,
            };
            let pending = self.signals.take();
            self.balance().await;
            if everything || pending.everything {
                self.refresh_accounts(None, &pending).await;
            } else if !pending.accounts.is_empty() {
                self.refresh_accounts(Some(&pending.accounts), &pending)
                    .await;
            }
            let health_due = {
                let mut last = self.last_health.lock().unwrap_or_else(|p| p.into_inner());
                let due = last.elapsed() >= self.health_interval;
                if due {
                    *last = Instant::now();
                }
                due
            };
            if health_due {
                self.check_health().await;
            }
        }
    }

    /// Shutdown: every partition drains its lanes, then its lease is released so another
    /// worker takes over at once rather than after the lease runs out.
    pub async fn release_all(&self) {
        // All told to stop first, so they drain side by side.
        let stopping: Vec<(u16, HeldPartition)> = self
            .held
            .ids()
            .into_iter()
            .filter_map(|p| self.held.remove(p).map(|h| (p, h)))
            .inspect(|(_, h)| h.stop.cancel())
            .collect();
        for (p, h) in stopping {
            self.held_stopped(p, h).await;
        }
        self.hub.stop_all();
    }

    async fn held_stopped(&self, partition: u16, held: HeldPartition) {
        let _ = held.task.await;
        self.hub.stop_partition(partition);
        if let Err(e) = self
            .leases
            .release(&lease_name(partition), &self.worker_id, held.token)
            .await
        {
            tracing::warn!(partition, error = %e, "could not release the lease; it will lapse");
        }
    }

    async fn release(&self, partition: u16) {
        if let Some(held) = self.held.remove(partition) {
            held.stop.cancel();
            self.held_stopped(partition, held).await;
        }
    }

    async fn balance(&self) {
        let partitions = self.queue.config().partitions;
        let alive = match self.registry.alive().await {
            Ok(alive) => alive.len().max(1),
            Err(_) => return,
        };
        let target = (usize::from(partitions)).div_ceil(alive);
        if self.held.len() > target {
            // One at a time, so workers joining do not make everything move at once.
            if let Some(p) = self.held.ids().into_iter().max() {
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
            if self.held.len() >= target {
                break;
            }
            let p = (offset.wrapping_add(i)) % partitions;
            if self.held.holds(p) || self.held.draining(p) {
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
    fn start(&self, partition: u16, token: u64, epoch: u64) {
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
        self.held.insert(
            partition,
            HeldPartition {
                token,
                renewed: Instant::now(),
                stop,
                task,
            },
        );
    }

    /// Checks every account this worker drives with its platform, on the pool.
    async fn check_health(&self) {
        let Ok(accounts) = self.db.active_accounts().await else {
            return;
        };
        let running: HashSet<AccountId> = self.hub.running_ids().into_iter().collect();
        for account in accounts.into_iter().filter(|a| running.contains(&a.id)) {
            self.work.check(&self.hub, &self.db, account);
        }
    }

    /// Runs the accounts of the held partitions: listeners for those pairs read from (and
    /// every user session and Telegram bot), and stops accounts whose partition moved away or that are no
    /// longer active. `only`: just these accounts are (re)considered for starting;
    /// `changed`: the route changes told (running user sessions follow their pairs' chats).
    async fn refresh_accounts(&self, only: Option<&HashSet<AccountId>>, changed: &Pending) {
        for id in self.hub.running_ids() {
            if !self.held.drives(&id) {
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
        for account in accounts {
            if (changed.everything || changed.accounts.contains(&account.id))
                && account.kind == AccountKind::TelegramUser
                && self.hub.is_listening(account.id)
            {
                // A running session starts reading its new pairs' channels where they stand.
                match self.db.watched_chats(account.id).await {
                    Ok(chats) => {
                        self.hub.reading(account.id, chats);
                    }
                    Err(_) => return,
                }
                continue;
            }
            if !self.held.drives(&account.id)
                || only.is_some_and(|only| !only.contains(&account.id))
                || self.hub.is_listening(account.id)
                || account.kind == AccountKind::DiscordWebhook
                || !self.hub.may_start(account.id)
            {
                continue;
            }
            let watched = match self.db.watched_chats(account.id).await {
                Ok(chats) => !chats.is_empty(),
                Err(_) => return,
            };
            // Bots poll even without pairs: the Bot API cannot list a bot's chats, so the
            // chats it is in are learnt from its updates (those of chats no pair reads are
            // confirmed and dropped, as they always were).
            if watched
                || matches!(
                    account.kind,
                    AccountKind::TelegramUser | AccountKind::TelegramBot
                )
            {
                self.work.start(&self.hub, account);
            }
        }
    }
}
