//! The platform accounts a worker drives: a destination (sink) for every account whose
//! partition it owns, and a source (listener) for those of them that pairs read from.
//! A Telegram user session is one grammers connection shared by its listener and its sink,
//! and only the partition's owner opens it (two processes on one session get it revoked).

use crate::Platforms;
use relay_core::messages::{MessageSink, OutgoingMessage, SendError, Sent};
use relay_core::source::{SourceBatch, SourceSender};
use relay_core::{AccountId, AccountKind, AccountState};
use relay_discord::{DiscordListener, DiscordRest, ListenerConfig, WebhookTarget};
use relay_store::crypto::Keyring;
use relay_store::{Account, Database};
use relay_telegram::user::{Connection, PgSession, UserListener, UserSink};
use relay_telegram::{BotListener, TelegramBot};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// A destination of any platform (the sink traits use `impl Future`, so no trait objects).
#[derive(Clone)]
pub enum AnySink {
    DiscordBot(relay_discord::BotSink),
    DiscordWebhook(relay_discord::WebhookSink),
    TelegramBot(relay_telegram::BotSink),
    TelegramUser(UserSink),
}

impl AnySink {
    pub async fn send(
        &self,
        chat: &str,
        message: &OutgoingMessage,
        key: &str,
    ) -> Result<Sent, SendError> {
        match self {
            AnySink::DiscordBot(s) => s.send(chat, message, key).await,
            AnySink::DiscordWebhook(s) => s.send(chat, message, key).await,
            AnySink::TelegramBot(s) => s.send(chat, message, key).await,
            AnySink::TelegramUser(s) => s.send(chat, message, key).await,
        }
    }

    pub async fn edit(
        &self,
        chat: &str,
        id: &str,
        message: &OutgoingMessage,
    ) -> Result<(), SendError> {
        match self {
            AnySink::DiscordBot(s) => s.edit(chat, id, message).await,
            AnySink::DiscordWebhook(s) => s.edit(chat, id, message).await,
            AnySink::TelegramBot(s) => s.edit(chat, id, message).await,
            AnySink::TelegramUser(s) => s.edit(chat, id, message).await,
        }
    }

    pub async fn delete(&self, chat: &str, id: &str) -> Result<(), SendError> {
        match self {
            AnySink::DiscordBot(s) => s.delete(chat, id).await,
            AnySink::DiscordWebhook(s) => s.delete(chat, id).await,
            AnySink::TelegramBot(s) => s.delete(chat, id).await,
            AnySink::TelegramUser(s) => s.delete(chat, id).await,
        }
    }
}

/// One running account: its sink, and its listener while pairs read from it.
struct Running {
    kind: AccountKind,
    sink: AnySink,
    /// Stops the listener (and, for a user session, the connection with it).
    listener: Option<CancellationToken>,
    telegram_bot: Option<TelegramBot>,
}

/// The accounts this worker drives, by id.
#[derive(Clone)]
pub struct AccountHub {
    db: Database,
    keyring: Keyring,
    platforms: Arc<Platforms>,
    running: Arc<Mutex<HashMap<AccountId, Running>>>,
    events: mpsc::Sender<(AccountId, SourceBatch)>,
}

/// Why an account cannot be driven right now.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("the account is gone")]
    Gone,
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
    ) -> Self {
        Self {
            db,
            keyring,
            platforms,
            running: Arc::default(),
            events,
        }
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

    pub fn is_listening(&self, account: AccountId) -> bool {
        self.running()
            .get(&account)
            .is_some_and(|r| r.listener.is_some())
    }

    /// Starts the account's sink and, with `listen`, its listener.
    pub async fn start(&self, account: &Account, listen: bool) -> Result<(), AccountError> {
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
            && (r.listener.is_some() || !listen)
        {
            return Ok(());
        }
        // A sink without a listener is replaced by one with both (a user session must
        // not be opened twice).
        self.stop(account.id);
        let shutdown = CancellationToken::new();
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
                    self.spawn_listener(account.id, shutdown.clone(), move |tx, stop| {
                        listener.run(tx, stop)
                    });
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
                    let listener = BotListener::new(&bot, Duration::from_secs(25));
                    self.spawn_listener(account.id, shutdown.clone(), move |tx, stop| {
                        listener.run(tx, stop)
                    });
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
                let session = PgSession::load(&self.db, &self.keyring, account.id).await?;
                let connection = Connection::open(config, session);
                let sink = UserSink::new(&connection);
                // The listener owns the connection; without pairs reading from the
                // account it still runs (and keeps the session's update state current).
                let reading = self.db.watched_chats(account.id).await?;
                let listener = UserListener::new(connection).reading(&reading);
                self.spawn_listener(account.id, shutdown.clone(), move |tx, stop| {
                    listener.run(tx, stop)
                });
                (AnySink::TelegramUser(sink), None)
            }
        };
        let listening = listen || account.kind == AccountKind::TelegramUser;
        if account.state != AccountState::Connected
            && let Err(e) = self
                .db
                .set_account_state(account.id, AccountState::Connected, None, None)
                .await
        {
            tracing::warn!(account = %account.id, error = %e, "could not record the account as connected");
        }
        self.running().insert(
            account.id,
            Running {
                kind: account.kind,
                sink,
                listener: listening.then_some(shutdown),
                telegram_bot,
            },
        );
        tracing::info!(account = %account.id, kind = %account.kind, listening, "account started");
        Ok(())
    }

    fn spawn_listener<F, Fut>(&self, account: AccountId, shutdown: CancellationToken, run: F)
    where
        F: FnOnce(SourceSender, CancellationToken) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        /// How long a stopped listener's batches still go to the router.
        const DRAIN: Duration = Duration::from_secs(2);
        let (tx, mut rx) = SourceSender::channel(256);
        let events = self.events.clone();
        let stop = shutdown.clone();
        tokio::spawn(run(tx, shutdown));
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
                AnySink::TelegramUser(sink) => sink.check().await,
                _ => Ok(()),
            },
        }
    }

    /// Stops an account here (its partition moved, or it was deleted).
    pub fn stop(&self, account: AccountId) {
        if let Some(r) = self.running().remove(&account) {
            if let Some(listener) = r.listener {
                listener.cancel();
            }
            tracing::info!(%account, kind = %r.kind, "account stopped");
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
