//! The platform accounts a worker drives: a destination (sink) for every account whose
//! partition it owns, and a source (listener) for those of them that pairs read from.
//! A Telegram user session is one grammers connection shared by its listener and its sink,
//! and only the partition's owner opens it (two processes on one session get it revoked).
//!
//! Starts are serialized per account (a delivery asking for a sink and the ownership loop
//! starting the listener cannot both open it), an account is only started while this
//! worker holds its partition, and whatever a start replaces is stopped and awaited first.
//! A listener that ends or panics on its own is taken out and started again by the
//! ownership loop after a growing pause; a panic in one account's code touches no other.

use crate::Platforms;
pub use crate::any_sink::AnySink;
use crate::lease_keeper::Held;
use relay_core::messages::SendError;
use relay_core::source::{SourceBatch, SourceSender};
use relay_core::{AccountId, AccountKind, AccountState};
use relay_discord::{DiscordListener, DiscordRest, ListenerConfig, WebhookTarget};
use relay_store::crypto::Keyring;
use relay_store::{Account, Database};
use relay_telegram::user::{Connection, UserListener, UserSession, UserSink};
use relay_telegram::{BotListener, TelegramBot};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// One running account: its sink, and its listener while pairs read from it.
struct Running {
    kind: AccountKind,
    /// Tells this start apart from a later one of the same account.
    generation: u64,
    sink: AnySink,
    /// Stops the listener (and, for a user session, the connection with it).
    stop: CancellationToken,
    listening: bool,
    /// The listener's task, awaited before the account is opened again.
    task: Option<JoinHandle<()>>,
    telegram_bot: Option<TelegramBot>,
    /// A user session's listener follows the chats its pairs read (see [`AccountHub::reading`]).
    chats: Option<watch::Sender<Vec<String>>>,
}

/// How soon an account whose listener failed may be started again.
#[derive(Default)]
struct Retry {
    failures: u32,
    not_before: Option<Instant>,
}

/// The longest pause before a failed account is started again.
const MAX_RETRY_PAUSE: Duration = Duration::from_secs(60);
/// How long a replaced listener may take to stop before the new one starts anyway.
const REPLACE_WAIT: Duration = Duration::from_secs(5);

/// The accounts this worker drives, by id.
#[derive(Clone)]
pub struct AccountHub {
    db: Database,
    keyring: Keyring,
    platforms: Arc<Platforms>,
    running: Arc<Mutex<HashMap<AccountId, Running>>>,
    events: mpsc::Sender<(AccountId, SourceBatch)>,
    held: Held,
    /// One start at a time per account.
    starts: Arc<Mutex<HashMap<AccountId, Arc<tokio::sync::Mutex<()>>>>>,
    retries: Arc<Mutex<HashMap<AccountId, Retry>>>,
    generations: Arc<std::sync::atomic::AtomicU64>,
    /// Listeners that ended before their start was recorded, by generation.
    early_ends: Arc<Mutex<HashMap<u64, Option<String>>>>,
}

/// Why an account cannot be driven right now.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("the account is gone")]
    Gone,
    #[error("another worker drives this account now")]
    NotDriven,
    #[error("{0}")]
    Unusable(String),
    #[error("database: {0}")]
    Store(#[from] relay_store::StoreError),
}

impl AccountHub {
    pub fn new(
        db: Database,
        keyring: Keyring,
        platforms: Arc<Platforms>,
        events: mpsc::Sender<(AccountId, SourceBatch)>,
        held: Held,
    ) -> Self {
        Self {
            db,
            keyring,
            platforms,
            running: Arc::default(),
            events,
            held,
            starts: Arc::default(),
            retries: Arc::default(),
            generations: Arc::default(),
            early_ends: Arc::default(),
        }
    }

    /// Where the platforms are.
    pub fn platforms(&self) -> &Platforms {
        &self.platforms
    }

