//! The files a delivery carries. A file of a source message is fetched from its platform
//! once, by the first delivery that needs it, and stored (relay_store::media); every other
//! delivery of the message reads the stored copy. Within a worker one delivery at a time
//! looks a file up (the others wait for it and then read what it stored); across workers
//! the store's claim keeps a second fetch out. A Telegram user session's file that another
//! worker's session must fetch is requested from it, and this module's loop serves the
//! requests for the sessions driven here and forgets files no pending delivery needs.
//!
//! A file over the destination's limit (or over what its source lets Relay fetch, or gone
//! from the source) is not sent: the message carries a line saying so, with a link to the
//! original where there is one ([`crate::media_limits`]), and the file is counted
//! (`relay_media_not_carried_total`, and a row in `media_notices`).

use crate::accounts::AccountHub;
use crate::deliver::Failure;
use crate::media_fetch::{self, Fetched, SourceTrouble};
use crate::media_http::AllowedHosts;
use crate::media_limits::{Refusal, destination_limit, notice, original_link, source_cap};
use crate::supervise::{Supervised, Supervisor};
use base64::Engine;
use relay_core::delivery::DeliveryAction;
use relay_core::format::FormattedText;
use relay_core::messages::{DeliveryPayload, MediaRef, MediaSource, OutgoingFile, SendError};
use relay_core::{AccountId, UserId};
use relay_store::Database;
use relay_store::media::{MediaFile, MediaNotice, MediaState};
use relay_store::outbox::ClaimedDelivery;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// How long a fetch's claim holds before another worker may fetch instead.
const HOLD: Duration = Duration::from_secs(120);
/// How long a delivery waits for a file another worker is fetching before it is retried.
const WAIT: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(200);
/// After a failed fetch, how long before it is tried again.
const RETRY_PAUSE: Duration = Duration::from_secs(2);
/// How often requests for the sessions driven here are looked for, and unneeded files.
const SERVE_EVERY: Duration = Duration::from_millis(500);
const FORGET_EVERY: Duration = Duration::from_secs(30);
/// A file stays at least this long after it was fetched (an edit soon after reuses it).
const KEEP_AT_LEAST: Duration = Duration::from_secs(60);
const BATCH: i64 = 500;

/// What a delivery carries: the files within its destination's limit, and a line for each
/// file that is not.
#[derive(Debug, Default)]
pub struct Carried {
    pub files: Vec<OutgoingFile>,
    pub notices: Vec<String>,
}

impl Carried {
    /// The text with a line for each file not carried.
    pub fn text(&self, text: &FormattedText) -> FormattedText {
        let mut text = text.clone();
        for line in &self.notices {
            if !text.text.is_empty() {
                text.text.push_str("\n\n");
            }
            text.text.push_str(line);
        }
        text
    }
}

/// A file as the delivery has it, or why not.
enum Have {
    Bytes(Vec<u8>),
    TooLarge { size: u64 },
    Unavailable(String),
}

