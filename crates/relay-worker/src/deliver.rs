//! One delivery, start to end: claim the outbox row with the partition's fencing token,
//! build the message for the destination's platform, send it, and record what happened —
//! done (and the message map), a typed wait (the job is delayed, its lane waits for it),
//! or a failure (the job is dead-lettered and the owner sees it in the error log). A send
//! that may have arrived without an answer (`SendError::Ambiguous`) is such a failure too:
//! it is never sent again. A text over the destination's limit goes out in parts
//! ([`crate::parts`]).

use crate::accounts::{AccountError, AccountHub};
use crate::album;
use crate::claim::{ClaimResult, Claimer};
use crate::complete::Completer;
use crate::echoes;
use crate::identity;
use crate::media;
use crate::parts;
use crate::supervise::Supervisor;
use chrono::Utc;
use relay_core::delivery::DeliveryAction;
use relay_core::messages::{DeliveryPayload, LimitScope, OutgoingMessage, SendError};
use relay_core::{AccountId, AccountKind, AccountState};
use relay_queue::{Entry, JobQueue, backoff};
use relay_store::outbox::ClaimedDelivery;
use relay_store::{Database, StoreError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

/// How long a claim holds before the sweeper may hand the delivery to someone else.
const CLAIM_HOLD: Duration = Duration::from_secs(120);

/// What the lane does next.
#[derive(Debug)]
pub enum Outcome {
    /// Sent; it is being recorded and acknowledged (see [`Completer`]), and the receiver
    /// fires when that was done.
    Sent(oneshot::Receiver<()>),
    /// Finished (skipped or given up); the entry is acknowledged.
    Done,
    /// Retried later: the lane waits until this delivery comes back from the delayed set.
    Delayed,
    /// PostgreSQL or Redis is not answering: keep the entry, try again after this wait.
    Stalled(Duration),
}

/// Sends deliveries for the partitions this worker owns.
pub struct Deliverer {
    db: Database,
    queue: JobQueue,
    hub: AccountHub,
    /// Accounts told to wait (FLOOD_WAIT, a global 429): until when.
    paused_accounts: Mutex<HashMap<AccountId, Instant>>,
    /// The files of messages, fetched once and stored ([`media::Media`]).
    media: Arc<media::Media>,
    _media_task: crate::supervise::Supervised,
    completer: Completer,
    claimer: Claimer,
    /// What a send leaves for the router to recognise its echo (see [`crate::echoes`]).
    echo_marks: relay_queue::EchoMarks,
}

impl Deliverer {
    /// `stop` fires when the worker stops; the claimer and completer then drain and end
    /// once this deliverer is dropped.
    pub fn new(
        db: Database,
        queue: JobQueue,
        hub: AccountHub,
        http: reqwest::Client,
        supervisor: &Supervisor,
        stop: CancellationToken,
    ) -> Self {
        let (media, _media_task) =
            media::Media::start(db.clone(), hub.clone(), http, supervisor, stop.clone());
        Self {
            media,
            _media_task,
            completer: Completer::start(db.clone(), queue.clone(), supervisor, stop.clone()),
            claimer: Claimer::start(db.clone(), CLAIM_HOLD, supervisor, stop),
            echo_marks: queue.echo_marks(),
            db,
            queue,
            hub,
            paused_accounts: Mutex::default(),
        }
    }

    fn account_pause(&self, account: AccountId) -> Option<Duration> {
        let mut paused = self
            .paused_accounts
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let until = *paused.get(&account)?;
        let now = Instant::now();
        if until <= now {
            paused.remove(&account);
            return None;
        }
        Some(until - now)
    }

    fn pause_account(&self, account: AccountId, wait: Duration) {
        let mut paused = self
            .paused_accounts
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let until = Instant::now() + wait;
        let entry = paused.entry(account).or_insert(until);
        *entry = (*entry).max(until);
    }

    /// Acknowledges entries finished without a send; false when Redis did not take it
    /// (the lane keeps them and tries again).
    pub async fn ack(&self, partition: u16, entries: &[Entry]) -> bool {
        match self.queue.ack(partition, entries).await {
            Ok(()) => true,
            Err(e) => {
                tracing::debug!(partition, error = %e, "acknowledging failed");
                false
            }
        }
    }

    /// Gives claims back that the lane did not use, so they can be claimed again at once.
    /// If that fails they stay claimed under this token: the lane (or the next owner)
    /// claims them again.
    pub async fn give_back(&self, ids: &[i64], token: u64) {
        if let Err(e) = self.db.release_claims(ids, token as i64).await {
            tracing::debug!(error = %e, "could not give claims back");
        }
    }

    /// Queues the partition's rows that were committed but never queued (see
    /// [`crate::sweeper::requeue_partition`]).
    pub async fn requeue_partition(&self, partition: u16) -> Result<usize, StoreError> {
        crate::sweeper::requeue_partition(&self.db, &self.queue, partition).await
    }

    /// Claims the deliveries of these entries under the partition's fencing token (in one
    /// statement with what other lanes claim meanwhile): by delivery id, those that are
    /// still to be sent.
    pub async fn claim(&self, token: u64, entries: &[Entry]) -> ClaimResult {
        let ids: Vec<i64> = entries.iter().map(|e| e.job.delivery_id).collect();
        self.claimer.claim(token, ids).await
    }

    /// Sends a claimed delivery and says what the lane does next.
    pub async fn deliver_claimed(
        &self,
        partition: u16,
        token: u64,
        entry: &Entry,
        claimed: &ClaimedDelivery,
    ) -> Outcome {
        if let Some(wait) = self.account_pause(claimed.sender_account_id) {
            return self
                .wait(
                    partition,
                    token,
                    entry,
                    claimed,
                    wait,
                    "the account is rate limited",
                )
                .await;
        }
        let result = self.send_marked(claimed).await;
        match result {
            Ok(dest_message) => {
                let chat = claimed.dest_chat_id.clone().unwrap_or_default();
                if let Some(ms) = claimed.payload["posted_at_ms"].as_i64()
                    && ms > 0
                {
                    let latency = (Utc::now().timestamp_millis() - ms).max(0) as f64 / 1000.0;
                    metrics::histogram!("relay_delivery_latency_seconds").record(latency);
                }
                Outcome::Sent(
                    self.completer
                        .submit(partition, token, entry, chat, dest_message),
                )
            }
            Err(Failure::Send(SendError::RateLimited { retry_after, scope })) => {
                if scope != LimitScope::Route {
                    self.pause_account(claimed.sender_account_id, retry_after);
                }
                let why = format!("rate limited for {retry_after:?} ({scope:?})");
                self.wait(partition, token, entry, claimed, retry_after, &why)
                    .await
            }
            Err(Failure::Send(SendError::Transient(why))) => {
                let attempt = entry.job.attempt + 1;
                if attempt >= self.queue.config().max_attempts {
                    return self
                        .give_up(
                            partition,
                            token,
                            entry,
                            "retries_exhausted",
                            &format!("gave up after {attempt} attempts: {why}"),
                        )
                        .await;
                }
                let wait = backoff(self.queue.config(), attempt);
                self.wait(partition, token, entry, claimed, wait, &why)
                    .await
            }
            Err(Failure::Send(SendError::Unauthorized(why))) => {
                let message = format!("the sending account is no longer authorized: {why}");
                if let Err(e) = self
                    .db
                    .set_account_state(
                        claimed.sender_account_id,
                        AccountState::Unauthorized,
                        None,
                        Some(&message),
                    )
                    .await
                {
                    tracing::warn!(error = %e, "could not record the account's state");
                }
                self.hub.stop(claimed.sender_account_id);
                self.give_up(partition, token, entry, "unauthorized", &message)
                    .await
            }
            // Possibly delivered, and the platform cannot tell: recorded, never resent.
            Err(Failure::Send(SendError::Ambiguous(why))) => {
                let message = format!(
                    "{why}; the message may have arrived, so it was not sent again (check the destination)"
                );
                self.give_up(partition, token, entry, "ambiguous_timeout", &message)
                    .await
            }
            Err(Failure::Send(SendError::NotFound(why))) => {
                self.give_up(partition, token, entry, "not_found", &why)
                    .await
            }
            Err(Failure::Send(SendError::Rejected { code, message })) => {
                self.give_up(
                    partition,
                    token,
                    entry,
                    &format!("rejected:{code}"),
                    &message,
                )
                .await
            }
            Err(Failure::Account(AccountError::Store(e))) => stalled("account", e),
            // The partition is being given up: the delivery stays for its next owner.
            Err(Failure::Account(AccountError::NotDriven)) => {
                Outcome::Stalled(Duration::from_millis(200))
            }
            Err(Failure::Account(e)) => {
                self.give_up(partition, token, entry, "account_unusable", &e.to_string())
                    .await
            }
            Err(Failure::Store(e)) => stalled("lookup", e),
            Err(Failure::Payload(why)) => {
                self.give_up(partition, token, entry, "bad_payload", &why)
                    .await
            }
        }
    }

    /// Sends, with a new message's echo marks around it: the sender's in-flight count up
    /// before, the sent ids and fingerprints set (and the count down) after. Redis
    /// trouble here is logged: the message map still recognises the echo once recorded.
    async fn send_marked(&self, claimed: &ClaimedDelivery) -> Result<String, Failure> {
        if claimed.action != DeliveryAction::Create {
            return self.send(claimed, &mut Vec::new()).await;
        }
        let account = claimed.sender_account_id.to_string();
        let counted = match self.echo_marks.begin_send(&account).await {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(error = %e, "could not mark a send in flight");
                false
            }
        };
        let mut contents = Vec::new();
        let result = self.send(claimed, &mut contents).await;
        let sent: Vec<String> = result.iter().cloned().collect();
        let discord = matches!(
            claimed.account_kind,
            AccountKind::DiscordBot | AccountKind::DiscordWebhook
        );
        let chat = claimed.dest_chat_id.as_deref().unwrap_or_default();
        let marks = echoes::marks_of_send(
            discord,
            chat,
            claimed.sender_account_id,
            &sent,
            if sent.is_empty() { &[] } else { &contents },
        );
        let ended = if counted {
            self.echo_marks.end_send(&account, &marks).await
        } else {
            self.echo_marks.mark(&marks).await
        };
        if let Err(e) = ended {
            tracing::warn!(error = %e, "could not record a send's echo marks");
        }
        result
    }

    /// Sends; `contents` gets the text and file count of each message a create put out.
    async fn send(
        &self,
        claimed: &ClaimedDelivery,
        contents: &mut Vec<(String, usize)>,
    ) -> Result<String, Failure> {
        let sink = self
            .hub
            .sink_of(claimed.owner_id, claimed.sender_account_id)
            .await
            .map_err(Failure::Account)?;
        let payload: DeliveryPayload = serde_json::from_value(claimed.payload.clone())
            .map_err(|e| Failure::Payload(e.to_string()))?;
        let chat = claimed.dest_chat_id.clone().unwrap_or_default();
        match claimed.action {
            DeliveryAction::Create => {
                album::remember(&self.db, claimed, &payload)
                    .await
                    .map_err(Failure::Store)?;
                let message = self.message(claimed, &payload).await?;
                let parts = parts::split(claimed.account_kind, message);
                *contents = echoes::contents(parts.iter().map(|p| &p.message));
                let ([part], false) = (parts.as_slice(), parts::several(&parts)) else {
                    return parts::send(&self.db, &sink, claimed, &chat, &parts).await;
                };
                let key = format!("relay-{}", claimed.id);
                let sent = sink
                    .send(&chat, &part.message, &key)
                    .await
                    .map_err(Failure::Send)?;
                Ok(sent.message_id)
            }
            DeliveryAction::Edit | DeliveryAction::Delete => {
                let target = payload
                    .target_source_message
                    .as_deref()
                    .unwrap_or(&claimed.source_message_id);
                // Every part the message became (one unless its text was long or it had
                // files for several messages); an album member's edit finds the album's.
                let Some((target, copies)) = album::copies_for(&self.db, claimed, target, &payload)
                    .await
                    .map_err(Failure::Store)?
                else {
                    return Ok(String::new());
                };
                let target = target.as_str();
                let Some(first) = copies.iter().find(|c| c.part == claimed.part) else {
                    return Err(Failure::Send(SendError::NotFound(
                        "the message was never forwarded here, so it cannot be changed".into(),
                    )));
                };
                if claimed.action == DeliveryAction::Edit {
                    let message = self.message(claimed, &payload).await?;
                    let parts = parts::split(claimed.account_kind, message);
                    parts::edit(&self.db, &sink, claimed, target, &chat, &copies, &parts).await?;
                } else {
                    parts::delete(&sink, &chat, &copies).await?;
                }
                Ok(first.dest_message_id.clone())
            }
        }
    }

    /// The outgoing message: text, the files fetched from the source, the reply mapped to
    /// the destination's copy, and the author for destinations that show one.
    async fn message(
        &self,
        claimed: &ClaimedDelivery,
        payload: &DeliveryPayload,
    ) -> Result<OutgoingMessage, Failure> {
        // Files over the destination's limit are not sent: the text says so instead.
        let carried = self.media.carry(claimed, payload).await?;
        let reply_to = match &payload.reply_to_source {
            Some(source) => self
                .db
                .message_copy(claimed.destination_id, &claimed.source_chat_id, source, 0)
                .await
                .map_err(Failure::Store)?,
            None => None,
        };
        // A parent without a copy here is quoted (a webhook cannot reply at all, so it
        // always quotes); bots and sessions name the author.
        let webhook = claimed.account_kind == AccountKind::DiscordWebhook;
        let quote = payload
            .reply_quote
            .as_ref()
            .filter(|_| reply_to.is_none() || webhook);
        let author = payload
            .author
            .as_ref()
            .filter(|_| claimed.show_author && !webhook)
            .map(|a| a.name.as_str());
        Ok(OutgoingMessage {
            text: identity::decorate(&carried.text(&payload.text), author, quote),
            embeds: payload.embeds.clone(),
            files: carried.files,
            reply_to,
            author: payload.author.clone(),
        })
    }

    /// Back to pending in the outbox, and into the delayed set.
    async fn wait(
        &self,
        partition: u16,
        token: u64,
        entry: &Entry,
        claimed: &ClaimedDelivery,
        wait: Duration,
        why: &str,
    ) -> Outcome {
        let next = Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default();
        if let Err(e) = self
            .db
            .retry_delivery(claimed.id, token as i64, why, next)
            .await
        {
            return stalled("retry", e);
        }
        metrics::counter!("relay_deliveries_total", "outcome" => "retried").increment(1);
        match self.queue.delay(partition, entry, wait).await {
            Ok(()) => Outcome::Delayed,
            Err(e) => stalled("delay", e),
        }
    }

    async fn give_up(
        &self,
        partition: u16,
        token: u64,
        entry: &Entry,
        code: &str,
        message: &str,
    ) -> Outcome {
        tracing::warn!(
            delivery = entry.job.delivery_id,
            code,
            message,
            "delivery failed for good"
        );
        if let Err(e) = self
            .db
            .kill_delivery(entry.job.delivery_id, token as i64, code, message)
            .await
        {
            return stalled("kill", e);
        }
        metrics::counter!("relay_deliveries_total", "outcome" => "dead").increment(1);
        match self
            .queue
            .dead_letter(partition, entry, &format!("{code}: {message}"))
            .await
        {
            Ok(()) => Outcome::Done,
            Err(e) => stalled("dead letter", e),
        }
    }
}

/// Whether sending this delivery looks up the message map (an edit, a delete, a reply), so
/// the lane's earlier sends must be recorded first.
pub fn reads_message_map(claimed: &ClaimedDelivery) -> bool {
    claimed.action != DeliveryAction::Create
        || claimed
            .payload
            .get("reply_to_source")
            .is_some_and(|v| !v.is_null())
}

pub(crate) enum Failure {
    Send(SendError),
    Account(AccountError),
    Store(StoreError),
    Payload(String),
}

fn stalled(what: &str, err: impl std::fmt::Display) -> Outcome {
    tracing::warn!(error = %err, step = what, "a dependency is not answering; the delivery waits");
    Outcome::Stalled(Duration::from_secs(1))
}

/// Keeps the deliverer shareable by lanes.
pub type SharedDeliverer = Arc<Deliverer>;
