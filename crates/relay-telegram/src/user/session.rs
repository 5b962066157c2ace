//! grammers' `Session` over a [`SessionStore`] (PostgreSQL in Relay): an in-memory copy
//! answers the hot, synchronous questions (home DC, DC options) and every change is written
//! through to the account's stored session — DC options and auth keys (which the store
//! seals), update state and peers beside.
//! Without an account (a login in progress) the session lives only in memory and is saved
//! by the login flow as a whole.
//!
//! The update state (pts, qts, seq, channel pts) is the session's *position*: the router
//! stores it with the outbox rows of the updates before it. grammers' own
//! `set_update_state` calls (getState at a pristine start, channel pts from dialogs, the
//! whole state at `sync_update_state`) may be ahead of what was recorded, so they only
//! ever fill in a position the session does not have yet, never move one.

use grammers_session::types::{
    ChannelKind, ChannelState, DcOption, PeerAuth, PeerId, PeerInfo, PeerKind, UpdateState,
    UpdatesState,
};
use grammers_session::{BoxFuture, Session, SessionData};
use relay_core::AccountId;
use relay_core::telegram_session::{
    SessionCursor, SessionStore, SessionStoreError, StoredPeer, StoredSession,
};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex, MutexGuard};

/// The part of a session that is sealed at rest: where the DCs are and their auth keys.
#[derive(Serialize, Deserialize)]
struct Keys {
    home_dc: i32,
    dc_options: Vec<DcOption>,
}

struct Persist {
    store: Arc<dyn SessionStore>,
    account: AccountId,
}

pub struct UserSession {
    data: Mutex<SessionData>,
    persist: Option<Persist>,
}

impl UserSession {
    /// A session kept in memory only (a login in progress).
    pub fn in_memory(data: SessionData) -> Self {
        Self {
            data: Mutex::new(data),
            persist: None,
        }
    }

    /// The account's stored session, written through on every change from now on.
    pub async fn load(
        store: Arc<dyn SessionStore>,
        account: AccountId,
    ) -> Result<Self, SessionStoreError> {
        let stored = store.load(account).await?;
        let data = session_data(&stored).map_err(|e| SessionStoreError::Corrupt(e.to_string()))?;
        Ok(Self {
            data: Mutex::new(data),
            persist: Some(Persist { store, account }),
        })
    }

    fn data(&self) -> MutexGuard<'_, SessionData> {
        // The data stays consistent under a panic elsewhere: every change is one assignment.
        self.data
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The whole session, ready to be stored.
    pub fn snapshot(&self) -> StoredSession {
        let data = self.data();
        let keys = Keys {
            home_dc: data.home_dc,
            dc_options: data.dc_options.values().cloned().collect(),
        };
        let state = &data.updates_state;
        StoredSession {
            home_dc: data.home_dc,
            data: serde_json::to_vec(&keys).unwrap_or_default(),
            cursor: (state.pts != 0 || state.date != 0).then_some(SessionCursor {
                pts: state.pts,
                qts: state.qts,
                date: state.date,
                seq: state.seq,
            }),
            channels: state.channels.iter().map(|c| (c.id, c.pts)).collect(),
            peers: data.peer_infos.values().filter_map(stored_peer).collect(),
        }
    }

    /// Only the sealed part (DC options and keys), as a login keeps it between steps.
    pub fn keys(&self) -> Vec<u8> {
        self.snapshot().data
    }

    async fn save_keys(&self) -> Result<(), SessionStoreError> {
        let Some(p) = &self.persist else {
            return Ok(());
        };
        let snapshot = self.snapshot();
        p.store
            .save_keys(p.account, snapshot.home_dc, &snapshot.data)
            .await
    }
}

