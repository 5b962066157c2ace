//! Keeping `seen_chats` current for `GET /accounts/{id}/chats`: the worker that drives a
//! Telegram user session lists its dialogs when the session starts and at each health
//! check (the API never opens a session itself: two processes on one session get it
//! revoked), and a bot's listener reports the chats of its updates, recorded here.

use relay_core::AccountId;
use relay_core::chats::SeenChat;
use relay_store::Database;
use relay_telegram::user::UserSink;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Chats reported by a listener, waiting to be recorded, at most.
pub(crate) const PENDING: usize = 64;

/// Records the chats a bot's listener reports until `stop` (or the listener is gone).
pub(crate) fn record_reports(
    db: Database,
    account: AccountId,
    mut reports: mpsc::Receiver<Vec<SeenChat>>,
    stop: CancellationToken,
) {
    tokio::spawn(async move {
        loop {
            let chats = tokio::select! {
                _ = stop.cancelled() => return,
                chats = reports.recv() => chats,
            };
            let Some(chats) = chats else { return };
            if let Err(e) = db.record_seen_chats(account, &chats).await {
                tracing::warn!(%account, error = %e, "could not record the chats a bot has seen");
            }
        }
    });
}

/// Lists the session's dialogs and stores them as its chats (replacing the last list).
pub(crate) async fn list_dialogs(db: &Database, account: AccountId, sink: &UserSink) {
    match sink.dialogs().await {
        Ok(chats) => {
            if let Err(e) = db.replace_dialogs(account, &chats).await {
                tracing::warn!(%account, error = %e, "could not store the session's dialogs");
            }
        }
        Err(e) => tracing::warn!(%account, error = %e, "could not list the session's dialogs"),
    }
}
