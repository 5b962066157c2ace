//! Fan-out: one event of a source message, through one pair, becomes one outbox row per
//! destination (part 0), in the destinations' order. The worker's router does it for what
//! the listeners read, the API for a manual forward; both then write the rows and enqueue
//! their jobs (`JobQueue::enqueue_deliveries`).

use crate::outbox::{NewDelivery, RowDecision};
use chrono::{DateTime, Utc};
use relay_core::delivery::DeliveryAction;
use relay_core::{AccountId, DestinationId, PairId, Priority, UserId};

/// The pair an event goes through: whose it is, and its owner's queue priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Through {
    pub owner_id: UserId,
    pub pair_id: PairId,
    pub priority: Priority,
}

/// An event of a source message, as each of its rows records it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SourceMessage<'a> {
    pub chat_id: &'a str,
    pub message_id: &'a str,
    pub action: DeliveryAction,
    /// 0 for create and delete; the edit's sequence for edits.
    pub revision: i64,
    /// The `DeliveryPayload`, serialized.
    pub payload: &'a serde_json::Value,
    pub at: DateTime<Utc>,
}

/// The rows of `message` through `pair`: one per destination, given as (destination,
/// sending account), in that order.
pub fn fan_out<'a>(
    pair: Through,
    destinations: impl IntoIterator<Item = (DestinationId, AccountId)> + 'a,
    message: &'a SourceMessage<'a>,
) -> impl Iterator<Item = NewDelivery> + 'a {
    destinations
        .into_iter()
        .map(move |(destination_id, sender_account_id)| NewDelivery {
            owner_id: pair.owner_id,
            pair_id: pair.pair_id,
            destination_id,
            sender_account_id,
            source_chat_id: message.chat_id.to_owned(),
            source_message_id: message.message_id.to_owned(),
            action: message.action,
            revision: message.revision,
            part: 0,
            priority: pair.priority,
            payload: message.payload.clone(),
            source_at: message.at,
            decision: RowDecision::Send,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_destination_gets_one_row_in_order() {
        let pair = Through {
            owner_id: UserId::new(),
            pair_id: PairId::new(),
            priority: Priority::Medium,
        };
        let payload = serde_json::json!({ "text": "hello" });
        let message = SourceMessage {
            chat_id: "-1001234567890",
            message_id: "42",
            action: DeliveryAction::Edit,
            revision: 7,
            payload: &payload,
            at: Utc::now(),
        };
        let destinations = [
            (DestinationId::new(), AccountId::new()),
            (DestinationId::new(), AccountId::new()),
        ];
        let rows: Vec<NewDelivery> = fan_out(pair, destinations, &message).collect();
        let expected: Vec<NewDelivery> = destinations
            .iter()
            .map(|&(destination_id, sender_account_id)| NewDelivery {
                owner_id: pair.owner_id,
                pair_id: pair.pair_id,
                destination_id,
                sender_account_id,
                source_chat_id: "-1001234567890".into(),
                source_message_id: "42".into(),
                action: DeliveryAction::Edit,
                revision: 7,
                part: 0,
                priority: Priority::Medium,
                payload: payload.clone(),
                source_at: message.at,
                decision: RowDecision::Send,
            })
            .collect();
        assert_eq!(rows, expected);
    }

    #[test]
    fn a_pair_without_destinations_makes_no_rows() {
        let pair = Through {
            owner_id: UserId::new(),
            pair_id: PairId::new(),
            priority: Priority::Low,
        };
        let payload = serde_json::Value::Null;
        let message = SourceMessage {
            chat_id: "1",
            message_id: "1",
            action: DeliveryAction::Create,
            revision: 0,
            payload: &payload,
            at: Utc::now(),
        };
        assert_eq!(fan_out(pair, [], &message).count(), 0);
    }
}
