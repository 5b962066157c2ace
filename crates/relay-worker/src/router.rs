//! From a source event to deliveries: the pairs reading that chat (cached, and dropped as
//! soon as any route change commits: each batch first reads the route version, so a
//! message posted right after a pair's 201 finds that pair),
//! one outbox row per destination written first, then a job per row; events that queued up
//! meanwhile share one statement and one Redis pipeline. A row that reached
//! PostgreSQL is never lost: if Redis does not take the job, the sweeper enqueues it later.
//!
//! The sources' positions reached after a batch are committed in the same transaction as
//! its rows, and only then is each listener's batch acknowledged: a source never moves past
//! an event whose rows are not in PostgreSQL (events that make no rows move it too).
//! On stop, what already reached the router is still recorded for a moment; whatever is
//! left is dropped unacknowledged, so its source reads it again.

use crate::accounts::AccountHub;
use crate::echoes::{EchoFilter, Seen};
use crate::revisions::Revision;
use chrono::Utc;
use relay_core::delivery::DeliveryAction;
use relay_core::messages::{DeliveryPayload, IncomingMessage, SourceEvent};
use relay_core::source::{Position, SourceBatch};
use relay_core::{AccountId, AccountState};
use relay_queue::JobQueue;
use relay_store::pairs::Route;
use relay_store::{Database, SourceMessage, StoreError, Through, fan_out};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// How long a chat's pairs are reused before asking the database again.
const ROUTE_CACHE: Duration = Duration::from_secs(2);
/// Source batches recorded in one transaction at most (each may fan out to many rows).
const MAX_EVENTS: usize = 128;
/// How long a stopping router keeps recording what already reached it.
const DRAIN: Duration = Duration::from_secs(3);

/// Pairs per (account, chat), with when they were looked up.
type RouteCache = HashMap<(AccountId, String), (Instant, Vec<Route>)>;

pub struct Router {
    db: Database,
    queue: JobQueue,
    hub: AccountHub,
    echoes: EchoFilter,
    cache: Mutex<RouteCache>,
    /// The route version the cache was filled under.
    version: Mutex<Option<i64>>,
    /// Each destination's rules, compiled.
    rules: crate::rules_step::RulesCache,
    /// Copies per owner and day against the plan.
    quota: crate::quota::Quota,
}

impl Router {
    pub fn new(
        db: Database,
        queue: JobQueue,
        hub: AccountHub,
        clock: relay_core::clock::Clock,
    ) -> Self {
        Self {
            echoes: EchoFilter::new(db.clone(), queue.echo_marks()),
            quota: crate::quota::Quota::new(queue.usage(), db.clone(), clock),
            db,
            queue,
            hub,
            cache: Mutex::default(),
            version: Mutex::default(),
            rules: Default::default(),
        }
    }

    /// Drops the cached routes when a route change committed since they were read.
    async fn sync_version(&self) -> Result<(), StoreError> {
        let now = self.db.route_version().await?;
        let mut version = self.version.lock().unwrap_or_else(|p| p.into_inner());
        if *version != Some(now) {
            self.cache.lock().unwrap_or_else(|p| p.into_inner()).clear();
            *version = Some(now);
        }
        Ok(())
    }

