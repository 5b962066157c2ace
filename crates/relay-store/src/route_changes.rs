//! Route changes as they commit. A trigger on the pairs, their destinations, users and
//! subscriptions (migration 11) bumps `route_version` and notifies `relay_routes` with the
//! source account inside the changing transaction, so a worker hears of a new, edited,
//! paused or resumed pair the moment it is committed, whichever code path made it.

use crate::{Database, StoreError};
use relay_core::AccountId;
use sqlx::postgres::{PgListener, PgPoolOptions};

/// The notification channel the triggers use.
const CHANNEL: &str = "relay_routes";

/// What a worker hears.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteChange {
    /// What this source account forwards changed.
    Account(AccountId),
    /// The connection was lost and is back: anything may have changed meanwhile.
    Missed,
}

/// A dedicated connection listening for route changes.
pub struct RouteChanges {
    listener: PgListener,
}

impl RouteChanges {
    /// The next change; `Missed` after a reconnect. An error means the connection could
    /// not be re-established (yet): wait and call again.
    pub async fn next(&mut self) -> Result<RouteChange, StoreError> {
        loop {
            let Some(notification) = self.listener.try_recv().await? else {
                return Ok(RouteChange::Missed);
            };
            // A payload that is not an account id is not ours to act on.
            if let Ok(id) = notification.payload().parse::<uuid::Uuid>() {
                return Ok(RouteChange::Account(id.into()));
            }
        }
    }
}

impl Database {
    /// Starts listening for route changes, on a connection of its own outside the pool
    /// (closing the pool never waits for it, and it takes no connection from the work).
    pub async fn listen_route_changes(&self) -> Result<RouteChanges, StoreError> {
        let options = (*self.pool().connect_options()).clone();
        let own = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(std::time::Duration::from_secs(5))
            .connect_lazy_with(options);
        let mut listener = PgListener::connect_with(&own).await?;
        listener.listen(CHANNEL).await?;
        Ok(RouteChanges { listener })
    }

    /// Grows with every committed route change: cached routes read under an older version
    /// are stale.
    pub async fn route_version(&self) -> Result<i64, StoreError> {
        let v: i64 = sqlx::query_scalar("SELECT v FROM route_version")
            .fetch_one(self.pool())
            .await?;
        Ok(v)
    }
}