/// Rebuilds grammers' session data from what was stored.
pub fn session_data(stored: &StoredSession) -> Result<SessionData, serde_json::Error> {
    let keys: Keys = serde_json::from_slice(&stored.data)?;
    let mut data = SessionData {
        home_dc: keys.home_dc,
        ..SessionData::default()
    };
    for option in keys.dc_options {
        data.dc_options.insert(option.id, option);
    }
    for peer in &stored.peers {
        if let Some(info) = peer_info(peer) {
            data.peer_infos.insert(info.id(), info);
        }
    }
    if let Some(c) = stored.cursor {
        data.updates_state = UpdatesState {
            pts: c.pts,
            qts: c.qts,
            date: c.date,
            seq: c.seq,
            channels: Vec::new(),
        };
    }
    data.updates_state.channels = stored
        .channels
        .iter()
        .map(|&(id, pts)| ChannelState { id, pts })
        .collect();
    Ok(data)
}

/// Session data from the sealed keys alone (a login between steps).
pub fn session_data_from_keys(keys: &[u8]) -> Result<SessionData, serde_json::Error> {
    session_data(&StoredSession {
        data: keys.to_vec(),
        ..StoredSession::default()
    })
}

fn stored_peer(info: &PeerInfo) -> Option<StoredPeer> {
    let (kind, access_hash, is_self) = match info {
        PeerInfo::User {
            auth, bot, is_self, ..
        } => (
            if bot.unwrap_or(false) { "bot" } else { "user" },
            auth.map(PeerAuth::hash),
            is_self.unwrap_or(false),
        ),
        PeerInfo::Chat { .. } => ("chat", None, false),
        PeerInfo::Channel { auth, kind, .. } => (
            match kind {
                Some(ChannelKind::Megagroup) => "megagroup",
                Some(ChannelKind::Gigagroup) => "gigagroup",
                _ => "channel",
            },
            auth.map(PeerAuth::hash),
            false,
        ),
    };
    Some(StoredPeer {
        dialog_id: info.id().bot_api_dialog_id()?,
        kind: kind.to_owned(),
        access_hash,
        is_self,
    })
}

fn peer_info(peer: &StoredPeer) -> Option<PeerInfo> {
    let id = PeerId::from_bot_api_dialog_id(peer.dialog_id)?;
    let bare = id.bare_id()?;
    let auth = peer.access_hash.map(PeerAuth::from_hash);
    Some(match (id.kind(), peer.kind.as_str()) {
        (PeerKind::User, kind) => PeerInfo::User {
            id: bare,
            auth,
            bot: Some(kind == "bot"),
            is_self: Some(peer.is_self),
        },
        (PeerKind::Chat, _) => PeerInfo::Chat { id: bare },
        (PeerKind::Channel, kind) => PeerInfo::Channel {
            id: bare,
            auth,
            kind: match kind {
                "megagroup" => Some(ChannelKind::Megagroup),
                "gigagroup" => Some(ChannelKind::Gigagroup),
                _ => Some(ChannelKind::Broadcast),
            },
        },
    })
}

impl Session for UserSession {
    type Error = SessionStoreError;

    fn home_dc_id(&self) -> Result<i32, SessionStoreError> {
        Ok(self.data().home_dc)
    }

