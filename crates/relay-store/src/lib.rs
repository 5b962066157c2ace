//! PostgreSQL: connection, database creation, migrations and (in later modules) the
//! tenant-scoped queries. Also encryption at rest for the secrets stored here.

pub mod accounts;
pub mod admin;
pub mod crypto;
pub mod db;
pub mod deleted_messages;
pub mod echoes;
pub mod fan_out;
pub mod media;
pub mod outbox;
pub mod pairs;
pub mod payments;
pub mod plans;
pub mod positions;
pub mod refresh;
pub mod route_changes;
pub mod seen_chats;
pub mod session_store;
pub mod telegram;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod users;

pub use accounts::{Account, NewAccount};
pub use db::{Database, DbConfig, StoreError};
pub use echoes::{EchoFinding, EchoProbe};
pub use fan_out::{SourceMessage, Through, fan_out};
pub use outbox::{
    ClaimedDelivery, DeliveryAction, ErrorEntry, FailedDelivery, NewDelivery, QueuedDelivery,
    RowDecision,
};
pub use pairs::{
    Destination, NewDestination, NewPair, Pair, PairChanges, PlanLimits, Route, RouteDestination,
};
pub use refresh::{RevokeReason, Rotation};
pub use relay_core::telegram_session::{SessionCursor, StoredPeer, StoredSession};
pub use route_changes::{RouteChange, RouteChanges};
pub use session_store::PgSessionStore;
pub use telegram::{LoginGuard, LoginStep, TelegramLogin};
pub use users::{User, UserCredentials};

#[cfg(test)]
mod copies_tests;
#[cfg(test)]
mod decisions_tests;
#[cfg(test)]
mod echoes_tests;
#[cfg(test)]
mod media_tests;
#[cfg(test)]
mod outbox_tests;
#[cfg(test)]
mod pairs_tests;
#[cfg(test)]
mod positions_tests;
#[cfg(test)]
mod refresh_tests;
#[cfg(test)]
mod route_changes_tests;
#[cfg(test)]
mod schema_tests;
#[cfg(test)]
mod seen_chats_tests;
#[cfg(test)]
mod telegram_tests;
