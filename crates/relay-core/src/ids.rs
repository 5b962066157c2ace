//! Typed ids: a `UserId` can never be passed where a `PairId` is expected.
//!
//! Every id is a UUID in storage and on the wire; the newtype only exists at compile time.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh random id.
            pub fn new() -> Self {
                Self(Uuid::new_v4())
            }

            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

typed_id!(
    /// A customer or admin.
    UserId
);
typed_id!(
    /// A family of rotating refresh tokens (one per login).
    RefreshFamilyId
);
typed_id!(
    /// A connected Telegram or Discord account (user session, bot or webhook).
    AccountId
);
typed_id!(
    /// A forwarding pair: one source, one or more destinations.
    PairId
);
typed_id!(
    /// One destination of a forwarding pair.
    DestinationId
);
typed_id!(
    /// A subscription of a user to a plan.
    SubscriptionId
);
typed_id!(
    /// A payment at PayPal or NowPayments.
    PaymentId
);
typed_id!(
    /// A Telegram user login in progress (phone, then code, then maybe a password).
    LoginId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_text_and_json() {
        let id = PairId::new();
        let parsed: PairId = id.to_string().parse().expect("parse");
        assert_eq!(parsed, id);
        let json = serde_json::to_string(&id).expect("json");
        assert_eq!(json, format!("\"{id}\""));
        assert!("not-a-uuid".parse::<UserId>().is_err());
    }
}