pub struct Media {
    db: Database,
    hub: AccountHub,
    http: reqwest::Client,
    hosts: AllowedHosts,
    /// One lookup per file at a time in this worker.
    flights: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl Media {
    /// `http` must not follow redirects ([`crate::media_http::client`]). Starts the loop
    /// that serves requests for the sessions driven here and forgets unneeded files; it
    /// ends with `stop` or when the handle is dropped.
    pub fn start(
        db: Database,
        hub: AccountHub,
        http: reqwest::Client,
        supervisor: &Supervisor,
        stop: CancellationToken,
    ) -> (Arc<Self>, Supervised) {
        let hosts = AllowedHosts::new(&hub.platforms().discord.api_url);
        let media = Arc::new(Self {
            db,
            hub,
            http,
            hosts,
            flights: Mutex::default(),
        });
        let task = supervisor.spawn("media", stop.clone(), {
            let media = Arc::clone(&media);
            move || {
                let (media, stop) = (Arc::clone(&media), stop.clone());
                async move { media.run(stop).await }
            }
        });
        (media, task)
    }

    /// The files of the delivery's message for its destination. An edit sends no files
    /// (the platforms edit text only): it gets empty stand-ins, so its text is split as the
    /// message's was, and the same lines for files that were not carried.
    pub async fn carry(
        &self,
        claimed: &ClaimedDelivery,
        payload: &DeliveryPayload,
    ) -> Result<Carried, Failure> {
        let mut carried = Carried::default();
        if payload.media.is_empty() {
            return Ok(carried);
        }
        let destination = destination_limit(claimed.account_kind);
        let plan = self.plan_limit(claimed.owner_id).await?;
        let limit = destination.min(plan);
        for (index, media) in payload.media.iter().enumerate() {
            let edit = claimed.action == DeliveryAction::Edit;
            let outcome = if edit {
                self.as_sent(claimed.owner_id, media, limit).await?
            } else {
                self.file(claimed, media, limit).await?
            };
            match outcome {
                Ok(bytes) => carried.files.push(OutgoingFile {
                    filename: media.filename.clone(),
                    bytes,
                }),
                Err(refusal) => {
                    let refusal = refusal.for_plan(plan, destination);
                    if !edit {
                        self.count(claimed, index, media, &refusal).await?;
                    }
                    let link = original_link(
                        &media.source,
                        &claimed.source_chat_id,
                        &claimed.source_message_id,
                        &self.hosts,
                    );
                    carried.notices.push(notice(
                        &media.filename,
                        &refusal,
                        &media.source,
                        link.as_deref(),
                    ));
                }
            }
        }
        Ok(carried)
    }

    /// The owner's plan's largest file (`max_media_bytes`); a plan without one limits nothing.
    async fn plan_limit(&self, owner: UserId) -> Result<u64, Failure> {
        let subscription = self.db.subscription(owner).await.map_err(Failure::Store)?;
        Ok(u64::try_from(subscription.plan.max_media_bytes)
            .ok()
            .filter(|n| *n > 0)
            .unwrap_or(u64::MAX))
    }

    async fn count(
        &self,
        claimed: &ClaimedDelivery,
        index: usize,
        media: &MediaRef,
        refusal: &Refusal,
    ) -> Result<(), Failure> {
        tracing::info!(
            delivery = claimed.id,
            file = %media.filename,
            size = refusal.size,
            limit = refusal.limit,
            reason = refusal.reason.as_str(),
            why = %refusal.why,
            "a file is not carried; the message says so"
        );
        self.db
            .record_media_notice(&MediaNotice {
                delivery_id: claimed.id,
                file_index: i16::try_from(index).unwrap_or(i16::MAX),
                owner_id: claimed.owner_id,
                pair_id: claimed.pair_id,
                destination_id: claimed.destination_id,
                filename: media.filename.clone(),
                size: refusal.size,
                limit: refusal.limit,
                reason: refusal.reason,
            })
            .await
            .map_err(Failure::Store)?;
        metrics::counter!(
            "relay_media_not_carried_total",
            "reason" => refusal.reason.as_str(),
            "destination" => claimed.account_kind.to_string(),
        )
        .increment(1);
        Ok(())
    }

    /// One file for a new message: its bytes, or why it is not carried.
    async fn file(
        &self,
        claimed: &ClaimedDelivery,
        media: &MediaRef,
        limit: u64,
    ) -> Result<Result<Vec<u8>, Refusal>, Failure> {
        let source = &media.source;
        let cap = source_cap(source);
        if let MediaSource::Inline { base64, .. } = source {
            return Ok(inline(base64, limit, cap));
        }
        // Declared over a limit: not fetched at all.
        if media.size > limit.min(cap) {
            return Ok(Err(Refusal::too_large(media.size, limit, cap)));
        }
        let Some(identity) = source.identity() else {
            return Ok(Err(Refusal::unavailable(
                media.size,
                "a file reference that names no account",
            )));
        };
        let key = key_of(claimed.owner_id, &identity);
        let flight = self.flight(&key);
        let have = {
            let _one_at_a_time = flight.lock().await;
            self.stored_or_fetched(claimed, source, &key, cap).await
        };
        self.land(&key, flight);
        Ok(match have? {
            Have::Bytes(bytes) if bytes.len() as u64 > limit => {
                Err(Refusal::too_large(bytes.len() as u64, limit, cap))
            }
            Have::Bytes(bytes) => Ok(bytes),
            Have::TooLarge { size } => Err(Refusal::too_large(size.max(media.size), limit, cap)),
            Have::Unavailable(why) => Err(Refusal::unavailable(media.size, why)),
        })
    }

    /// A file of an edited message: an empty stand-in, or why it was not carried (as far
    /// as its declared size and the store tell).
    async fn as_sent(
        &self,
        owner: UserId,
        media: &MediaRef,
        limit: u64,
    ) -> Result<Result<Vec<u8>, Refusal>, Failure> {
        let source = &media.source;
        let cap = source_cap(source);
        if let MediaSource::Inline { base64, .. } = source {
            return Ok(inline(base64, limit, cap).map(|_| Vec::new()));
        }
        if media.size > limit.min(cap) {
            return Ok(Err(Refusal::too_large(media.size, limit, cap)));
        }
        let Some(identity) = source.identity() else {
            return Ok(Err(Refusal::unavailable(media.size, "names no account")));
        };
        let state = self
            .db
            .media_state(&key_of(owner, &identity))
            .await
            .map_err(Failure::Store)?;
        Ok(match state {
            MediaState::TooLarge { size } => Err(Refusal::too_large(size, limit, cap)),
            MediaState::Stored(bytes) if bytes.len() as u64 > limit => {
                Err(Refusal::too_large(bytes.len() as u64, limit, cap))
            }
            MediaState::Gone(why) => Err(Refusal::unavailable(media.size, why)),
            _ => Ok(Vec::new()),
        })
    }

    /// The stored copy, or the file fetched now under the store's claim; waits while
    /// another worker fetches it.
    async fn stored_or_fetched(
        &self,
        claimed: &ClaimedDelivery,
        source: &MediaSource,
        key: &str,
        cap: u64,
    ) -> Result<Have, Failure> {
        let owner = claimed.owner_id;
        let file = MediaFile {
            key,
            owner_id: owner,
            source_chat_id: &claimed.source_chat_id,
            source_message_id: &claimed.source_message_id,
            source,
            fetch_account: session_of(source),
            cap,
        };
        let deadline = Instant::now() + WAIT;
        loop {
            let can_fetch = match media_fetch::can_fetch(&self.hub, owner, source).await {
                Ok(can) => can,
                Err(SourceTrouble::Unusable(why)) => return Ok(Have::Unavailable(why)),
                Err(SourceTrouble::Error(e)) => return Err(Failure::Send(e)),
            };
            let state = self
                .db
                .claim_media(&file, can_fetch, HOLD)
                .await
                .map_err(Failure::Store)?;
            match state {
                MediaState::Fetch => {
                    return self
                        .fetch_claimed(owner, source, key, cap)
                        .await
                        .map_err(Failure::Send);
                }
                MediaState::Stored(bytes) => return Ok(Have::Bytes(bytes)),
                MediaState::TooLarge { size } => return Ok(Have::TooLarge { size }),
                MediaState::Gone(why) => return Ok(Have::Unavailable(why)),
                MediaState::Pending if Instant::now() >= deadline => {
                    return Err(Failure::Send(SendError::Transient(
                        "a file of the message is still being fetched".into(),
                    )));
                }
                MediaState::Pending => tokio::time::sleep(POLL).await,
            }
        }
    }

    /// Fetches a file whose claim this worker holds, and records the outcome.
    async fn fetch_claimed(
        &self,
        owner: UserId,
        source: &MediaSource,
        key: &str,
        cap: u64,
    ) -> Result<Have, SendError> {
        metrics::counter!("relay_media_fetches_total", "source" => source_kind(source))
            .increment(1);
        let fetched =
            media_fetch::fetch(&self.http, &self.hosts, &self.hub, owner, source, cap).await;
        let (recorded, have) = match fetched {
            Ok(Fetched::Bytes(bytes)) => {
                (self.db.store_media(key, &bytes).await, Have::Bytes(bytes))
            }
            Ok(Fetched::TooLarge { size }) => (
                self.db.media_too_large(key, size).await,
                Have::TooLarge { size },
            ),
            Ok(Fetched::Unavailable(why)) => {
                (self.db.media_gone(key, &why).await, Have::Unavailable(why))
            }
            Err(e) => {
                if let Err(db) = self.db.media_fetch_failed(key, RETRY_PAUSE).await {
                    tracing::debug!(error = %db, "could not release a file's claim; it lapses");
                }
                return Err(e);
            }
        };
        // The file is good for this delivery either way; others fetch it again after the
        // claim lapses if it could not be recorded.
        if let Err(e) = recorded {
            tracing::warn!(error = %e, "could not store a fetched file");
        }
        Ok(have)
    }

    fn flights(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<tokio::sync::Mutex<()>>>> {
        self.flights.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn flight(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        Arc::clone(self.flights().entry(key.to_owned()).or_default())
    }

    /// Done with a file: the last one out removes its entry.
    fn land(&self, key: &str, flight: Arc<tokio::sync::Mutex<()>>) {
        let mut flights = self.flights();
        // This handle and the map's: nobody else waits.
        if Arc::strong_count(&flight) <= 2 {
            flights.remove(key);
        }
    }

    /// Serves requests for the sessions driven here, and forgets unneeded files.
    async fn run(&self, stop: CancellationToken) {
        let mut serve = tokio::time::interval(SERVE_EVERY);
        let mut forget = tokio::time::interval(FORGET_EVERY);
        for tick in [&mut serve, &mut forget] {
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        }
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = serve.tick() => self.serve_requests().await,
                _ = forget.tick() => self.forget().await,
            }
        }
    }

    async fn serve_requests(&self) {
        let accounts = self.hub.running_ids();
        let requests = match self.db.claim_requested_media(&accounts, HOLD, 16).await {
            Ok(requests) => requests,
            Err(e) => {
                tracing::debug!(error = %e, "looking for requested files failed; next round");
                return;
            }
        };
        for request in requests {
            if let Err(e) = self
                .fetch_claimed(request.owner_id, &request.source, &request.key, request.cap)
                .await
            {
                tracing::info!(error = %e, "a requested file could not be fetched yet");
            }
        }
    }

    async fn forget(&self) {
        loop {
            match self.db.forget_unneeded_media(KEEP_AT_LEAST, BATCH).await {
                Ok(n) if n < BATCH as u64 => return,
                Ok(_) => {}
                Err(e) => {
                    tracing::debug!(error = %e, "forgetting unneeded files failed; next round");
                    return;
                }
            }
        }
    }
}

/// A file carried in an old outbox row itself.
fn inline(base64: &str, limit: u64, cap: u64) -> Result<Vec<u8>, Refusal> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(base64)
        .map_err(|_| Refusal::unavailable(0, "an inline file that is not valid base64"))?;
    if bytes.len() as u64 > limit {
        return Err(Refusal::too_large(bytes.len() as u64, limit, cap));
    }
    Ok(bytes)
}