    /// Records events until `stop`; restartable on the same receiver after a panic.
    pub async fn run(
        &self,
        events: &mut mpsc::Receiver<(AccountId, SourceBatch)>,
        stop: CancellationToken,
    ) {
        let mut revision = Revision::default();
        let mut batch = Vec::with_capacity(MAX_EVENTS);
        // The quota's bookkeeping also runs when no events come (a day turns, a plan rises).
        let mut quota = tokio::time::interval(crate::quota::TICK);
        quota.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            // The next batch, and what queued up meanwhile: one transaction and one
            // pipeline for them all (in order).
            let got = tokio::select! {
                _ = stop.cancelled() => break,
                _ = quota.tick() => {
                    if let Err(e) = self.quota.tick().await {
                        tracing::warn!(error = %e, "the daily quota's bookkeeping failed; trying again later");
                    }
                    continue;
                }
                got = events.recv_many(&mut batch, MAX_EVENTS) => got,
            };
            if got == 0 {
                break;
            }
            // PostgreSQL down: the events wait here (and the listeners behind them) until
            // the outbox takes them; nothing is dropped, and no source moves meanwhile.
            let mut wait = Duration::from_millis(200);
            loop {
                match self.handle(&mut batch, &mut revision).await {
                    Ok(()) => break,
                    Err(e) => {
                        tracing::warn!(events = batch.len(), error = %e, "cannot record source events yet; retrying");
                        tokio::select! {
                            _ = stop.cancelled() => break,
                            _ = tokio::time::sleep(wait) => {}
                        }
                        wait = (wait * 2).min(Duration::from_secs(5));
                    }
                }
            }
            if stop.is_cancelled() {
                break;
            }
        }
        self.drain(events, &mut batch, &mut revision).await;
    }

    /// Records, until `DRAIN` passes, what already reached the router (the batch in hand
    /// first); the rest is dropped unacknowledged.
    async fn drain(
        &self,
        events: &mut mpsc::Receiver<(AccountId, SourceBatch)>,
        batch: &mut Vec<(AccountId, SourceBatch)>,
        revision: &mut Revision,
    ) {
        let deadline = tokio::time::Instant::now() + DRAIN;
        loop {
            while batch.len() < MAX_EVENTS {
                match events.try_recv() {
                    Ok(next) => batch.push(next),
                    Err(_) => break,
                }
            }
            if batch.is_empty() {
                return;
            }
            match tokio::time::timeout_at(deadline, self.handle(batch, revision)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    tracing::warn!(batches = batch.len(), error = %e, "stopping: source events left unrecorded; their sources will read them again");
                    return;
                }
                Err(_) => {
                    tracing::warn!(
                        batches = batch.len(),
                        "stopping: source events left unrecorded; their sources will read them again"
                    );
                    return;
                }
            }
        }
    }

    async fn routes(&self, account: AccountId, chat: &str) -> Result<Vec<Route>, StoreError> {
        let key = (account, chat.to_owned());
        if let Some((at, routes)) = self
            .cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
            && at.elapsed() < ROUTE_CACHE
        {
            return Ok(routes.clone());
        }
        let routes = self.db.routes_for_source(account, chat).await?;
        self.cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, (Instant::now(), routes.clone()));
        Ok(routes)
    }

    /// Whether a position is worth recording: a channel's only while some pair reads it
    /// (a bot or a session sees many chats; catching up covers only the ones read, and a
    /// chat read for the first time starts where it stands), a session's common boxes
    /// always.
    async fn tracks(&self, account: AccountId, position: &Position) -> Result<bool, StoreError> {
        let chat = match position {
            Position::DiscordChannel { channel_id, .. } => channel_id.to_string(),
            Position::TelegramChannel { channel_id, .. } => {
                relay_telegram::platform::channel_chat_id(*channel_id)
            }
            Position::TelegramCommon { .. } | Position::TelegramSecondary { .. } => {
                return Ok(true);
            }
        };
        Ok(!self.routes(account, &chat).await?.is_empty())
    }

    /// Which events are copies Relay sent (see [`crate::echoes`]); only events in chats
    /// some pair reads are looked up.
    async fn echoes_among(
        &self,
        events: &[(AccountId, &SourceEvent)],
    ) -> Result<Vec<bool>, StoreError> {
        let mut seen = Vec::new();
        let mut at = Vec::new();
        for (i, (account, event)) in events.iter().enumerate() {
            let chat = match event {
                SourceEvent::Created(m) | SourceEvent::Edited(m) => &m.chat_id,
                SourceEvent::Deleted { chat_id, .. } => chat_id,
                SourceEvent::Unauthorized { .. } => continue,
            };
            if self.routes(*account, chat).await?.is_empty() {
                continue;
            }
            let discord = self
                .hub
                .kind_of(*account)
                .is_some_and(|k| k == relay_core::AccountKind::DiscordBot);
            seen.push(Seen {
                account: *account,
                discord,
                event,
            });
            at.push(i);
        }
        let mut echo = vec![false; events.len()];
        for (i, found) in at.into_iter().zip(self.echoes.echoes(&seen).await?) {
            echo[i] = found;
        }
        Ok(echo)
    }

    /// The outbox rows of a batch of events and the positions reached after them, in one
    /// transaction; then each listener's acknowledgement (the batch is emptied), the jobs
    /// in one pipeline, and the accounts that stopped working. On an error nothing is
    /// acknowledged and the batch stays as it was.
    async fn handle(
        &self,
        batch: &mut Vec<(AccountId, SourceBatch)>,
        revision: &mut Revision,
    ) -> Result<(), StoreError> {
        self.sync_version().await?;
        crate::deletes::resolve_chatless_deletes(&self.db, batch).await?;
        let mut rows = Vec::new();
        let mut unauthorized = Vec::new();
        let mut positions = Positions::default();
        let mut limits = std::collections::HashMap::new();
        let mut events = Vec::new();
        for (account, b) in batch.iter() {
            events.extend(b.events.iter().map(|e| (*account, e)));
        }
        let echoes = self.echoes_among(&events).await?;
        for ((account, event), echo) in events.into_iter().zip(echoes) {
            if echo {
                metrics::counter!("relay_echoes_dropped_total").increment(1);
                continue;
            }
            let (chat, message_id, action, payload) = match event {
                SourceEvent::Created(m) => (
                    &m.chat_id,
                    &m.message_id,
                    DeliveryAction::Create,
                    payload(account, m, None),
                ),
                SourceEvent::Edited(m) => (
                    &m.chat_id,
                    &m.message_id,
                    DeliveryAction::Edit,
                    payload(account, m, Some(m.message_id.clone())),
                ),
                SourceEvent::Deleted {
                    chat_id,
                    message_id,
                } => (
                    chat_id,
                    message_id,
                    DeliveryAction::Delete,
                    DeliveryPayload {
                        target_source_message: Some(message_id.clone()),
                        ..DeliveryPayload::default()
                    },
                ),
                SourceEvent::Unauthorized { reason } => {
                    unauthorized.push((account, reason.clone()));
                    continue;
                }
            };
            let routes = self.routes(account, chat).await?;
            if routes.is_empty() {
                continue;
            }
            let value = serde_json::to_value(&payload).unwrap_or_default();
            // Each edit is its own row, the same edit read twice one row; creates and
            // deletes happen once.
            let revision = match event {
                SourceEvent::Edited(m) => revision.of_edit(m.edited_at_ms, &value),
                _ => 0,
            };
            let message = SourceMessage {
                chat_id: chat,
                message_id,
                action,
                revision,
                payload: &value,
                at: Utc::now(),
            };
            let incoming = match event {
                SourceEvent::Created(m) | SourceEvent::Edited(m) => Some(m),
                _ => None,
            };
            let now_ms = message.at.timestamp_millis();
            for route in routes.iter() {
                limits.insert(route.owner_id, route.daily_messages);
            }
            // Per destination, what the pair's rules, its pause and the plan make of it.
            for route in routes.iter() {
                let through = Through {
                    owner_id: route.owner_id,
                    pair_id: route.pair_id,
                    priority: route.priority,
                };
                let fanned = fan_out(
                    through,
                    route.destinations.iter().map(|d| (d.id, d.account_id)),
                    &message,
                );
                for (row, destination) in fanned.zip(&route.destinations) {
                    rows.push(self.rules.apply(
                        route,
                        destination,
                        incoming,
                        &payload,
                        row,
                        now_ms,
                    ));
                }
            }
        }
        for (account, b) in batch.iter() {
            if let Some(position) = b.position
                && self.tracks(*account, &position).await?
            {
                positions.set(*account, position);
            }
        }
        self.quota.apply(&mut rows, &limits).await;
        let queued = if rows.is_empty() && positions.0.is_empty() {
            Vec::new()
        } else {
            self.db
                .record_source_events(&rows, &positions.into_list())
                .await?
        };
        for (_, b) in batch.drain(..) {
            b.acknowledge();
        }
        // A failure here only delays the rows: the sweeper enqueues whatever stays pending.
        if let Err(e) = self.queue.enqueue_deliveries(&queued).await {
            tracing::warn!(error = %e, jobs = queued.len(), "enqueueing failed; the sweeper will retry");
        }
        for (account, reason) in unauthorized {
            tracing::warn!(%account, reason, "the account's credentials stopped working");
            self.db
                .set_account_state(account, AccountState::Unauthorized, None, Some(&reason))
                .await?;
            self.hub.stop(account);
        }
        Ok(())
    }
}