    fn set_home_dc_id(&self, dc_id: i32) -> BoxFuture<'_, Result<(), SessionStoreError>> {
        Box::pin(async move {
            self.data().home_dc = dc_id;
            self.save_keys().await
        })
    }

    fn dc_option(&self, dc_id: i32) -> Result<Option<DcOption>, SessionStoreError> {
        Ok(self.data().dc_options.get(&dc_id).cloned())
    }

    fn set_dc_option(&self, dc_option: &DcOption) -> BoxFuture<'_, Result<(), SessionStoreError>> {
        let dc_option = dc_option.clone();
        Box::pin(async move {
            let changed = {
                let mut data = self.data();
                let old = data.dc_options.insert(dc_option.id, dc_option.clone());
                old.as_ref() != Some(&dc_option)
            };
            if changed {
                self.save_keys().await?;
            }
            Ok(())
        })
    }

    fn peer(&self, peer: PeerId) -> BoxFuture<'_, Result<Option<PeerInfo>, SessionStoreError>> {
        Box::pin(async move {
            let data = self.data();
            if peer == PeerId::self_user() {
                return Ok(data
                    .peer_infos
                    .values()
                    .find(|p| {
                        matches!(
                            p,
                            PeerInfo::User {
                                is_self: Some(true),
                                ..
                            }
                        )
                    })
                    .cloned());
            }
            Ok(data.peer_infos.get(&peer).cloned())
        })
    }

    fn cache_peer(&self, peer: PeerInfo) -> BoxFuture<'_, Result<(), SessionStoreError>> {
        self.cache_peers(vec![peer])
    }

    fn cache_peers(&self, peers: Vec<PeerInfo>) -> BoxFuture<'_, Result<(), SessionStoreError>> {
        Box::pin(async move {
            // Only what is new or changed goes to the database.
            let changed: Vec<StoredPeer> = {
                let mut data = self.data();
                peers
                    .into_iter()
                    .filter_map(|peer| match data.peer_infos.get_mut(&peer.id()) {
                        Some(known) => {
                            let before = known.clone();
                            known.extend_info(&peer);
                            (*known != before).then(|| stored_peer(known))?
                        }
                        None => {
                            let stored = stored_peer(&peer);
                            data.peer_infos.insert(peer.id(), peer);
                            stored
                        }
                    })
                    .collect()
            };
            match &self.persist {
                Some(p) if !changed.is_empty() => p.store.save_peers(p.account, &changed).await,
                _ => Ok(()),
            }
        })
    }

    fn updates_state(&self) -> BoxFuture<'_, Result<UpdatesState, SessionStoreError>> {
        Box::pin(async move { Ok(self.data().updates_state.clone()) })
    }

    fn set_update_state(
        &self,
        update: UpdateState,
    ) -> BoxFuture<'_, Result<(), SessionStoreError>> {
        Box::pin(async move {
            let (cursor, channels, channel, fills_cursor) = {
                let mut data = self.data();
                let state = &mut data.updates_state;
                let had_cursor = state.pts != 0 || state.date != 0;
                let mut channels: Option<Vec<(i64, i32)>> = None;
                let mut channel = None;
                match update {
                    UpdateState::All(all) => {
                        *state = all;
                        channels = Some(state.channels.iter().map(|c| (c.id, c.pts)).collect());
                    }
                    UpdateState::Primary { pts, date, seq } => {
                        state.pts = pts;
                        state.date = date;
                        state.seq = seq;
                    }
                    UpdateState::Secondary { qts } => state.qts = qts,
                    UpdateState::Channel { id, pts } => {
                        state.channels.retain(|c| c.id != id);
                        state.channels.push(ChannelState { id, pts });
                        channel = Some((id, pts));
                    }
                }
                let cursor = SessionCursor {
                    pts: state.pts,
                    qts: state.qts,
                    date: state.date,
                    seq: state.seq,
                };
                let fills_cursor = !had_cursor && channel.is_none();
                (cursor, channels, channel, fills_cursor)
            };
            let Some(p) = &self.persist else {
                return Ok(());
            };
            if fills_cursor {
                p.store.init_cursor(p.account, cursor).await?;
            }
            for (id, pts) in channels.unwrap_or_default().into_iter().chain(channel) {
                p.store.init_channel_pts(p.account, id, pts).await?;
            }
            Ok(())
        })
    }
}

impl UserSession {
    /// Records where a channel stands when the session starts reading it, unless it has a
    /// position already (then the stored one is kept, here and in the database).
    pub async fn start_channel_at(
        &self,
        channel_id: i64,
        pts: i32,
    ) -> Result<(), SessionStoreError> {
        {
            let mut data = self.data();
            let channels = &mut data.updates_state.channels;
            if channels.iter().any(|c| c.id == channel_id) {
                return Ok(());
            }
            channels.push(ChannelState {
                id: channel_id,
                pts,
            });
        }
        match &self.persist {
            Some(p) => p
                .store
                .init_channel_pts(p.account, channel_id, pts)
                .await
                .map(drop),
            None => Ok(()),
        }
    }

    /// Whether the session has a position for the channel.
    pub fn has_channel(&self, channel_id: i64) -> bool {
        self.data()
            .updates_state
            .channels
            .iter()
            .any(|c| c.id == channel_id)
    }
}

impl std::fmt::Debug for UserSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserSession")
            .field("account", &self.persist.as_ref().map(|p| p.account))
            .finish_non_exhaustive()
    }
}
