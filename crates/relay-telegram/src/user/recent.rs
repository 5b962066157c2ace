//! The last messages a user session's listener saw, as quotes: a reply's parent is quoted
//! from here (MTProto sends only the parent's id, and asking Telegram for it would cost a
//! request per reply). Parents older than the listener or pushed out of the bounded memory
//! are not quoted.

use relay_core::messages::{Quote, SourceEvent};
use std::collections::{HashMap, VecDeque};

/// How many messages are remembered (each keeps at most `Quote::KEPT_CHARS` characters).
const REMEMBERED: usize = 1_000;

#[derive(Default)]
pub struct RecentMessages {
    quotes: HashMap<(String, String), Quote>,
    order: VecDeque<(String, String)>,
}

impl RecentMessages {
    /// Quotes the parents of the batch's replies that were seen, then remembers the
    /// batch's messages (an edit replaces what was remembered).
    pub fn fill(&mut self, batch: &mut [SourceEvent]) {
        for event in batch.iter_mut() {
            let (SourceEvent::Created(m) | SourceEvent::Edited(m)) = event else {
                continue;
            };
            if m.reply_quote.is_none()
                && let Some(parent) = &m.reply_to
            {
                m.reply_quote = self
                    .quotes
                    .get(&(m.chat_id.clone(), parent.clone()))
                    .cloned();
            }
            let key = (m.chat_id.clone(), m.message_id.clone());
            let quote = Quote::of(m.author.name.clone(), &m.text.text);
            if self.quotes.insert(key.clone(), quote).is_none() {
                self.order.push_back(key);
            }
            while self.order.len() > REMEMBERED {
                if let Some(old) = self.order.pop_front() {
                    self.quotes.remove(&old);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use relay_core::messages::{Author, IncomingMessage};

    fn message(id: u32, text: &str, reply_to: Option<u32>) -> SourceEvent {
        SourceEvent::Created(IncomingMessage {
            chat_id: "-1001".into(),
            message_id: id.to_string(),
            author: Author {
                id: "5".into(),
                name: "Bob".into(),
                avatar_url: None,
            },
            text: text.into(),
            reply_to: reply_to.map(|r| r.to_string()),
            ..IncomingMessage::default()
        })
    }

    fn quote_of(event: &SourceEvent) -> Option<Quote> {
        match event {
            SourceEvent::Created(m) | SourceEvent::Edited(m) => m.reply_quote.clone(),
            _ => None,
        }
    }

    #[test]
    fn replies_to_seen_messages_are_quoted_and_old_ones_are_forgotten() {
        let mut recent = RecentMessages::default();
        let mut batch = vec![message(1, "first", None), message(2, "re", Some(1))];
        recent.fill(&mut batch);
        assert_eq!(quote_of(&batch[1]), Some(Quote::of("Bob", "first")));
        // An edit changes the remembered text.
        let mut edit = vec![match message(1, "first, edited", None) {
            SourceEvent::Created(m) => SourceEvent::Edited(m),
            other => other,
        }];
        recent.fill(&mut edit);
        let mut reply = vec![message(3, "again", Some(1)), message(4, "?", Some(99))];
        recent.fill(&mut reply);
        assert_eq!(quote_of(&reply[0]), Some(Quote::of("Bob", "first, edited")));
        assert_eq!(quote_of(&reply[1]), None, "never seen");
        for id in 10..(10 + REMEMBERED as u32) {
            recent.fill(&mut [message(id, "filler", None)]);
        }
        let mut late = vec![message(5000, "late", Some(1))];
        recent.fill(&mut late);
        assert_eq!(quote_of(&late[0]), None, "pushed out");
        assert!(recent.quotes.len() <= REMEMBERED);
    }
}