/// The session only whose worker can fetch the file.
fn session_of(source: &MediaSource) -> Option<AccountId> {
    match source {
        MediaSource::TelegramUserMessage { account, .. } => *account,
        _ => None,
    }
}

fn source_kind(source: &MediaSource) -> &'static str {
    match source {
        MediaSource::Url { .. } => "url",
        MediaSource::TelegramBotFile { .. } => "telegram_bot",
        MediaSource::TelegramUserMessage { .. } => "telegram_user",
        MediaSource::Inline { .. } => "inline",
    }
}

/// The store's key of a file: the owner and the source's identity, hashed.
fn key_of(owner: UserId, identity: &str) -> String {
    let digest = Sha256::new()
        .chain_update(owner.to_string().as_bytes())
        .chain_update(b"\n")
        .chain_update(identity.as_bytes())
        .finalize();
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_files_key_is_stable_per_owner_and_source() {
        let (alice, bob) = (UserId::new(), UserId::new());
        let key = key_of(alice, "url:https://cdn.discordapp.com/a.png");
        assert_eq!(key.len(), 64);
        assert_eq!(key, key_of(alice, "url:https://cdn.discordapp.com/a.png"));
        assert_ne!(key, key_of(bob, "url:https://cdn.discordapp.com/a.png"));
        assert_ne!(key, key_of(alice, "url:https://cdn.discordapp.com/b.png"));
    }

    #[test]
    fn lines_for_files_not_carried_follow_the_text() {
        let carried = Carried {
            files: Vec::new(),
            notices: vec!["📎 a".into(), "📎 b".into()],
        };
        assert_eq!(
            carried.text(&FormattedText::plain("look")).text,
            "look\n\n📎 a\n\n📎 b"
        );
        assert_eq!(carried.text(&FormattedText::default()).text, "📎 a\n\n📎 b");
    }

    #[test]
    fn an_inline_file_within_the_limit_is_carried() {
        assert_eq!(inline("AAEC", 3, 10), Ok(vec![0, 1, 2]));
        assert_eq!(inline("AAEC", 2, 10).map_err(|r| r.size), Err(3));
        assert!(inline("not base64!", 10, 10).is_err());
    }
}