/// The positions of a transaction, the latest per source box, in first-seen order.
#[derive(Default)]
struct Positions(Vec<(AccountId, Position)>);

impl Positions {
    fn set(&mut self, account: AccountId, position: Position) {
        let same_box = |(a, p): &(AccountId, Position)| {
            *a == account
                && match (p, &position) {
                    (
                        Position::DiscordChannel { channel_id: x, .. },
                        Position::DiscordChannel { channel_id: y, .. },
                    ) => x == y,
                    (
                        Position::TelegramChannel { channel_id: x, .. },
                        Position::TelegramChannel { channel_id: y, .. },
                    ) => x == y,
                    (Position::TelegramCommon { .. }, Position::TelegramCommon { .. })
                    | (Position::TelegramSecondary { .. }, Position::TelegramSecondary { .. }) => {
                        true
                    }
                    _ => false,
                }
        };
        match self.0.iter_mut().find(|entry| same_box(entry)) {
            Some(entry) => entry.1 = position,
            None => self.0.push((account, position)),
        }
    }

    fn into_list(self) -> Vec<(AccountId, Position)> {
        self.0
    }
}

fn payload(account: AccountId, m: &IncomingMessage, target: Option<String>) -> DeliveryPayload {
    // A bot's file id, or a user session's message, only works through that account: the
    // reference names it.
    let media = m
        .media
        .iter()
        .cloned()
        .map(|mut media| {
            media.source.set_account(account);
            media
        })
        .collect();
    DeliveryPayload {
        text: m.text.clone(),
        author: Some(m.author.clone()),
        media,
        embeds: m.embeds.clone(),
        reply_to_source: m.reply_to.clone(),
        reply_quote: m.reply_quote.clone(),
        grouped_ids: m.grouped_ids.clone(),
        target_source_message: target,
        posted_at_ms: m.posted_at_ms,
    }
}
