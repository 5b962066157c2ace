//! The copies of one source message at one destination, part by part: a long text goes out
//! as several messages (parts 0, 1, …), each recorded in the message map as soon as it is
//! sent, so a retried delivery skips the parts already out, and an edit or a delete finds
//! every part. An album's other messages and its members are recorded here too.

use super::ClaimedDelivery;
use crate::{Database, StoreError};
use relay_core::DestinationId;

/// One destination message of a source message: its part number and its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageCopy {
    pub part: i16,
    pub dest_message_id: String,
}

impl Database {
    /// Every part a source message became at a destination, in part order.
    pub async fn message_copies(
        &self,
        destination: DestinationId,
        source_chat_id: &str,
        source_message_id: &str,
    ) -> Result<Vec<MessageCopy>, StoreError> {
        let rows: Vec<(i16, String)> = sqlx::query_as(
            "SELECT part, dest_message_id FROM message_map WHERE destination_id = $1 \
             AND source_chat_id = $2 AND source_message_id = $3 ORDER BY part",
        )
        .bind(destination.as_uuid())
        .bind(source_chat_id)
        .bind(source_message_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(part, dest_message_id)| MessageCopy {
                part,
                dest_message_id,
            })
            .collect())
    }

    /// Records that part `part` of the source message `source_message_id` (the delivery's,
    /// or the one it edits) went out as `dest_message_id`. The first record of a part
    /// stays.
    pub async fn record_copy(
        &self,
        delivery: &ClaimedDelivery,
        source_message_id: &str,
        part: i16,
        dest_chat_id: &str,
        dest_message_id: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO message_map (owner_id, pair_id, destination_id, source_chat_id, \
                 source_message_id, part, dest_account_id, dest_chat_id, dest_message_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (destination_id, source_chat_id, source_message_id, part) DO NOTHING",
        )
        .bind(delivery.owner_id.as_uuid())
        .bind(delivery.pair_id.as_uuid())
        .bind(delivery.destination_id.as_uuid())
        .bind(&delivery.source_chat_id)
        .bind(source_message_id)
        .bind(part)
        .bind(delivery.sender_account_id.as_uuid())
        .bind(dest_chat_id)
        .bind(dest_message_id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Records several messages of one send at once (an album is a message per file):
    /// `(part, dest_message_id)` each, as [`record_copy`](Self::record_copy) does.
    pub async fn record_copies(
        &self,
        delivery: &ClaimedDelivery,
        source_message_id: &str,
        dest_chat_id: &str,
        copies: &[(i16, String)],
    ) -> Result<(), StoreError> {
        let parts: Vec<i16> = copies.iter().map(|(p, _)| *p).collect();
        let ids: Vec<&str> = copies.iter().map(|(_, id)| id.as_str()).collect();
        sqlx::query(
            "INSERT INTO message_map (owner_id, pair_id, destination_id, source_chat_id, \
                 source_message_id, part, dest_account_id, dest_chat_id, dest_message_id) \
             SELECT $1, $2, $3, $4, $5, t.part, $6, $7, t.id \
             FROM UNNEST($8::int2[], $9::text[]) AS t(part, id) \
             ON CONFLICT (destination_id, source_chat_id, source_message_id, part) DO NOTHING",
        )
        .bind(delivery.owner_id.as_uuid())
        .bind(delivery.pair_id.as_uuid())
        .bind(delivery.destination_id.as_uuid())
        .bind(&delivery.source_chat_id)
        .bind(source_message_id)
        .bind(delivery.sender_account_id.as_uuid())
        .bind(dest_chat_id)
        .bind(&parts)
        .bind(&ids)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Records that the source messages `members` belong to the album forwarded as
    /// `lead` (at the delivery's destination).
    pub async fn record_album(
        &self,
        delivery: &ClaimedDelivery,
        lead: &str,
        members: &[String],
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO album_members (owner_id, pair_id, destination_id, source_chat_id, \
                 member_message_id, lead_message_id) \
             SELECT $1, $2, $3, $4, m, $5 FROM UNNEST($6::text[]) AS m \
             ON CONFLICT DO NOTHING",
        )
        .bind(delivery.owner_id.as_uuid())
        .bind(delivery.pair_id.as_uuid())
        .bind(delivery.destination_id.as_uuid())
        .bind(&delivery.source_chat_id)
        .bind(lead)
        .bind(members)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The album a source message belongs to at a destination (its first message's id),
    /// when it is an album's member other than the first.
    pub async fn album_lead(
        &self,
        destination: DestinationId,
        source_chat_id: &str,
        member_message_id: &str,
    ) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT lead_message_id FROM album_members WHERE destination_id = $1 \
             AND source_chat_id = $2 AND member_message_id = $3",
        )
        .bind(destination.as_uuid())
        .bind(source_chat_id)
        .bind(member_message_id)
        .fetch_optional(self.pool())
        .await?)
    }

    /// Forgets a part that was deleted because an edit made the text shorter.
    pub async fn forget_copy(
        &self,
        destination: DestinationId,
        source_chat_id: &str,
        source_message_id: &str,
        part: i16,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "DELETE FROM message_map WHERE destination_id = $1 AND source_chat_id = $2 \
             AND source_message_id = $3 AND part = $4",
        )
        .bind(destination.as_uuid())
        .bind(source_chat_id)
        .bind(source_message_id)
        .bind(part)
        .execute(self.pool())
        .await?;
        Ok(())
    }
}
