//! A Telegram user session as a source: new, edited and deleted messages in channels,
//! groups and private chats.
//!
//! Each update comes with its place in its box (the common pts, the qts, or a channel's
//! pts); that position goes to the router with the update's events and is stored with their
//! outbox rows, so a session that stops or crashes catches up (getDifference,
//! getChannelDifference) from the last update whose rows are committed. A channel the
//! session starts reading without a stored position gets the pts it stands at now
//! (messages.getPeerDialogs), when the listener starts or as soon as a pair starts reading
//! it, so that catching up covers it too.
//!
//! Album members are held briefly and reported as one message (`crate::album`); positions
//! reached meanwhile wait for the album, so a stop before it is reported reads the members
//! again.

use super::{Connection, UserSession};
use crate::album::AlbumGrouper;
use grammers_client::client::UpdateStream;
use grammers_client::media::Media;
use grammers_client::message::Message;
use grammers_client::update::Update;
use grammers_client::{Client, InvocationError};
use grammers_mtsender::UpdatesConfiguration;
use grammers_session::types::{PeerId, PeerInfo};
use grammers_session::updates::{MessageBox, State};
use grammers_tl_types as tl;
use relay_core::messages::{Author, IncomingMessage, MediaRef, MediaSource, SourceEvent};
use relay_core::source::{NotRecorded, Position, SourceSender};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

pub struct UserListener {
    connection: Connection,
    /// Bare ids of the channels pairs read from.
    channels: Vec<i64>,
    more: Option<watch::Receiver<Vec<String>>>,
}

impl UserListener {
    pub fn new(connection: Connection) -> Self {
        Self {
            connection,
            channels: Vec::new(),
            more: None,
        }
    }

    /// The chats pairs read from (Bot API dialog ids); channels among them get a position
    /// when the listener starts, if they have none.
    pub fn reading(mut self, chats: &[String]) -> Self {
        self.channels = channel_ids(chats);
        self
    }

    /// Chats pairs start reading while the listener runs (the whole list each time): each
    /// new channel gets its position at once, not only at the next start, so a crash
    /// before its first update is committed cannot skip what was posted meanwhile.
    pub fn following(mut self, chats: watch::Receiver<Vec<String>>) -> Self {
        self.more = Some(chats);
        self
    }

    /// Reports events until `shutdown`, the receiver closes, or the session's authorization
    /// is gone (reported as `SourceEvent::Unauthorized`).
    pub async fn run(mut self, events: SourceSender, shutdown: CancellationToken) {
        let Some(updates) = self.connection.take_updates() else {
            tracing::error!("the session's updates are already being listened to");
            return;
        };
        let (client, session) = (&self.connection.client, &self.connection.session);
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = start_channels(client, session, &self.channels) => {}
        }
        // New pairs' channels get their positions beside the update stream (the stream's
        // next update is not cancelled for them; a position recorded meanwhile is kept).
        let _follower = self.more.take().map(|mut more| {
            let (client, session) = (client.clone(), Arc::clone(session));
            AbortOnDrop(tokio::spawn(async move {
                while more.changed().await.is_ok() {
                    let channels = channel_ids(&more.borrow_and_update());
                    start_channels(&client, &session, &channels).await;
                }
            }))
        });
        let stream = self
            .connection
            .client
            .stream_updates(updates, UpdatesConfiguration { catch_up: true })
            .await;
        let stream = match stream {
            Ok(stream) => stream,
            Err(e) => {
                tracing::error!(error = %e, "cannot start the update stream");
                return;
            }
        };
        // The stream is read in its own task: its `next_raw` cannot be cancelled safely
        // (an update taken off the connection would be lost), and the loop below also
        // waits for held albums to fall due.
        let (raw_tx, mut raw) = tokio::sync::mpsc::channel(64);
        let _reader = AbortOnDrop(tokio::spawn(read_updates(stream, raw_tx)));
        let mut albums = AlbumGrouper::default();
        let mut held = HeldPositions::default();
        let mut recent = super::recent::RecentMessages::default();
        loop {
            let due = albums.deadline().map(tokio::time::Instant::from_std);
            let next = tokio::select! {
                _ = shutdown.cancelled() => break,
                next = raw.recv() => next,
                _ = sleep_until(due), if due.is_some() => {
                    let ready = albums.due(Instant::now());
                    if held.report(&events, &albums, ready, None).await.is_err() {
                        return;
                    }
                    continue;
                }
            };
            let Some(next) = next else { break };
            let (raw, state, peers) = match next {
                Ok(update) => update,
                Err(InvocationError::Rpc(rpc)) if rpc.code == 401 => {
                    let _ = events
                        .event(SourceEvent::Unauthorized {
                            reason: format!("Telegram ended the session ({})", rpc.name),
                        })
                        .await;
                    return;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "Telegram updates failed; retrying");
                    continue;
                }
            };
            let position = position(&state);
            let update = Update::from_raw(&self.connection.client, raw, state, peers);
            // Files are not fetched here: a delivery that needs one has the worker fetch it
            // through this session (once per message), so chats no pair reads cost nothing.
            let mut batch = events_of(&update);
            recent.fill(&mut batch);
            // Album members are held and reported as one message (see `crate::album`).
            let group = match &update {
                Update::NewMessage(m) => m.grouped_id().map(|g| g.to_string()),
                _ => None,
            };
            let now = Instant::now();
            let ready = batch
                .into_iter()
                .flat_map(|event| albums.push(event, group.clone(), now))
                .collect();
            // Updates without events (service messages, other kinds) move the position too.
            if held
                .report(&events, &albums, ready, position)
                .await
                .is_err()
            {
                return;
            }
        }
        // No `sync_update_state` here: the state grammers holds may be ahead of what the
        // router recorded; the stored position is the one to resume from.
    }
}

