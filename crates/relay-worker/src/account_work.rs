//! Slow account work — starting an account (a gateway, a long poll, an MTProto
//! connection) and checking its credentials with the platform — on a bounded pool with a
//! timeout for each, off the ownership loop: a platform that hangs delays only its own
//! accounts. One piece of work per account at a time.

use crate::accounts::AccountHub;
use relay_core::messages::SendError;
use relay_core::{AccountId, AccountState};
use relay_store::{Account, Database};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;

/// How many starts and checks run at once.
pub const POOL: usize = 16;
/// How long one start or check may take.
pub const TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Clone)]
pub struct AccountWork {
    permits: Arc<Semaphore>,
    busy: Arc<Mutex<HashSet<AccountId>>>,
    timeout: Duration,
}

impl Default for AccountWork {
    fn default() -> Self {
        Self::new(POOL, TIMEOUT)
    }
}

/// Frees the account's slot when the work ends, however it ends.
struct Busy {
    busy: Arc<Mutex<HashSet<AccountId>>>,
    account: AccountId,
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.busy
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.account);
    }
}

impl AccountWork {
    pub fn new(pool: usize, timeout: Duration) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(pool.max(1))),
            busy: Arc::default(),
            timeout,
        }
    }

    /// Marks the account busy; `None` when work for it is already queued or running.
    fn claim(&self, account: AccountId) -> Option<Busy> {
        self.busy
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(account)
            .then(|| Busy {
                busy: Arc::clone(&self.busy),
                account,
            })
    }

    /// Whether work for this account is queued or running.
    pub fn is_busy(&self, account: AccountId) -> bool {
        self.busy
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&account)
    }

    /// Runs `work` on the pool unless work for the account is already queued or running;
    /// the account's slot is freed when it ends, however it ends.
    fn spawn<F>(&self, account: AccountId, work: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let Some(busy) = self.claim(account) else {
            return;
        };
        let permits = Arc::clone(&self.permits);
        tokio::spawn(async move {
            let _busy = busy;
            let Ok(_permit) = permits.acquire().await else {
                return;
            };
            work.await;
        });
    }

    /// Starts the account with its listener, on the pool.
    pub fn start(&self, hub: &AccountHub, account: Account) {
        let hub = hub.clone();
        let timeout = self.timeout;
        self.spawn(account.id, async move {
            match tokio::time::timeout(timeout, hub.start(&account, true)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    hub.start_failed(account.id);
                    tracing::warn!(account = %account.id, error = %e, "cannot start the account");
                }
                Err(_) => {
                    hub.start_failed(account.id);
                    tracing::warn!(account = %account.id, ?timeout, "starting the account timed out");
                }
            }
        });
    }

    /// Checks the account with its platform, on the pool, and records the state:
    /// connected, flood_wait until T, reconnecting (with the error), or unauthorized (the
    /// account stops here and is reported; nothing retries it until its owner reconnects).
    pub fn check(&self, hub: &AccountHub, db: &Database, account: Account) {
        let hub = hub.clone();
        let db = db.clone();
        let timeout = self.timeout;
        self.spawn(account.id, async move {
            let checked = tokio::time::timeout(timeout, hub.check(&account))
                .await
                .unwrap_or_else(|_| {
                    Err(SendError::Transient(format!(
                        "the health check did not answer within {timeout:?}"
                    )))
                });
            let (state, until, error) = match checked {
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
                    hub.stop(account.id);
                    (AccountState::Unauthorized, None, Some(why))
                }
                Err(other) => (AccountState::Reconnecting, None, Some(other.to_string())),
            };
            if (state != account.state || error.is_some())
                && let Err(e) = db
                    .set_account_state(account.id, state, until, error.as_deref())
                    .await
            {
                tracing::warn!(account = %account.id, error = %e, "could not record the account's health");
            }
        });
    }
}
