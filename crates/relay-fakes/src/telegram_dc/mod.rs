//! A fake Telegram DC speaking MTProto 2 over the Full TCP transport, for the unmodified
//! grammers 0.11 client: login by code and 2FA (real SRP check), bot login, pushed
//! updates with real pts bookkeeping and getDifference/getChannelDifference catch-up,
//! sending text/media/albums with uploads, edits, deletes, downloads, and forced errors.
//!
//! Keys: grammers needs a pre-seeded auth key (see [`keys`]). Give every device
//! [`device_auth_key`]`(&fake.key_half())`, set it on DC options 1..=5 all pointing at
//! [`RunningDc::addr`]; each distinct key is one device authorization, as on Telegram.
//!
//! Users, chats and channels are created with `add_*`; the first member of a channel or
//! group is its creator (the only one who may post in a broadcast channel). Access hashes
//! are handed out but not checked. Message ids of private chats and basic groups come from
//! one global counter, channels count their own.

mod auth;
mod conn;
mod crypto;
mod dialogs;
mod events;
mod files;
pub mod keys;
mod messaging;
mod model;
mod reply;
mod rpc;
mod state;
mod tl;

pub use keys::{DEFAULT_KEY_HALF_HEX, default_key_half, device_auth_key, parse_key_half};
pub use model::{FakeEntity, FakeMedia, FakeMessage, MediaKind, Peer};

use messaging::NewMsg;
use state::{ChannelRec, ChatKey, ConnEntry, Event, Forced, GroupRec, Msg, State, now};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// A handle on a fake DC; clones share it.
#[derive(Clone)]
pub struct FakeDc {
    inner: Arc<Mutex<State>>,
}

impl Default for FakeDc {
    fn default() -> Self {
        Self::new()
    }
}

/// A fake DC listening on a port until dropped (which also closes its connections).
pub struct RunningDc {
    pub fake: FakeDc,
    addr: SocketAddr,
    shutdown: CancellationToken,
}

impl RunningDc {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for RunningDc {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl FakeDc {
    /// A fake using [`DEFAULT_KEY_HALF_HEX`].
    pub fn new() -> Self {
        Self::with_key_half(default_key_half())
    }

    pub fn with_key_half(half: [u8; 128]) -> Self {
        Self {
            inner: Arc::new(Mutex::new(State::new(half))),
        }
    }

    pub fn key_half(&self) -> [u8; 128] {
        self.state().half
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Listens on `addr` (port 0 picks one).
    pub async fn start(&self, addr: SocketAddr) -> std::io::Result<RunningDc> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shutdown = CancellationToken::new();
        let token = shutdown.clone();
        let dc = self.clone();
        tokio::spawn(async move {
            loop {
                let stream = tokio::select! {
                    _ = token.cancelled() => break,
                    accepted = listener.accept() => match accepted {
                        Ok((stream, _)) => stream,
                        Err(_) => continue,
                    },
                };
                let cancel = token.child_token();
                let conn_id = {
                    let mut st = dc.state();
                    if st.down {
                        continue;
                    }
                    let id = st.next_conn;
                    st.next_conn += 1;
                    st.conns.insert(
                        id,
                        ConnEntry {
                            cancel: cancel.clone(),
                            key_id: None,
                            push: None,
                        },
                    );
                    id
                };
                tokio::spawn(conn::serve(dc.clone(), stream, conn_id, cancel));
            }
        });
        Ok(RunningDc {
            fake: self.clone(),
            addr,
            shutdown,
        })
    }

    /// A user who logs in with this phone; `password` turns 2FA on. Returns the user id.
    pub fn add_user(&self, phone: &str, first_name: &str, password: Option<&str>) -> i64 {
        let mut st = self.state();
        let phone = state::normalize_phone(phone).unwrap_or_else(|| phone.to_owned());
        let user = st.new_user(first_name);
        user.phone = Some(phone.clone());
        user.password = password.map(str::to_owned);
        let id = user.id;
        st.phones.insert(phone, id);
        id
    }

