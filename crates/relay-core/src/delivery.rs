//! Deliveries as more than one crate sees them: what a delivery does at its destination
//! (`DeliveryAction`) and what the queue needs to carry one (`QueuedDelivery`). The store
//! writes and reads them, the queue turns them into jobs, the worker sends them.

use crate::kinds::UnknownValue;
use crate::{AccountId, DestinationId, Priority};
use std::fmt;
use std::str::FromStr;

/// What a delivery does at the destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryAction {
    Create,
    Edit,
    Delete,
}

impl DeliveryAction {
    pub fn as_str(&self) -> &'static str {
        match self {
            DeliveryAction::Create => "create",
            DeliveryAction::Edit => "edit",
            DeliveryAction::Delete => "delete",
        }
    }
}

impl fmt::Display for DeliveryAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DeliveryAction {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "create" => Ok(DeliveryAction::Create),
            "edit" => Ok(DeliveryAction::Edit),
            "delete" => Ok(DeliveryAction::Delete),
            _ => Err(UnknownValue {
                what: "delivery action",
                value: s.to_owned(),
            }),
        }
    }
}

/// What the queue needs to carry a delivery: its id, partition key and priority.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedDelivery {
    pub id: i64,
    pub sender_account_id: AccountId,
    pub destination_id: DestinationId,
    pub priority: Priority,
    pub attempts: i32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_read_back_their_text_form() {
        for action in [
            DeliveryAction::Create,
            DeliveryAction::Edit,
            DeliveryAction::Delete,
        ] {
            assert_eq!(action.as_str().parse::<DeliveryAction>(), Ok(action));
            assert_eq!(action.to_string(), action.as_str());
        }
        assert_eq!(
            "resend".parse::<DeliveryAction>(),
            Err(UnknownValue {
                what: "delivery action",
                value: "resend".into()
            })
        );
    }
}
