//! What a listener hands to the router: a batch of events, the source position that is
//! reached once they are recorded, and an acknowledgement that comes back when the outbox
//! rows (and the position) are committed. A source's position never moves past an event
//! whose rows are not in PostgreSQL yet.

use crate::messages::SourceEvent;
use tokio::sync::{mpsc, oneshot};

/// Where a source stands, to be stored with the outbox rows of the events before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// The last Discord message id seen in a channel.
    DiscordChannel { channel_id: u64, message_id: u64 },
    /// An MTProto session's common box (private chats and small groups).
    TelegramCommon { pts: i32, date: i32, seq: i32 },
    /// An MTProto session's secondary box.
    TelegramSecondary { qts: i32 },
    /// One channel's box of an MTProto session (the channel's bare id).
    TelegramChannel { channel_id: i64, pts: i32 },
}

/// A listener's batch: its events (possibly none, to move the position past events that
/// produce no rows) and the position reached after them.
#[derive(Debug)]
pub struct SourceBatch {
    pub events: Vec<SourceEvent>,
    pub position: Option<Position>,
    /// Answered once the batch (and everything before it) is committed; dropped unanswered
    /// when it was not.
    pub ack: Option<oneshot::Sender<()>>,
}

impl SourceBatch {
    /// Reports that the batch is committed.
    pub fn acknowledge(self) {
        if let Some(ack) = self.ack {
            let _ = ack.send(());
        }
    }
}

/// The source's end of the channel to the router.
#[derive(Debug, Clone)]
pub struct SourceSender {
    tx: mpsc::Sender<SourceBatch>,
}

/// The router is gone: nothing more will be recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the router stopped before recording the events")]
pub struct NotRecorded;

impl SourceSender {
    pub fn new(tx: mpsc::Sender<SourceBatch>) -> Self {
        Self { tx }
    }

    /// A channel of `capacity` batches.
    pub fn channel(capacity: usize) -> (Self, mpsc::Receiver<SourceBatch>) {
        let (tx, rx) = mpsc::channel(capacity);
        (Self { tx }, rx)
    }

    /// Hands over events without waiting for them to be recorded; the router stores
    /// `position` with their rows.
    pub async fn send(
        &self,
        events: Vec<SourceEvent>,
        position: Option<Position>,
    ) -> Result<(), NotRecorded> {
        if events.is_empty() && position.is_none() {
            return Ok(());
        }
        self.tx
            .send(SourceBatch {
                events,
                position,
                ack: None,
            })
            .await
            .map_err(|_| NotRecorded)
    }

    /// Hands over one event (no position).
    pub async fn event(&self, event: SourceEvent) -> Result<(), NotRecorded> {
        self.send(vec![event], None).await
    }

    /// Hands over events and waits until they (and everything before them) are committed.
    pub async fn commit(
        &self,
        events: Vec<SourceEvent>,
        position: Option<Position>,
    ) -> Result<(), NotRecorded> {
        let (ack, done) = oneshot::channel();
        self.tx
            .send(SourceBatch {
                events,
                position,
                ack: Some(ack),
            })
            .await
            .map_err(|_| NotRecorded)?;
        done.await.map_err(|_| NotRecorded)
    }

    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn commit_waits_for_the_acknowledgement_and_fails_without_it() {
        let (tx, mut rx) = SourceSender::channel(4);
        let waiting = tokio::spawn({
            let tx = tx.clone();
            async move { tx.commit(Vec::new(), None).await }
        });
        let batch = rx.recv().await.expect("batch");
        assert!(!waiting.is_finished());
        batch.acknowledge();
        assert_eq!(waiting.await.expect("join"), Ok(()));

        let dropped = tokio::spawn(async move { tx.commit(Vec::new(), None).await });
        drop(rx.recv().await.expect("batch"));
        assert_eq!(dropped.await.expect("join"), Err(NotRecorded));
    }
}