    /// A bot that logs in with `auth.importBotAuthorization` and this token.
    pub fn add_bot(&self, token: &str, username: &str) -> i64 {
        let mut st = self.state();
        let user = st.new_user(username);
        user.bot = true;
        user.username = Some(username.to_owned());
        let id = user.id;
        st.bot_tokens.insert(token.to_owned(), id);
        id
    }

    /// The last login code sent to this phone.
    pub fn last_code(&self, phone: &str) -> Option<String> {
        let phone = state::normalize_phone(phone)?;
        self.state().last_codes.get(&phone).cloned()
    }

    /// Every code sent so far now fails with `PHONE_CODE_EXPIRED`.
    pub fn expire_codes(&self) {
        for code in self.state().codes.values_mut() {
            code.expired = true;
        }
    }

    /// A channel (a supergroup if `megagroup`); `members[0]` is its creator.
    pub fn add_channel(&self, title: &str, megagroup: bool, members: &[i64]) -> i64 {
        let mut st = self.state();
        let id = st.alloc_id();
        st.channels.insert(
            id,
            ChannelRec {
                id,
                access_hash: state::access_hash_for(id),
                title: title.to_owned(),
                megagroup,
                members: members.to_vec(),
                pts: 0,
                log: Vec::new(),
                next_msg_id: 0,
                date: now(),
            },
        );
        id
    }

    /// A basic group; `members[0]` is its creator.
    pub fn add_group(&self, title: &str, members: &[i64]) -> i64 {
        let mut st = self.state();
        let id = st.alloc_id();
        st.groups.insert(
            id,
            GroupRec {
                id,
                title: title.to_owned(),
                members: members.to_vec(),
                date: now(),
            },
        );
        id
    }

    /// `from` posts text in `chat` (for `Peer::User(x)`, a private message to `x`). It is
    /// pushed to the members' live sessions and kept for getDifference. Returns its id.
    /// The access hash a member sees for a channel (what a client caches from its dialogs).
    pub fn channel_access_hash(&self, id: i64) -> i64 {
        state::access_hash_for(id)
    }

    pub fn post(&self, chat: Peer, from: i64, text: &str) -> i32 {
        self.post_items(chat, from, vec![(text.to_owned(), None)], false)
            .first()
            .copied()
            .unwrap_or(0)
    }

    /// Like [`Self::post`] with formatting entities (offsets in UTF-16 code units, as
    /// Telegram's).
    pub fn post_formatted(
        &self,
        chat: Peer,
        from: i64,
        text: &str,
        entities: Vec<FakeEntity>,
    ) -> i32 {
        let mut st = self.state();
        let item = NewMsg {
            text: text.to_owned(),
            entities,
            media: None,
            reply_to: None,
            random_id: None,
            grouped_id: None,
        };
        let (msgs, _) = messaging::create(&mut st, chat, from, vec![item], None);
        msgs.first().map(|m| m.id).unwrap_or(0)
    }

    /// Like [`Self::post`] with a photo or document and its caption.
    pub fn post_media(&self, chat: Peer, from: i64, caption: &str, media: FakeMedia) -> i32 {
        self.post_items(chat, from, vec![(caption.to_owned(), Some(media))], false)
            .first()
            .copied()
            .unwrap_or(0)
    }

    /// An album: one message per item, all with the same grouped_id.
    pub fn post_album(&self, chat: Peer, from: i64, items: Vec<(String, FakeMedia)>) -> Vec<i32> {
        let items = items.into_iter().map(|(c, m)| (c, Some(m))).collect();
        self.post_items(chat, from, items, true)
    }

    fn post_items(
        &self,
        chat: Peer,
        from: i64,
        items: Vec<(String, Option<FakeMedia>)>,
        grouped: bool,
    ) -> Vec<i32> {
        let mut st = self.state();
        let grouped_id = grouped.then(|| st.alloc_id());
        let items = items
            .into_iter()
            .map(|(text, media)| NewMsg {
                text,
                entities: Vec::new(),
                media: media
                    .map(|m| files::store_file(&mut st, m.kind, m.bytes, m.file_name, m.mime_type)),
                reply_to: None,
                random_id: None,
                grouped_id,
            })
            .collect();
        let (msgs, _) = messaging::create(&mut st, chat, from, items, None);
        msgs.iter().map(|m| m.id).collect()
    }

