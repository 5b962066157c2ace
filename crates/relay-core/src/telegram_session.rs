//! Where a Telegram user session is kept between runs: the plain types of a stored session
//! and the [`SessionStore`] interface the Telegram adapter writes through. relay-store
//! implements it over PostgreSQL (sealing the auth keys with its key ring); the adapter
//! knows only this interface, not the database.

use crate::AccountId;
use std::future::Future;
use std::pin::Pin;

/// A boxed future, so that [`SessionStore`] can be used as a trait object.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where the update stream stands (the common box; channels are kept apart).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionCursor {
    pub pts: i32,
    pub qts: i32,
    pub date: i32,
    pub seq: i32,
}

/// A peer the session has met, keyed by its Bot API dialog id (users positive, small groups
/// negative, channels below -10^12), so ids of different kinds never collide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPeer {
    pub dialog_id: i64,
    /// One of `user`, `bot`, `chat`, `channel`, `megagroup`, `gigagroup`.
    pub kind: String,
    pub access_hash: Option<i64>,
    pub is_self: bool,
}

/// Everything grammers needs to resume a session.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct StoredSession {
    pub home_dc: i32,
    /// The serialised DC options and auth keys: in clear only in memory, sealed by the
    /// store at rest.
    pub data: Vec<u8>,
    pub cursor: Option<SessionCursor>,
    /// (channel id, pts) per channel.
    pub channels: Vec<(i64, i32)>,
    pub peers: Vec<StoredPeer>,
}

impl std::fmt::Debug for StoredSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredSession")
            .field("home_dc", &self.home_dc)
            .field("data", &"[sealed]")
            .field("cursor", &self.cursor)
            .field("channels", &self.channels.len())
            .field("peers", &self.peers.len())
            .finish()
    }
}

/// Why the store could not answer.
#[derive(Debug, thiserror::Error)]
pub enum SessionStoreError {
    /// The account has no session.
    #[error("no stored session")]
    NotFound,
    /// What is stored cannot be read back (a bug, a manual edit or a lost key).
    #[error("corrupt session: {0}")]
    Corrupt(String),
    /// The storage itself failed; the implementation's own error, kept for its caller.
    #[error("session storage: {0}")]
    Storage(Box<dyn std::error::Error + Send + Sync>),
}

/// The storage a Telegram user session writes through to, one account at a time.
pub trait SessionStore: Send + Sync + 'static {
    /// The account's session, its keys opened; [`SessionStoreError::NotFound`] without one.
    fn load(&self, account: AccountId) -> BoxFuture<'_, Result<StoredSession, SessionStoreError>>;

    /// Replaces the DC options and auth keys (`data`, sealed by the store) and the home DC.
    fn save_keys<'a>(
        &'a self,
        account: AccountId,
        home_dc: i32,
        data: &'a [u8],
    ) -> BoxFuture<'a, Result<(), SessionStoreError>>;

    /// Adds or updates peers (an access hash already known is kept when a peer has none).
    fn save_peers<'a>(
        &'a self,
        account: AccountId,
        peers: &'a [StoredPeer],
    ) -> BoxFuture<'a, Result<(), SessionStoreError>>;

    /// Records the common update state only if the session has none yet; `true` if it did.
    fn init_cursor(
        &self,
        account: AccountId,
        cursor: SessionCursor,
    ) -> BoxFuture<'_, Result<bool, SessionStoreError>>;

    /// Records a channel's pts only if the session has none for it yet; `true` if it did.
    fn init_channel_pts(
        &self,
        account: AccountId,
        channel_id: i64,
        pts: i32,
    ) -> BoxFuture<'_, Result<bool, SessionStoreError>>;
}
