//! Deletions that do not name their chat. MTProto's `updateDeleteMessages` (private chats
//! and basic groups) carries message ids only, unique per account: the user listener
//! reports them with an empty chat, and here each one gets the chat Relay forwarded it
//! from — a create in the same router batch, or else the outbox and the message map
//! ([`Database::chats_of_forwarded_messages`]). Ids Relay never forwarded are dropped:
//! no pair has a copy of them. Channels name themselves in `updateDeleteChannelMessages`,
//! but not the forum topic a message was in: a channel deletion is also given to each topic
//! of that channel whose pair forwarded the message. (Discord deletions carry their channel
//! or thread; the Bot API tells bots of no deletions at all.)

use relay_core::AccountId;
use relay_core::messages::SourceEvent;
use relay_core::source::SourceBatch;
use relay_store::{Database, StoreError};
use std::collections::HashMap;

fn chatless(event: &SourceEvent) -> Option<&str> {
    match event {
        SourceEvent::Deleted {
            chat_id,
            message_id,
        } if chat_id.is_empty() => Some(message_id),
        _ => None,
    }
}

/// Gives every chatless deletion in `batch` its chat, or drops it when Relay forwarded no
/// message of that id. Nothing changes on an error (the router retries the whole batch).
pub(crate) async fn resolve_chatless_deletes(
    db: &Database,
    batch: &mut [(AccountId, SourceBatch)],
) -> Result<(), StoreError> {
    add_topic_deletes(db, batch).await?;
    let any = batch
        .iter()
        .any(|(_, b)| b.events.iter().any(|e| chatless(e).is_some()));
    if !any {
        return Ok(());
    }
    // Per account: the ids to look up, and the chats of this batch's own creates.
    let mut wanted: HashMap<AccountId, Vec<String>> = HashMap::new();
    let mut created: HashMap<(AccountId, String), String> = HashMap::new();
    for (account, b) in batch.iter() {
        for event in &b.events {
            match event {
                SourceEvent::Created(m)
                    if !relay_telegram::platform::is_channel_chat(&m.chat_id) =>
                {
                    created.insert((*account, m.message_id.clone()), m.chat_id.clone());
                }
                other => {
                    if let Some(id) = chatless(other)
                        && !created.contains_key(&(*account, id.to_owned()))
                    {
                        wanted.entry(*account).or_default().push(id.to_owned());
                    }
                }
            }
        }
    }
    let mut found: HashMap<(AccountId, String), Vec<String>> = HashMap::new();
    for (account, ids) in wanted {
        for (id, chat) in db.chats_of_forwarded_messages(account, &ids).await? {
            found.entry((account, id)).or_default().push(chat);
        }
    }
    for ((account, id), chat) in created {
        found.entry((account, id)).or_default().push(chat);
    }
    for (account, b) in batch.iter_mut() {
        let events = std::mem::take(&mut b.events);
        for event in events {
            let Some(id) = chatless(&event) else {
                b.events.push(event);
                continue;
            };
            let chats = found
                .get(&(*account, id.to_owned()))
                .cloned()
                .unwrap_or_default();
            if chats.is_empty() {
                tracing::debug!(%account, message = id, "a deletion of a message Relay never forwarded");
            }
            for chat_id in chats {
                b.events.push(SourceEvent::Deleted {
                    chat_id,
                    message_id: id.to_owned(),
                });
            }
        }
    }
    Ok(())
}

/// A channel's deletion, for the forum topics of that channel that forwarded the message.
fn channel_delete(event: &SourceEvent) -> Option<(String, String)> {
    match event {
        SourceEvent::Deleted {
            chat_id,
            message_id,
        } if !chat_id.contains('/') && relay_telegram::platform::is_channel_chat(chat_id) => {
            Some((chat_id.clone(), message_id.clone()))
        }
        _ => None,
    }
}

/// Adds, after each channel deletion, the same deletion for every topic of that channel
/// that forwarded the message (idempotent: a retried batch finds them already there).
async fn add_topic_deletes(
    db: &Database,
    batch: &mut [(AccountId, SourceBatch)],
) -> Result<(), StoreError> {
    for (account, b) in batch.iter_mut() {
        let deleted: Vec<(String, String)> = b.events.iter().filter_map(channel_delete).collect();
        if deleted.is_empty() {
            continue;
        }
        let topics = db.topics_of_forwarded_messages(*account, &deleted).await?;
        if topics.is_empty() {
            continue;
        }
        let events = std::mem::take(&mut b.events);
        for event in events {
            let found = channel_delete(&event);
            b.events.push(event);
            let Some((chat, id)) = found else { continue };
            for (_, _, topic) in topics.iter().filter(|(c, m, _)| *c == chat && *m == id) {
                let topic_event = SourceEvent::Deleted {
                    chat_id: topic.clone(),
                    message_id: id.clone(),
                };
                if !b.events.contains(&topic_event) {
                    b.events.push(topic_event);
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use relay_core::messages::IncomingMessage;

    fn batch(events: Vec<SourceEvent>) -> SourceBatch {
        SourceBatch {
            events,
            position: None,
            ack: None,
        }
    }

    fn delete(chat: &str, id: &str) -> SourceEvent {
        SourceEvent::Deleted {
            chat_id: chat.into(),
            message_id: id.into(),
        }
    }

    #[tokio::test]
    async fn a_deletion_finds_its_chat_in_the_same_batch_and_unknown_ones_are_dropped() {
        let db = relay_store::testing::test_database().await.expect("db");
        let (a, b) = (AccountId::new(), AccountId::new());
        let created = SourceEvent::Created(IncomingMessage {
            chat_id: "-1003".into(),
            message_id: "7".into(),
            ..IncomingMessage::default()
        });
        let mut events = vec![
            (
                a,
                batch(vec![created.clone(), delete("", "7"), delete("", "8")]),
            ),
            (b, batch(vec![delete("", "7"), delete("-1001", "9")])),
        ];
        resolve_chatless_deletes(&db, &mut events)
            .await
            .expect("resolve");
        assert_eq!(events[0].1.events, [created, delete("-1003", "7")]);
        assert_eq!(
            events[1].1.events,
            [delete("-1001", "9")],
            "another account's id is not the same message; a channel's deletion is kept as is"
        );
    }
}