    /// The sender edits the text of message `id` in `chat` (entities are dropped).
    pub fn edit(&self, chat: Peer, id: i32, text: &str) {
        let mut st = self.state();
        let Some(index) = st.find_in_peer(chat, None, id) else {
            return;
        };
        let msg = &mut st.msgs[index];
        msg.text = text.to_owned();
        msg.entities.clear();
        msg.edit_date = Some(now());
        let snapshot = msg.clone();
        st.record(snapshot.key(), Event::Edit(snapshot), None, None);
    }

    /// Deletes messages of `chat`.
    pub fn delete(&self, chat: Peer, ids: &[i32]) {
        let mut st = self.state();
        let targets = ids
            .iter()
            .filter_map(|&id| {
                st.find_in_peer(chat, None, id)
                    .map(|i| (st.msgs[i].key(), id))
            })
            .collect();
        messaging::delete_in(&mut st, targets, None, None);
    }

    /// Every message of a chat, oldest first, deleted ones included (flagged). For
    /// `Peer::User(x)`: every private message `x` sent or received.
    pub fn messages(&self, chat: Peer) -> Vec<FakeMessage> {
        let st = self.state();
        st.msgs
            .iter()
            .filter(|m| match (chat, m.key()) {
                (Peer::User(x), ChatKey::Private(a, b)) => a == x || b == x,
                (peer, key) => ChatKey::of(peer, 0) == key,
            })
            .map(|m| to_fake(&st, m))
            .collect()
    }

    /// The next `times` calls of `method` (TL name, e.g. "messages.sendMessage") fail with
    /// `rpc_error(code, message)`.
    pub fn force_error(&self, method: &str, code: i32, message: &str, times: u32) {
        self.state().forced.push(Forced {
            method: method.to_owned(),
            code,
            message: message.to_owned(),
            remaining: times,
        });
    }

    /// Terminates every device of the user: their calls get 401 AUTH_KEY_UNREGISTERED.
    pub fn revoke(&self, user_id: i64) {
        for key in self.state().keys.values_mut() {
            if key.user == Some(user_id) {
                key.user = None;
            }
            if key.pending_password == Some(user_id) {
                key.pending_password = None;
            }
        }
    }

    /// Drops every TCP connection now.
    pub fn disconnect_all(&self) {
        for conn in self.state().conns.values() {
            conn.cancel.cancel();
        }
    }

    /// While down, connections are accepted and closed at once.
    pub fn set_down(&self, down: bool) {
        let mut st = self.state();
        st.down = down;
        if down {
            for conn in st.conns.values() {
                conn.cancel.cancel();
            }
        }
    }

    /// TL method names received, in order (wrappers unwrapped).
    pub fn calls(&self) -> Vec<String> {
        self.state().calls.clone()
    }

    /// Live connections whose device key is logged in as this user.
    pub fn connected_sessions(&self, user_id: i64) -> usize {
        let st = self.state();
        st.conns
            .values()
            .filter(|c| {
                c.key_id
                    .is_some_and(|k| st.user_of_key(&k) == Some(user_id))
            })
            .count()
    }
}

fn to_fake(st: &State, m: &Msg) -> FakeMessage {
    FakeMessage {
        id: m.id,
        peer: m.peer,
        from: m.from,
        text: m.text.clone(),
        entities: m.entities.clone(),
        media: m.media.and_then(|id| st.files.get(&id)).map(|f| FakeMedia {
            kind: f.kind,
            bytes: f.bytes.as_ref().clone(),
            file_name: f.file_name.clone(),
            mime_type: f.mime_type.clone(),
        }),
        grouped_id: m.grouped_id,
        reply_to: m.reply_to,
        random_id: m.random_id,
        edited: m.edit_date.is_some(),
        deleted: m.deleted,
    }
}