    fn retries(&self) -> std::sync::MutexGuard<'_, HashMap<AccountId, Retry>> {
        self.retries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether a failed account's pause is over.
    pub fn may_start(&self, account: AccountId) -> bool {
        self.retries()
            .get(&account)
            .and_then(|r| r.not_before)
            .is_none_or(|t| Instant::now() >= t)
    }

    /// The account could not be started, or its listener failed: wait longer each time.
    pub fn start_failed(&self, account: AccountId) {
        let mut retries = self.retries();
        let retry = retries.entry(account).or_default();
        // A failure long after the last one starts the count again.
        if retry
            .not_before
            .is_some_and(|t| t.elapsed() > Duration::from_secs(300))
        {
            retry.failures = 0;
        }
        retry.failures = retry.failures.saturating_add(1);
        let pause = (Duration::from_millis(500) * 2u32.saturating_pow(retry.failures.min(8)))
            .min(MAX_RETRY_PAUSE);
        retry.not_before = Some(Instant::now() + pause);
    }

    fn start_lock(&self, account: AccountId) -> Arc<tokio::sync::Mutex<()>> {
        let mut starts = self.starts.lock().unwrap_or_else(|p| p.into_inner());
        Arc::clone(starts.entry(account).or_default())
    }

    fn running(&self) -> std::sync::MutexGuard<'_, HashMap<AccountId, Running>> {
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The sink of one of `owner`'s accounts: the running one without a database round
    /// trip, or the account is looked up and started.
    pub async fn sink_of(
        &self,
        owner: relay_core::UserId,
        account: AccountId,
    ) -> Result<AnySink, AccountError> {
        if let Some(r) = self.running().get(&account) {
            return Ok(r.sink.clone());
        }
        let account = self.db.account(owner, account).await.map_err(|e| match e {
            relay_store::StoreError::NotFound => AccountError::Gone,
            other => other.into(),
        })?;
        self.sink(&account).await
    }

    /// The account's sink, starting the account if it is not running here yet.
    pub async fn sink(&self, account: &Account) -> Result<AnySink, AccountError> {
        if let Some(r) = self.running().get(&account.id) {
            return Ok(r.sink.clone());
        }
        self.start(account, false).await?;
        self.running()
            .get(&account.id)
            .map(|r| r.sink.clone())
            .ok_or(AccountError::Gone)
    }

    /// The bot client of one of `owner`'s Telegram bot accounts (to fetch files it
    /// received), whether or not the account runs here.
    pub async fn telegram_bot_of(
        &self,
        owner: relay_core::UserId,
        account: AccountId,
    ) -> Result<TelegramBot, AccountError> {
        if let Some(bot) = self
            .running()
            .get(&account)
            .and_then(|r| r.telegram_bot.clone())
        {
            return Ok(bot);
        }
        let account = self.db.account(owner, account).await.map_err(|e| match e {
            relay_store::StoreError::NotFound => AccountError::Gone,
            other => other.into(),
        })?;
        let token = self.secret(&account).await?;
        TelegramBot::new(&token, &self.platforms.telegram_bot_api_url)
            .map_err(AccountError::Unusable)
    }

    /// Tells a running user session's listener the chats its pairs read now; it records
    /// where each new channel stands. False when the account runs no such listener.
    pub fn reading(&self, account: AccountId, chats: Vec<String>) -> bool {
        let running = self.running();
        let Some(follow) = running.get(&account).and_then(|r| r.chats.as_ref()) else {
            return false;
        };
        follow.send_if_modified(|now| {
            let changed = *now != chats;
            *now = chats;
            changed
        });
        true
    }

    /// The kind of a running account.
    pub fn kind_of(&self, account: AccountId) -> Option<AccountKind> {
        self.running().get(&account).map(|r| r.kind)
    }

    pub fn is_listening(&self, account: AccountId) -> bool {
        self.running().get(&account).is_some_and(|r| r.listening)
    }

