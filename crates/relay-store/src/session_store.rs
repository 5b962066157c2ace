//! The Telegram adapter's [`SessionStore`] over PostgreSQL: the session rows of
//! `telegram.rs` and the positions of `positions.rs`, with the auth keys sealed and opened
//! here with the key ring, so they leave this crate in clear only into the session in memory.

use crate::crypto::Keyring;
use crate::{Database, StoreError};
use relay_core::AccountId;
use relay_core::telegram_session::{
    BoxFuture, SessionCursor, SessionStore, SessionStoreError, StoredPeer, StoredSession,
};

/// Telegram user sessions in PostgreSQL, sealed with `keyring`.
#[derive(Clone)]
pub struct PgSessionStore {
    db: Database,
    keyring: Keyring,
}

impl PgSessionStore {
    pub fn new(db: Database, keyring: Keyring) -> Self {
        Self { db, keyring }
    }
}

impl std::fmt::Debug for PgSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgSessionStore").finish_non_exhaustive()
    }
}

impl From<StoreError> for SessionStoreError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => SessionStoreError::NotFound,
            StoreError::Corrupt(what) => SessionStoreError::Corrupt(what),
            other => SessionStoreError::Storage(Box::new(other)),
        }
    }
}

impl From<SessionStoreError> for StoreError {
    /// Back to the store's own error, as it was before it crossed the interface.
    fn from(err: SessionStoreError) -> Self {
        match err {
            SessionStoreError::NotFound => StoreError::NotFound,
            SessionStoreError::Corrupt(what) => StoreError::Corrupt(what),
            SessionStoreError::Storage(inner) => match inner.downcast::<StoreError>() {
                Ok(store) => *store,
                Err(other) => StoreError::Corrupt(other.to_string()),
            },
        }
    }
}

impl SessionStore for PgSessionStore {
    fn load(&self, account: AccountId) -> BoxFuture<'_, Result<StoredSession, SessionStoreError>> {
        Box::pin(async move { Ok(self.db.telegram_session(&self.keyring, account).await?) })
    }

    fn save_keys<'a>(
        &'a self,
        account: AccountId,
        home_dc: i32,
        data: &'a [u8],
    ) -> BoxFuture<'a, Result<(), SessionStoreError>> {
        Box::pin(async move {
            Ok(self
                .db
                .save_telegram_session_data(&self.keyring, account, home_dc, data)
                .await?)
        })
    }

    fn save_peers<'a>(
        &'a self,
        account: AccountId,
        peers: &'a [StoredPeer],
    ) -> BoxFuture<'a, Result<(), SessionStoreError>> {
        Box::pin(async move { Ok(self.db.save_telegram_peers(account, peers).await?) })
    }

    fn init_cursor(
        &self,
        account: AccountId,
        cursor: SessionCursor,
    ) -> BoxFuture<'_, Result<bool, SessionStoreError>> {
        Box::pin(async move { Ok(self.db.init_telegram_cursor(account, cursor).await?) })
    }

    fn init_channel_pts(
        &self,
        account: AccountId,
        channel_id: i64,
        pts: i32,
    ) -> BoxFuture<'_, Result<bool, SessionStoreError>> {
        Box::pin(async move {
            Ok(self
                .db
                .init_telegram_channel_pts(account, channel_id, pts)
                .await?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_errors_cross_the_interface_and_come_back_whole() {
        let back = |e: StoreError| StoreError::from(SessionStoreError::from(e));
        assert!(matches!(back(StoreError::NotFound), StoreError::NotFound));
        assert!(matches!(back(StoreError::corrupt("x")), StoreError::Corrupt(w) if w == "x"));
        assert!(matches!(
            back(StoreError::Duplicate("name")),
            StoreError::Duplicate("name")
        ));
    }
}
