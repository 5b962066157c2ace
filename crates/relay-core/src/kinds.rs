//! Closed sets of kinds and states. Their text forms are the values stored in PostgreSQL
//! (each column has a CHECK constraint listing exactly these) and shown in the API.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The text form of a value was not one of the known ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} '{value}'")]
pub struct UnknownValue {
    pub what: &'static str,
    pub value: String,
}

macro_rules! text_enum {
    ($(#[$doc:meta])* $name:ident, $what:literal { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $(#[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(&self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownValue { what: $what, value: s.to_owned() }),
                }
            }
        }
    };
}

text_enum!(
    /// What a user may do: admins manage other users behind the IP allowlist.
    Role, "role" { User => "user", Admin => "admin" }
);

text_enum!(
    /// Whether a user may sign in.
    UserStatus, "user status" { Active => "active", Banned => "banned" }
);

text_enum!(
    /// The subscription plans; the plan decides limits, features and queue priority.
    PlanId, "plan" { Free => "free", Pro => "pro", Elite => "elite" }
);

text_enum!(
    /// The kinds of platform account a customer can connect.
    AccountKind, "account kind" {
        TelegramUser => "telegram_user",
        TelegramBot => "telegram_bot",
        DiscordBot => "discord_bot",
        DiscordWebhook => "discord_webhook",
    }
);

text_enum!(
    /// The connection state of a platform account, as health checks last saw it.
    AccountState, "account state" {
        Pending => "pending",
        Connected => "connected",
        Reconnecting => "reconnecting",
        FloodWait => "flood_wait",
        Unauthorized => "unauthorized",
        Revoked => "revoked",
        Disabled => "disabled",
    }
);

text_enum!(
    /// Where one delivery (one destination part of one source message) stands in the outbox.
    DeliveryState, "delivery state" {
        Pending => "pending",
        InFlight => "in_flight",
        Done => "done",
        Skipped => "skipped",
        Dead => "dead",
    }
);

text_enum!(
    /// Queue priority: Elite and system health work high, Pro medium, Free and bulk low.
    Priority, "priority" { High => "high", Medium => "medium", Low => "low" }
);

text_enum!(
    /// How serious an entry in the error log is.
    Severity, "severity" {
        Info => "info",
        Warning => "warning",
        Error => "error",
        Critical => "critical",
    }
);

impl PlanId {
    /// The queue priority a plan's deliveries are served with.
    pub fn priority(&self) -> Priority {
        match self {
            PlanId::Elite => Priority::High,
            PlanId::Pro => Priority::Medium,
            PlanId::Free => Priority::Low,
        }
    }
}

impl AccountState {
    /// States in which retrying is pointless until the owner acts.
    pub fn needs_owner(&self) -> bool {
        matches!(
            self,
            AccountState::Unauthorized | AccountState::Revoked | AccountState::Disabled
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_forms_round_trip() {
        for kind in AccountKind::ALL {
            assert_eq!(kind.as_str().parse::<AccountKind>(), Ok(*kind));
            let json = serde_json::to_string(kind).expect("json");
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
        }
        for state in AccountState::ALL {
            assert_eq!(state.as_str().parse::<AccountState>(), Ok(*state));
        }
        let err = "sometimes".parse::<DeliveryState>().expect_err("unknown");
        assert_eq!(err.to_string(), "unknown delivery state 'sometimes'");
    }

    #[test]
    fn plans_map_to_priorities() {
        assert_eq!(PlanId::Elite.priority(), Priority::High);
        assert_eq!(PlanId::Pro.priority(), Priority::Medium);
        assert_eq!(PlanId::Free.priority(), Priority::Low);
    }

    #[test]
    fn only_owner_action_states_stop_retries() {
        assert!(AccountState::Revoked.needs_owner());
        assert!(!AccountState::FloodWait.needs_owner());
    }
}