    /// Starts the account's sink and, with `listen`, its listener: one start at a time per
    /// account, only while this worker holds its partition.
    pub async fn start(&self, account: &Account, listen: bool) -> Result<(), AccountError> {
        let lock = self.start_lock(account.id);
        let _one_at_a_time = lock.lock().await;
        if matches!(
            account.state,
            AccountState::Unauthorized | AccountState::Revoked | AccountState::Disabled
        ) {
            return Err(AccountError::Unusable(format!(
                "the account is {}; its owner must reconnect it",
                account.state
            )));
        }
        if let Some(r) = self.running().get(&account.id)
            && (r.listening || !listen)
        {
            return Ok(());
        }
        if !self.held.drives(&account.id) {
            return Err(AccountError::NotDriven);
        }
        // A sink without a listener is replaced by one with both; what it replaces is
        // stopped, and awaited, first (a user session must not be opened twice).
        if let Some(task) = self.take(account.id) {
            let _ = tokio::time::timeout(REPLACE_WAIT, task).await;
        }
        let shutdown = CancellationToken::new();
        let generation = self
            .generations
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut task = None;
        let mut chats = None;
        let p = &self.platforms;
        let (sink, telegram_bot) = match account.kind {
            AccountKind::DiscordBot => {
                let token = self.secret(account).await?;
                let rest = DiscordRest::new(&p.discord, Some(&token));
                if listen {
                    let listener = DiscordListener::new(ListenerConfig {
                        token: token.clone(),
                        endpoints: p.discord.clone(),
                        fast_identify: p.fast_identify,
                    });
                    // After a restart or a takeover, each source channel catches up from its
                    // committed cursor; one never read yet, from its pair's creation.
                    for start in self.db.discord_channel_starts(account.id).await? {
                        if let Ok(channel) = start.chat_id.parse::<u64>() {
                            let from = start.cursor.unwrap_or_else(|| {
                                relay_discord::snowflake_at(start.watched_since.timestamp_millis())
                            });
                            listener.watch(channel, from);
                        }
                    }
                    task = Some(self.spawn_listener(
                        account.id,
                        generation,
                        shutdown.clone(),
                        move |tx, stop| listener.run(tx, stop),
                    ));
                }
                (AnySink::DiscordBot(relay_discord::BotSink::new(rest)), None)
            }
            AccountKind::DiscordWebhook => {
                let token = self.secret(account).await?;
                let id = account
                    .external_id
                    .parse()
                    .map_err(|_| AccountError::Unusable("the webhook id is not a number".into()))?;
                let rest = DiscordRest::new(&p.discord, None);
                let sink = relay_discord::WebhookSink::new(rest, WebhookTarget { id, token });
                (AnySink::DiscordWebhook(sink), None)
            }
            AccountKind::TelegramBot => {
                let token = self.secret(account).await?;
                let bot = TelegramBot::new(&token, &p.telegram_bot_api_url)
                    .map_err(AccountError::Unusable)?;
                if listen {
                    let (seen, reports) = mpsc::channel(crate::seen_chats::PENDING);
                    crate::seen_chats::record_reports(
                        self.db.clone(),
                        account.id,
                        reports,
                        shutdown.clone(),
                    );
                    let listener =
                        BotListener::new(&bot, Duration::from_secs(25)).recording_chats(seen);
                    task = Some(self.spawn_listener(
                        account.id,
                        generation,
                        shutdown.clone(),
                        move |tx, stop| listener.run(tx, stop),
                    ));
                }
                (
                    AnySink::TelegramBot(relay_telegram::BotSink::new(&bot)),
                    Some(bot),
                )
            }
            AccountKind::TelegramUser => {
                let config = p.telegram_user.as_ref().ok_or_else(|| {
                    AccountError::Unusable(
                        "Telegram user accounts are not enabled (RELAY_TELEGRAM_API_ID/_HASH)"
                            .into(),
                    )
                })?;
                let store = relay_store::PgSessionStore::new(self.db.clone(), self.keyring.clone());
                let session = UserSession::load(Arc::new(store), account.id)
                    .await
                    .map_err(relay_store::StoreError::from)?;
                let connection = Connection::open(config, session);
                let sink = UserSink::new(&connection);
                // The listener owns the connection; without pairs reading from the
                // account it still runs (and keeps the session's update state current).
                let reading = self.db.watched_chats(account.id).await?;
                let (follow, following) = watch::channel(reading.clone());
                chats = Some(follow);
                let listener = UserListener::new(connection)
                    .reading(&reading)
                    .following(following);
                task = Some(self.spawn_listener(
                    account.id,
                    generation,
                    shutdown.clone(),
                    move |tx, stop| listener.run(tx, stop),
                ));
                (AnySink::TelegramUser(sink), None)
            }
        };
        let listening = listen || account.kind == AccountKind::TelegramUser;
        let dialogs = match &sink {
            AnySink::TelegramUser(sink) => Some(sink.clone()),
            _ => None,
        };
        self.record_start(
            account.id,
            Running {
                kind: account.kind,
                generation,
                sink,
                stop: shutdown,
                listening,
                task,
                telegram_bot,
                chats,
            },
        )?;
        tracing::info!(account = %account.id, kind = %account.kind, listening, "account started");
        if let Some(sink) = dialogs {
            // The session's chats, for the API to list (and again at each health check).
            let (db, id) = (self.db.clone(), account.id);
            tokio::spawn(async move { crate::seen_chats::list_dialogs(&db, id, &sink).await });
        }
        if account.state != AccountState::Connected
            && let Err(e) = self
                .db
                .set_account_state(account.id, AccountState::Connected, None, None)
                .await
        {
            tracing::warn!(account = %account.id, error = %e, "could not record the account as connected");
        }
        Ok(())
    }