/// Bare ids of the channels among chats given as Bot API dialog ids.
fn channel_ids(chats: &[String]) -> Vec<i64> {
    chats
        .iter()
        .filter_map(|c| c.parse::<i64>().ok())
        .filter_map(PeerId::from_bot_api_dialog_id)
        .filter(|id| id.kind() == grammers_session::types::PeerKind::Channel)
        .filter_map(|id| id.bare_id())
        .collect()
}

/// Reads the update stream into `out` until the receiver is gone, pausing after failures.
async fn read_updates(
    mut stream: UpdateStream,
    out: tokio::sync::mpsc::Sender<Result<RawUpdate, InvocationError>>,
) {
    let mut backoff = Duration::from_millis(500);
    loop {
        let next = stream.next_raw().await;
        let failed = next.is_err();
        if out.send(next).await.is_err() {
            return;
        }
        if failed {
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(30));
        } else {
            backoff = Duration::from_millis(500);
        }
    }
}

type RawUpdate = (tl::enums::Update, State, grammers_client::peer::PeerMap);

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Positions reached while an album is held: they cover its members, so they go to the
/// router only after the album (the latest per box, in order). Dropped on stop, so the
/// session reads the held members again.
#[derive(Default)]
struct HeldPositions(Vec<Position>);

impl HeldPositions {
    fn remember(&mut self, position: Option<Position>) {
        let Some(position) = position else { return };
        let same_box = |p: &Position| match (p, &position) {
            (
                Position::TelegramChannel { channel_id: a, .. },
                Position::TelegramChannel { channel_id: b, .. },
            ) => a == b,
            (Position::TelegramCommon { .. }, Position::TelegramCommon { .. })
            | (Position::TelegramSecondary { .. }, Position::TelegramSecondary { .. }) => true,
            _ => false,
        };
        match self.0.iter_mut().find(|p| same_box(p)) {
            Some(p) => *p = position,
            None => self.0.push(position),
        }
    }

