//! The chats a bot has seen in its updates (the Bot API cannot list a bot's chats): each
//! update's chat, reported at most once per chat per [`REPORT_EVERY`] so that a busy chat
//! costs one write now and then, not one per message.

use relay_core::chats::{ChatKind, SeenChat};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use teloxide_core::types::{Chat, PublicChatKind, Update};
use tokio::sync::mpsc;

/// How often one chat is reported again (its title may change).
pub const REPORT_EVERY: Duration = Duration::from_secs(600);
/// Chats remembered as recently reported, at most; the oldest half is forgotten beyond.
const REMEMBERED: usize = 10_000;

/// A chat as the list shows it: its Bot API id, title (a person's name for a private chat)
/// and kind.
pub fn seen_chat(chat: &Chat) -> SeenChat {
    use teloxide_core::types::ChatKind as K;
    let kind = match &chat.kind {
        K::Private(_) => ChatKind::Private,
        K::Public(public) => match &public.kind {
            PublicChatKind::Channel(_) => ChatKind::Channel,
            PublicChatKind::Group => ChatKind::Group,
            PublicChatKind::Supergroup(s) if s.is_forum => ChatKind::Forum,
            PublicChatKind::Supergroup(_) => ChatKind::Supergroup,
        },
    };
    let title = match (chat.title(), chat.first_name(), chat.last_name()) {
        (Some(title), _, _) => title.to_owned(),
        (None, Some(first), Some(last)) => format!("{first} {last}"),
        (None, Some(first), None) => first.to_owned(),
        _ => chat.username().unwrap_or_default().to_owned(),
    };
    SeenChat {
        chat_id: chat.id.to_string(),
        title,
        kind,
    }
}

/// Reports the chats of a bot's updates, each at most once per [`REPORT_EVERY`].
#[derive(Debug)]
pub struct SeenChats {
    tx: mpsc::Sender<Vec<SeenChat>>,
    reported: HashMap<i64, Instant>,
}

impl SeenChats {
    pub fn new(tx: mpsc::Sender<Vec<SeenChat>>) -> Self {
        Self {
            tx,
            reported: HashMap::new(),
        }
    }

    /// The chats among `updates` not reported lately, handed over without waiting (a full
    /// channel drops them: they are reported with a later update).
    pub fn note(&mut self, updates: &[Update]) {
        let now = Instant::now();
        let mut fresh: Vec<SeenChat> = Vec::new();
        for chat in updates.iter().filter_map(Update::chat) {
            let due = self
                .reported
                .get(&chat.id.0)
                .is_none_or(|at| now.duration_since(*at) >= REPORT_EVERY);
            if due && !fresh.iter().any(|c| c.chat_id == chat.id.to_string()) {
                fresh.push(seen_chat(chat));
            }
        }
        if fresh.is_empty() {
            return;
        }
        if self.tx.try_send(fresh.clone()).is_err() {
            return;
        }
        if self.reported.len() >= REMEMBERED {
            let mut ages: Vec<Instant> = self.reported.values().copied().collect();
            ages.sort_unstable();
            let cut = ages[ages.len() / 2];
            self.reported.retain(|_, at| *at > cut);
        }
        for chat in fresh {
            if let Ok(id) = chat.chat_id.parse() {
                self.reported.insert(id, now);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn update(id: i64, chat: serde_json::Value) -> Update {
        // As the Bot API's answer is read: from text.
        let text = json!({
            "update_id": id,
            "message": {"message_id": id, "date": 0, "chat": chat, "text": "hi",
                        "from": {"id": 5, "is_bot": false, "first_name": "Tina"}}
        })
        .to_string();
        serde_json::from_str(&text).expect("update")
    }

    #[tokio::test]
    async fn each_chat_is_reported_once_per_interval_with_its_kind() {
        let (tx, mut rx) = mpsc::channel(8);
        let mut seen = SeenChats::new(tx);
        let forum = json!({"id": -1001, "type": "supergroup", "title": "Forum", "is_forum": true});
        let private = json!({"id": 5, "type": "private", "first_name": "Tina", "last_name": "T"});
        let group = json!({"id": -7, "type": "group", "title": "Team"});
        seen.note(&[
            update(1, forum.clone()),
            update(2, forum.clone()),
            update(3, private),
        ]);
        let got = rx.try_recv().expect("reported");
        assert_eq!(
            got,
            [
                SeenChat {
                    chat_id: "-1001".into(),
                    title: "Forum".into(),
                    kind: ChatKind::Forum
                },
                SeenChat {
                    chat_id: "5".into(),
                    title: "Tina T".into(),
                    kind: ChatKind::Private
                },
            ]
        );
        seen.note(&[update(4, forum), update(5, group)]);
        let got = rx.try_recv().expect("reported");
        assert_eq!(got.len(), 1, "the forum was reported lately: {got:?}");
        assert_eq!(got[0].kind, ChatKind::Group);
        assert!(rx.try_recv().is_err());
    }
}