    /// Records a started account, checked and inserted under one lock with no await
    /// between: a partition given up meanwhile stops what is in `running`, and nothing
    /// slips past it; a listener that already ended is not recorded but paused.
    fn record_start(&self, account: AccountId, started: Running) -> Result<(), AccountError> {
        let mut running = self.running();
        if !self.held.drives(&account) {
            started.stop.cancel();
            return Err(AccountError::NotDriven);
        }
        let ended_early = self
            .early_ends
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&started.generation);
        if let Some(failure) = ended_early {
            drop(running);
            started.stop.cancel();
            self.ended(account, failure);
            return Err(AccountError::Unusable(
                "the listener stopped as soon as it started".into(),
            ));
        }
        running.insert(account, started);
        Ok(())
    }

    /// Runs the listener in its own task and watches it: one that ends or panics while
    /// not asked to stop is taken out, to be started again after a pause. Returns the
    /// watcher, which ends when the listener has.
    fn spawn_listener<F, Fut>(
        &self,
        account: AccountId,
        generation: u64,
        shutdown: CancellationToken,
        run: F,
    ) -> JoinHandle<()>
    where
        F: FnOnce(SourceSender, CancellationToken) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        /// How long a stopped listener's batches still go to the router.
        const DRAIN: Duration = Duration::from_secs(2);
        let (tx, mut rx) = SourceSender::channel(256);
        let events = self.events.clone();
        let stop = shutdown.clone();
        let listener = tokio::spawn(run(tx, shutdown.clone()));
        let hub = self.clone();
        let watcher = tokio::spawn(async move {
            let ended = listener.await;
            if shutdown.is_cancelled() {
                return;
            }
            hub.listener_ended(account, generation, ended.err());
        });
        // Tags each batch with its account on the way to the router. On stop, what the
        // listener handed over is still passed on for a moment; anything left is dropped
        // unacknowledged (its position was not stored, so it is read again).
        tokio::spawn(async move {
            loop {
                let batch = tokio::select! {
                    _ = stop.cancelled() => break,
                    batch = rx.recv() => batch,
                };
                let Some(batch) = batch else { return };
                if events.send((account, batch)).await.is_err() {
                    return;
                }
            }
            let _ = tokio::time::timeout(DRAIN, async {
                while let Some(batch) = rx.recv().await {
                    if events.send((account, batch)).await.is_err() {
                        return;
                    }
                }
            })
            .await;
        });
        watcher
    }

    /// A listener ended on its own (its platform refused it, or it panicked): the account
    /// is taken out here and started again by the ownership loop after a pause.
    fn listener_ended(
        &self,
        account: AccountId,
        generation: u64,
        failure: Option<tokio::task::JoinError>,
    ) {
        let failure = failure.map(crate::supervise::panic_message);
        {
            let mut running = self.running();
            match running.get(&account) {
                Some(r) if r.generation == generation => {
                    if let Some(r) = running.remove(&account) {
                        r.stop.cancel();
                    }
                }
                // Ended before its start was recorded: the start finds it here.
                None => {
                    self.early_ends
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(generation, failure);
                    return;
                }
                Some(_) => return,
            }
        }
        self.ended(account, failure);
    }

    /// The account's listener is gone: wait before starting it again, and say why.
    fn ended(&self, account: AccountId, failure: Option<String>) {
        self.start_failed(account);
        match failure {
            Some(why) => {
                let error = format!("the listener crashed and will be restarted ({why})");
                tracing::error!(%account, %error, "listener failed");
                let db = self.db.clone();
                tokio::spawn(async move {
                    let _ = db
                        .set_account_state(account, AccountState::Reconnecting, None, Some(&error))
                        .await;
                });
            }
            None => {
                tracing::warn!(%account, "the listener stopped on its own; it will be restarted")
            }
        }
    }

    async fn secret(&self, account: &Account) -> Result<String, AccountError> {
        let bytes = self
            .db
            .account_secret(&self.keyring, account.owner_id, account.id)
            .await
            .map_err(|e| match e {
                relay_store::StoreError::NotFound => AccountError::Gone,
                other => other.into(),
            })?;
        String::from_utf8(bytes)
            .map_err(|_| AccountError::Unusable("the stored secret is not text".into()))
    }

    /// Asks the platform whether the account's credentials still work.
    pub async fn check(&self, account: &Account) -> Result<(), SendError> {
        let store = |e: AccountError| SendError::Transient(e.to_string());
        let p = &self.platforms;
        match account.kind {
            AccountKind::DiscordBot => {
                let token = self.secret(account).await.map_err(store)?;
                DiscordRest::new(&p.discord, Some(&token))
                    .current_user()
                    .await
                    .map(drop)
            }
            AccountKind::DiscordWebhook => {
                let token = self.secret(account).await.map_err(store)?;
                let id = account.external_id.parse().unwrap_or_default();
                DiscordRest::new(&p.discord, None)
                    .get_webhook(id, &token)
                    .await
                    .map(drop)
            }
            AccountKind::TelegramBot => {
                let token = self.secret(account).await.map_err(store)?;
                TelegramBot::new(&token, &p.telegram_bot_api_url)
                    .map_err(SendError::Transient)?
                    .me()
                    .await
                    .map(drop)
            }
            AccountKind::TelegramUser => match self.sink(account).await.map_err(store)? {
                AnySink::TelegramUser(sink) => {
                    sink.check().await?;
                    crate::seen_chats::list_dialogs(&self.db, account.id, &sink).await;
                    Ok(())
                }
                _ => Ok(()),
            },
        }
    }

    /// Stops an account here (its partition moved, or it was deleted).
    pub fn stop(&self, account: AccountId) {
        drop(self.take(account));
    }

    /// Stops an account and hands back its listener's task, to await its end.
    fn take(&self, account: AccountId) -> Option<JoinHandle<()>> {
        let r = self.running().remove(&account)?;
        r.stop.cancel();
        tracing::info!(%account, kind = %r.kind, "account stopped");
        r.task
    }

    /// Stops every account of a partition this worker no longer holds.
    pub fn stop_partition(&self, partition: u16) {
        for id in self.running_ids() {
            if self.held.partition_of(&id) == partition {
                self.stop(id);
            }
        }
    }

    pub fn running_ids(&self) -> Vec<AccountId> {
        self.running().keys().copied().collect()
    }

    pub fn stop_all(&self) {
        for id in self.running_ids() {
            self.stop(id);
        }
    }
}

#[cfg(test)]
#[path = "accounts_tests.rs"]
mod tests;