    /// Hands `ready` to the router with `position`, or without it while `albums` holds
    /// members (then it waits here), followed by the positions held once none are.
    async fn report(
        &mut self,
        events: &SourceSender,
        albums: &AlbumGrouper,
        ready: Vec<SourceEvent>,
        position: Option<Position>,
    ) -> Result<(), NotRecorded> {
        if !albums.is_holding() && self.0.is_empty() {
            return events.send(ready, position).await;
        }
        self.remember(position);
        events.send(ready, None).await?;
        if albums.is_holding() {
            return Ok(());
        }
        for position in self.0.drain(..) {
            events.send(Vec::new(), Some(position)).await?;
        }
        Ok(())
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Dialogs read at most when looking for channels the session has not met yet.
const MAX_DIALOGS: usize = 5_000;

/// The id and access hash of a channel the session knows.
async fn known_channel(session: &UserSession, channel: i64) -> Option<(i64, i64)> {
    match grammers_session::Session::peer(session, PeerId::channel_unchecked(channel)).await {
        Ok(Some(PeerInfo::Channel {
            id,
            auth: Some(auth),
            ..
        })) => Some((id, auth.hash())),
        _ => None,
    }
}

/// Reads the session's dialogs: every chat in them becomes known (with its access hash)
/// and every channel's pts is recorded where none was (grammers does both).
async fn learn_dialogs(client: &Client) {
    let mut dialogs = client.iter_dialogs();
    for _ in 0..MAX_DIALOGS {
        match dialogs.next().await {
            Ok(Some(_)) => {}
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the session's dialogs");
                return;
            }
        }
    }
}

/// Records the current pts of each channel read without a position yet.
async fn start_channels(client: &Client, session: &UserSession, channels: &[i64]) {
    let mut learned = false;
    for &channel in channels {
        if session.has_channel(channel) {
            continue;
        }
        let mut known = known_channel(session, channel).await;
        if known.is_none() && !learned {
            // A channel the session has seen nothing of yet: its dialogs name it.
            learned = true;
            learn_dialogs(client).await;
            if session.has_channel(channel) {
                continue;
            }
            known = known_channel(session, channel).await;
        }
        let Some((id, access_hash)) = known else {
            tracing::warn!(
                channel,
                "a channel read without its access hash; it cannot be caught up after a restart"
            );
            continue;
        };
        let request = tl::functions::messages::GetPeerDialogs {
            peers: vec![tl::enums::InputDialogPeer::Peer(
                tl::types::InputDialogPeer {
                    peer: tl::enums::InputPeer::Channel(tl::types::InputPeerChannel {
                        channel_id: id,
                        access_hash,
                    }),
                },
            )],
        };
        let pts = match client.invoke(&request).await {
            Ok(tl::enums::messages::PeerDialogs::Dialogs(d)) => {
                d.dialogs.iter().find_map(|dialog| match dialog {
                    tl::enums::Dialog::Dialog(d) => d.pts,
                    _ => None,
                })
            }
            Err(e) => {
                tracing::warn!(channel, error = %e, "cannot learn where a channel stands");
                None
            }
        };
        if let Some(pts) = pts
            && let Err(e) = session.start_channel_at(channel, pts).await
        {
            tracing::warn!(channel, error = %e, "cannot record where a channel stands");
        }
    }
}

/// The position an update puts its box at.
fn position(state: &State) -> Option<Position> {
    Some(match state.message_box? {
        MessageBox::Common { pts } => Position::TelegramCommon {
            pts,
            date: state.date,
            seq: state.seq,
        },
        MessageBox::Secondary { qts } => Position::TelegramSecondary { qts },
        MessageBox::Channel { channel_id, pts } => Position::TelegramChannel { channel_id, pts },
    })
}

fn events_of(update: &Update) -> Vec<SourceEvent> {
    match update {
        Update::NewMessage(m) if m.action().is_none() => {
            in_chat_and_topic(m, incoming(m), SourceEvent::Created)
        }
        Update::MessageEdited(m) if m.action().is_none() => {
            in_chat_and_topic(m, incoming(m), SourceEvent::Edited)
        }
        Update::MessageDeleted(deletion) => {
            // Telegram names the channel of a channel deletion; in private chats and small
            // groups the ids are unique per account, so the chat is left empty.
            let chat_id = deletion
                .channel_id()
                .map(crate::platform::channel_chat_id)
                .unwrap_or_default();
            deletion
                .messages()
                .iter()
                .map(|id| SourceEvent::Deleted {
                    chat_id: chat_id.clone(),
                    message_id: id.to_string(),
                })
                .collect()
        }
        _ => Vec::new(),
    }
}

/// A message's event for its chat and, for a message in a forum topic, the same event for
/// the topic (`-100…/42`): pairs reading the whole forum and pairs reading the topic each
/// get it once.
fn in_chat_and_topic(
    m: &Message,
    message: IncomingMessage,
    event: fn(IncomingMessage) -> SourceEvent,
) -> Vec<SourceEvent> {
    let header = match &m.raw {
        tl::enums::Message::Message(raw) => raw.reply_to.as_ref(),
        _ => None,
    };
    match topic_of(header) {
        Some(topic) if crate::platform::is_channel_chat(&message.chat_id) => {
            let chat_id = format!("{}/{topic}", message.chat_id);
            vec![
                event(message.clone()),
                event(IncomingMessage { chat_id, ..message }),
            ]
        }
        _ => vec![event(message)],
    }
}

/// The forum topic a message is in, from its reply header: the thread's top message when
/// it answers a message in the topic, else the message it answers (the topic's first).
/// Messages of the General topic carry no header.
fn topic_of(header: Option<&tl::enums::MessageReplyHeader>) -> Option<i32> {
    match header? {
        tl::enums::MessageReplyHeader::Header(h) if h.forum_topic => {
            h.reply_to_top_id.or(h.reply_to_msg_id)
        }
        _ => None,
    }
}

/// A message as Relay's platform-neutral message. Text keeps its formatting (entities);
/// files are referenced by their message ([`MediaSource::TelegramUserMessage`]; the router
/// names the session).
pub fn incoming(m: &Message) -> IncomingMessage {
    let chat_id = m
        .peer_id()
        .bot_api_dialog_id()
        .map(|id| id.to_string())
        .unwrap_or_default();
    let author = match (m.sender(), m.post_author()) {
        (_, Some(signature)) => Author {
            id: chat_id.clone(),
            name: signature.to_owned(),
            avatar_url: None,
        },
        (Some(sender), None) => Author {
            id: sender
                .id()
                .bot_api_dialog_id()
                .map(|id| id.to_string())
                .unwrap_or_default(),
            name: sender.name().unwrap_or_default().to_owned(),
            avatar_url: None,
        },
        (None, None) => Author {
            id: chat_id.clone(),
            name: m
                .peer()
                .and_then(|p| p.name())
                .unwrap_or_default()
                .to_owned(),
            avatar_url: None,
        },
    };
    let source = MediaSource::TelegramUserMessage {
        account: None,
        chat_id: m.peer_id().bot_api_dialog_id().unwrap_or_default(),
        message_id: m.id(),
    };
    let media = match m.media() {
        Some(Media::Photo(photo)) => vec![MediaRef {
            filename: "photo.jpg".into(),
            source,
            size: photo.size().unwrap_or_default() as u64,
            content_type: Some("image/jpeg".into()),
        }],
        Some(Media::Document(doc)) => vec![document_ref(&doc, source)],
        Some(Media::Sticker(sticker)) => vec![document_ref(&sticker.document, source)],
        _ => Vec::new(),
    };
    IncomingMessage {
        chat_id,
        message_id: m.id().to_string(),
        author,
        text: super::entities::formatted(m.text(), m.fmt_entities()),
        media,
        embeds: Vec::new(),
        reply_to: m.reply_to_message_id().map(|id| id.to_string()),
        posted_at_ms: m.date().as_millisecond(),
        edited_at_ms: m.edit_date().map(|at| at.as_millisecond()),
        forwarded: m.forward_header().is_some(),
        author_is_bot: matches!(m.sender(), Some(grammers_client::peer::Peer::User(u)) if u.is_bot()),
        chat_title: m.peer().and_then(|p| p.name()).map(str::to_owned),
        link: m.peer_id().bot_api_dialog_id().and_then(|chat| {
            crate::platform::message_link(
                chat,
                m.peer().and_then(|p| p.username()),
                i64::from(m.id()),
            )
        }),
        ..IncomingMessage::default()
    }
}

fn document_ref(doc: &grammers_client::media::Document, source: MediaSource) -> MediaRef {
    MediaRef {
        filename: doc
            .name()
            .filter(|n| !n.is_empty())
            .unwrap_or("file")
            .to_owned(),
        source,
        size: doc.size().unwrap_or_default() as u64,
        content_type: doc.mime_type().map(str::to_owned),
    }
}

#[cfg(test)]
mod topic_tests {
    use super::*;

    fn header(
        forum_topic: bool,
        msg: Option<i32>,
        top: Option<i32>,
    ) -> tl::enums::MessageReplyHeader {
        tl::types::MessageReplyHeader {
            reply_to_scheduled: false,
            forum_topic,
            quote: false,
            reply_to_ephemeral: false,
            reply_to_msg_id: msg,
            reply_to_peer_id: None,
            reply_from: None,
            reply_media: None,
            reply_to_top_id: top,
            quote_text: None,
            quote_entities: None,
            quote_offset: None,
            todo_item_id: None,
            poll_option: None,
        }
        .into()
    }

    #[test]
    fn a_messages_topic_comes_from_its_reply_header() {
        assert_eq!(
            topic_of(Some(&header(true, Some(42), None))),
            Some(42),
            "in the topic"
        );
        assert_eq!(
            topic_of(Some(&header(true, Some(57), Some(42)))),
            Some(42),
            "a reply inside the topic"
        );
        assert_eq!(
            topic_of(Some(&header(false, Some(57), None))),
            None,
            "a plain reply"
        );
        assert_eq!(topic_of(None), None, "the General topic, or no forum");
    }
}
