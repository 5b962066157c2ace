//! The chats an account can pick for a pair, as `GET /accounts/{id}/chats` lists them:
//! what sources report (a user session's dialogs, the chats a bot has seen) and what the
//! database keeps.

use std::fmt;
use std::str::FromStr;

/// What kind of chat it is, in Telegram's terms (Discord channels are listed apart).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChatKind {
    Private,
    /// A basic (small) group.
    Group,
    Supergroup,
    Channel,
    /// A supergroup with topics: each topic can be named on its own (`-100…/<topic>`).
    Forum,
}

impl ChatKind {
    pub const ALL: [ChatKind; 5] = [
        ChatKind::Private,
        ChatKind::Group,
        ChatKind::Supergroup,
        ChatKind::Channel,
        ChatKind::Forum,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ChatKind::Private => "private",
            ChatKind::Group => "group",
            ChatKind::Supergroup => "supergroup",
            ChatKind::Channel => "channel",
            ChatKind::Forum => "forum",
        }
    }
}

impl fmt::Display for ChatKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ChatKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        ChatKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown chat kind {s:?}"))
    }
}

/// A chat an account can read or post in: its id in the form pairs use, its title and kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenChat {
    pub chat_id: String,
    pub title: String,
    pub kind: ChatKind,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_read_back_what_they_write() {
        for kind in ChatKind::ALL {
            assert_eq!(kind.as_str().parse::<ChatKind>(), Ok(kind));
        }
        assert!("megagroup".parse::<ChatKind>().is_err());
    }
}
