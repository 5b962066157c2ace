//! Where a deleted message was. MTProto reports deletions in private chats and basic groups
//! by message id only (those ids are unique per account, not per chat); the chat is found
//! from what Relay recorded when the message was forwarded: the outbox rows and the message
//! map of the account's pairs that read such chats. Likewise a channel's deletion names the
//! channel, not the forum topic a pair may read: the topics are found the same way.

use crate::{Database, StoreError};
use relay_core::AccountId;

impl Database {
    /// The chat of each of `message_ids` among the non-channel chats that `account`'s pairs
    /// read, for the messages Relay forwarded (or is forwarding) from there. Ids Relay never
    /// recorded are left out.
    pub async fn chats_of_forwarded_messages(
        &self,
        account: AccountId,
        message_ids: &[String],
    ) -> Result<Vec<(String, String)>, StoreError> {
        if message_ids.is_empty() {
            return Ok(Vec::new());
        }
        // Channels (and their topics) are -100 and the bare id: 13 digits or more (basic
        // groups have fewer, even when theirs start with 100). Every lookup goes by (destination, chat, message): the message map's and the
        // outbox's unique indexes.
        Ok(sqlx::query_as(
            "SELECT DISTINCT m.id, p.source_chat_id \
             FROM forwarding_pairs p \
             JOIN pair_destinations d ON d.pair_id = p.id \
             CROSS JOIN UNNEST($2::text[]) AS m (id) \
             WHERE p.source_account_id = $1 AND p.source_chat_id !~ '^-[0-9]{13}' \
               AND (EXISTS (SELECT 1 FROM message_map mm WHERE mm.destination_id = d.id \
                            AND mm.source_chat_id = p.source_chat_id \
                            AND mm.source_message_id = m.id) \
                 OR EXISTS (SELECT 1 FROM deliveries o WHERE o.pair_id = p.id \
                            AND o.destination_id = d.id \
                            AND o.source_chat_id = p.source_chat_id \
                            AND o.source_message_id = m.id AND o.action = 'create')) \
             ORDER BY 1, 2",
        )
        .bind(account.as_uuid())
        .bind(message_ids)
        .fetch_all(self.pool())
        .await?)
    }

    /// The forum topics (`{chat}/{topic}` source chats of `account`'s pairs) that each of
    /// `deleted` (channel chat, message id) was forwarded from: a channel's deletion names
    /// the channel, not the topic.
    pub async fn topics_of_forwarded_messages(
        &self,
        account: AccountId,
        deleted: &[(String, String)],
    ) -> Result<Vec<(String, String, String)>, StoreError> {
        if deleted.is_empty() {
            return Ok(Vec::new());
        }
        let chats: Vec<&str> = deleted.iter().map(|(c, _)| c.as_str()).collect();
        let ids: Vec<&str> = deleted.iter().map(|(_, m)| m.as_str()).collect();
        Ok(sqlx::query_as(
            "SELECT DISTINCT m.chat, m.id, p.source_chat_id \
             FROM UNNEST($2::text[], $3::text[]) AS m (chat, id) \
             JOIN forwarding_pairs p ON p.source_account_id = $1 \
              AND p.source_chat_id LIKE m.chat || '/%' \
             JOIN pair_destinations d ON d.pair_id = p.id \
             WHERE EXISTS (SELECT 1 FROM message_map mm WHERE mm.destination_id = d.id \
                           AND mm.source_chat_id = p.source_chat_id \
                           AND mm.source_message_id = m.id) \
                OR EXISTS (SELECT 1 FROM deliveries o WHERE o.pair_id = p.id \
                           AND o.destination_id = d.id \
                           AND o.source_chat_id = p.source_chat_id \
                           AND o.source_message_id = m.id AND o.action = 'create') \
             ORDER BY 1, 2, 3",
        )
        .bind(account.as_uuid())
        .bind(&chats)
        .bind(&ids)
        .fetch_all(self.pool())
        .await?)
    }
}
