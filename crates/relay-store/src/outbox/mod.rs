//! The outbox: one `deliveries` row per destination part of a source message, written
//! before its job is enqueued (Postgres is the source of truth, Redis the transport).
//!
//! A worker claims a row with a fencing token (`claim_delivery`), and only that token can
//! finish it (`complete_delivery`, `retry_delivery`, `kill_delivery`): a worker whose claim
//! lapsed and was taken over cannot overwrite the newer outcome. The sweeper
//! (`sweep_deliveries`) hands back rows that are due and not in flight, and claims that
//! lapsed, so a lost job loses no message.
//!
//! "In flight" is a pending row with a claim (`in_flight_until` set), not a state of its
//! own: a claim then changes no indexed column and PostgreSQL updates the row in place
//! (HOT), which is what keeps the hot path cheap (migration 09). Only finishing a delivery
//! changes its state.
//!
//! Here: the types. `insert` writes rows, `claim` and `complete` serve a partition's lanes,
//! `sweep` finds rows whose job may be lost, `history` reads back what happened, `copies`
//! keeps the parts of a long text in the message map.

use crate::StoreError;
use chrono::{DateTime, Utc};
pub use relay_core::delivery::{DeliveryAction, QueuedDelivery};
use relay_core::{AccountId, AccountKind, DestinationId, PairId, Priority, Severity, UserId};
use std::time::Duration;
use uuid::Uuid;

mod claim;
mod complete;
mod copies;
mod history;
mod insert;
mod sweep;

pub use copies::MessageCopy;
pub(crate) use insert::insert_deliveries_on;

/// A delivery to write. The idempotency key is (pair, destination, source chat, source
/// message, action, revision, part): writing the same key again is a no-op.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDelivery {
    pub owner_id: UserId,
    pub pair_id: PairId,
    pub destination_id: DestinationId,
    pub sender_account_id: AccountId,
    pub source_chat_id: String,
    pub source_message_id: String,
    pub action: DeliveryAction,
    /// 0 for create and delete; the edit's sequence for edits.
    pub revision: i64,
    pub part: i16,
    pub priority: Priority,
    pub payload: serde_json::Value,
    pub source_at: DateTime<Utc>,
    /// What the pair's rules decided for this row (sent at once unless they held or
    /// filtered it).
    pub decision: RowDecision,
}

/// What the rules decided for a row.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum RowDecision {
    /// Queued now.
    #[default]
    Send,
    /// Written as skipped: this rule (`filters[2]`, `destination.filters[0]`) stopped it.
    Filtered { rule: String },
    /// Pending until `until` (the sweeper queues it then), for `reason` (`rules.delay`,
    /// `paused`, `quota`).
    Held {
        until: DateTime<Utc>,
        reason: String,
    },
}

impl RowDecision {
    /// Held with no time of its own, until something releases it (a holding pause's
    /// resume, room in the daily quota): due at the end of the calendar.
    pub fn held_until_released(reason: &str) -> Self {
        RowDecision::Held {
            until: DateTime::<Utc>::from_timestamp(253_402_300_799, 0)
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
            reason: reason.into(),
        }
    }
}

/// A delivery taken for sending, with what sending needs.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedDelivery {
    pub id: i64,
    pub owner_id: UserId,
    pub pair_id: PairId,
    pub destination_id: DestinationId,
    pub sender_account_id: AccountId,
    pub account_kind: AccountKind,
    /// The destination chat; `None` for a Discord webhook.
    pub dest_chat_id: Option<String>,
    pub source_chat_id: String,
    pub source_message_id: String,
    pub action: DeliveryAction,
    pub part: i16,
    pub payload: serde_json::Value,
    /// Including this attempt.
    pub attempts: i32,
    /// Whether the destination shows a bold author line (a pair destination option).
    pub show_author: bool,
}

/// A sent delivery to mark done: under which claim, and where it landed (an empty
/// message id records no copy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Completed<'a> {
    pub id: i64,
    pub token: i64,
    pub dest_chat_id: &'a str,
    pub dest_message_id: &'a str,
}

/// A delivery that was given up on, as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedDelivery {
    pub id: i64,
    pub pair_id: PairId,
    pub destination_id: DestinationId,
    pub source_chat_id: String,
    pub source_message_id: String,
    pub action: DeliveryAction,
    pub attempts: i32,
    pub last_error: Option<String>,
    /// When it was given up.
    pub updated_at: DateTime<Utc>,
}

/// One entry of a user's error log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorEntry {
    pub id: i64,
    pub severity: Severity,
    pub component: String,
    pub code: String,
    pub message: String,
    pub pair_id: Option<PairId>,
    pub account_id: Option<AccountId>,
    pub delivery_id: Option<i64>,
    pub created_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct QueuedRow {
    id: i64,
    sender_account_id: Uuid,
    destination_id: Uuid,
    priority: String,
    attempts: i32,
}

impl TryFrom<QueuedRow> for QueuedDelivery {
    type Error = StoreError;
    fn try_from(r: QueuedRow) -> Result<Self, StoreError> {
        Ok(QueuedDelivery {
            id: r.id,
            sender_account_id: r.sender_account_id.into(),
            destination_id: r.destination_id.into(),
            priority: r.priority.parse().map_err(StoreError::corrupt)?,
            attempts: r.attempts,
        })
    }
}

const QUEUED_COLUMNS: &str = "id, sender_account_id, destination_id, priority, attempts";

/// Whole microseconds, as PostgreSQL intervals count them.
fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}
