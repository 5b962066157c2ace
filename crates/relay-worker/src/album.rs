//! Albums at a destination: a source album arrives as one message (its first member's
//! id, the others in `grouped_ids`). When it is forwarded, its other members are recorded
//! as pointing at it, so an edit or delete Telegram reports for any member finds the copy:
//! an edit of a member's caption edits the copy's caption; deleting the album (Telegram
//! reports every member) deletes the copy with its first member, and the other members'
//! deletes have nothing left to do.

use relay_core::delivery::DeliveryAction;
use relay_core::messages::DeliveryPayload;
use relay_store::outbox::{ClaimedDelivery, MessageCopy};
use relay_store::{Database, StoreError};

/// Records the album's other members before it is sent, so their edits and deletes
/// (ordered after it in the destination's lane) find it.
pub(crate) async fn remember(
    db: &Database,
    claimed: &ClaimedDelivery,
    payload: &DeliveryPayload,
) -> Result<(), StoreError> {
    if payload.grouped_ids.is_empty() {
        return Ok(());
    }
    db.record_album(claimed, &claimed.source_message_id, &payload.grouped_ids)
        .await
}

/// The source message an edit or delete of `target` acts on, with its copies: `target`
/// itself, or the album it belongs to. `None`: nothing to do (a member's delete, or an
/// edit of a member that has no caption: the album's copy keeps its own).
pub(crate) async fn copies_for(
    db: &Database,
    claimed: &ClaimedDelivery,
    target: &str,
    payload: &DeliveryPayload,
) -> Result<Option<(String, Vec<MessageCopy>)>, StoreError> {
    let (destination, chat) = (claimed.destination_id, &claimed.source_chat_id);
    let copies = db.message_copies(destination, chat, target).await?;
    if !copies.is_empty() {
        return Ok(Some((target.to_owned(), copies)));
    }
    let Some(lead) = db.album_lead(destination, chat, target).await? else {
        return Ok(Some((target.to_owned(), copies)));
    };
    if claimed.action == DeliveryAction::Delete || payload.text.is_empty() {
        return Ok(None);
    }
    let copies = db.message_copies(destination, chat, &lead).await?;
    Ok(Some((lead, copies)))
}
