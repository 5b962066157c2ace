//! Everything the fake DC remembers, behind the handle's mutex: accounts, chats, messages
//! with their pts logs, device keys and their logins, uploads, and live connections.

use super::model::{FakeEntity, MediaKind, Peer};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

pub(crate) type KeyId = [u8; 8];

/// Which message box a message lives in: private dialogs (by their two users, smaller
/// first) and basic groups share each user's common pts; channels have their own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum ChatKey {
    Private(i64, i64),
    Group(i64),
    Channel(i64),
}

impl ChatKey {
    pub(crate) fn of(peer: Peer, from: i64) -> Self {
        match peer {
            Peer::User(to) => Self::Private(to.min(from), to.max(from)),
            Peer::Chat(id) => Self::Group(id),
            Peer::Channel(id) => Self::Channel(id),
        }
    }
}

/// A message as stored; media are referenced by file id.
#[derive(Clone, Debug)]
pub(crate) struct Msg {
    pub id: i32,
    pub peer: Peer,
    pub from: i64,
    pub text: String,
    pub entities: Vec<FakeEntity>,
    pub media: Option<i64>,
    pub grouped_id: Option<i64>,
    pub reply_to: Option<i32>,
    pub random_id: Option<i64>,
    pub date: i32,
    pub edit_date: Option<i32>,
    pub deleted: bool,
}

impl Msg {
    pub(crate) fn key(&self) -> ChatKey {
        ChatKey::of(self.peer, self.from)
    }
}

#[derive(Clone, Debug)]
pub(crate) struct StoredFile {
    pub id: i64,
    pub access_hash: i64,
    pub kind: MediaKind,
    pub bytes: Arc<Vec<u8>>,
    pub file_name: Option<String>,
    pub mime_type: Option<String>,
    pub date: i32,
}

/// Something that advanced a pts: a snapshot of the message at that moment.
#[derive(Clone, Debug)]
pub(crate) enum Event {
    New(Msg),
    Edit(Msg),
    Delete(Vec<i32>),
}

#[derive(Clone, Debug)]
pub(crate) struct LogEntry {
    pub pts: i32,
    pub count: i32,
    pub event: Event,
}

pub(crate) struct UserRec {
    pub id: i64,
    pub access_hash: i64,
    pub first_name: String,
    pub phone: Option<String>,
    pub username: Option<String>,
    pub bot: bool,
    pub password: Option<String>,
    pub salt1: Vec<u8>,
    pub salt2: Vec<u8>,
    pub pts: i32,
    pub log: Vec<LogEntry>,
}

pub(crate) struct GroupRec {
    pub id: i64,
    pub title: String,
    pub members: Vec<i64>,
    pub date: i32,
}

pub(crate) struct ChannelRec {
    pub id: i64,
    pub access_hash: i64,
    pub title: String,
    pub megagroup: bool,
    /// The first member is the creator, the only one who may post in a broadcast channel.
    pub members: Vec<i64>,
    pub pts: i32,
    pub log: Vec<LogEntry>,
    pub next_msg_id: i32,
    pub date: i32,
}

impl ChannelRec {
    pub(crate) fn creator(&self) -> Option<i64> {
        self.members.first().copied()
    }
}

#[derive(Default)]
pub(crate) struct KeyRec {
    pub user: Option<i64>,
    /// Signed in with the code, waiting for the 2FA password.
    pub pending_password: Option<i64>,
}

pub(crate) struct CodeRec {
    pub phone: String,
    pub code: String,
    pub key_id: KeyId,
    pub expired: bool,
}

pub(crate) struct SrpRec {
    pub user: i64,
    pub key_id: KeyId,
    pub secure_random: Vec<u8>,
    pub srp_b: Vec<u8>,
}

pub(crate) struct Forced {
    pub method: String,
    pub code: i32,
    pub message: String,
    pub remaining: u32,
}

pub(crate) struct ConnEntry {
    pub cancel: CancellationToken,
    pub key_id: Option<KeyId>,
    /// Serialized `Updates` to push; set once the connection has answered its first request.
    pub push: Option<UnboundedSender<Vec<u8>>>,
}

pub(crate) struct State {
    pub half: [u8; 128],
    pub next_id: i64,
    pub next_common_msg_id: i32,
    pub users: BTreeMap<i64, UserRec>,
    pub phones: HashMap<String, i64>,
    pub bot_tokens: HashMap<String, i64>,
    pub groups: BTreeMap<i64, GroupRec>,
    pub channels: BTreeMap<i64, ChannelRec>,
    pub msgs: Vec<Msg>,
    pub files: HashMap<i64, StoredFile>,
    pub uploads: HashMap<i64, BTreeMap<i32, Vec<u8>>>,
    pub keys: HashMap<KeyId, KeyRec>,
    pub codes: HashMap<String, CodeRec>,
    pub last_codes: HashMap<String, String>,
    pub srp: HashMap<i64, SrpRec>,
    pub forced: Vec<Forced>,
    pub calls: Vec<String>,
    pub conns: HashMap<u64, ConnEntry>,
    pub next_conn: u64,
    pub down: bool,
    /// Replies to sends by (user, chat, random_id), replayed for a repeated random_id.
    pub sent: HashMap<(i64, ChatKey, i64), Vec<u8>>,
}

pub(crate) fn now() -> i32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i32)
        .unwrap_or(0)
}

/// A stable, non-zero access hash for an id.
pub(crate) fn access_hash_for(id: i64) -> i64 {
    ((id as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1) as i64
}

/// Digits only, `None` unless 7 to 15 of them remain after dropping '+', spaces and dashes.
pub(crate) fn normalize_phone(phone: &str) -> Option<String> {
    let digits: String = phone
        .chars()
        .filter(|c| !matches!(c, '+' | ' ' | '-'))
        .collect();
    (digits.chars().all(|c| c.is_ascii_digit()) && (7..=15).contains(&digits.len()))
        .then_some(digits)
}

impl State {
    pub(crate) fn new(half: [u8; 128]) -> Self {
        Self {
            half,
            next_id: 1000,
            next_common_msg_id: 1,
            users: BTreeMap::new(),
            phones: HashMap::new(),
            bot_tokens: HashMap::new(),
            groups: BTreeMap::new(),
            channels: BTreeMap::new(),
            msgs: Vec::new(),
            files: HashMap::new(),
            uploads: HashMap::new(),
            keys: HashMap::new(),
            codes: HashMap::new(),
            last_codes: HashMap::new(),
            srp: HashMap::new(),
            forced: Vec::new(),
            calls: Vec::new(),
            conns: HashMap::new(),
            next_conn: 1,
            down: false,
            sent: HashMap::new(),
        }
    }

    pub(crate) fn alloc_id(&mut self) -> i64 {
        self.next_id += 1;
        self.next_id
    }

    pub(crate) fn new_user(&mut self, first_name: &str) -> &mut UserRec {
        let id = self.alloc_id();
        let salt1 = super::keys::random_bytes::<40>().to_vec();
        let salt2 = super::keys::random_bytes::<16>().to_vec();
        self.users.entry(id).or_insert(UserRec {
            id,
            access_hash: access_hash_for(id),
            first_name: first_name.to_owned(),
            phone: None,
            username: None,
            bot: false,
            password: None,
            salt1,
            salt2,
            pts: 0,
            log: Vec::new(),
        })
    }

    /// The user logged in with this device key, if any.
    pub(crate) fn user_of_key(&self, key_id: &KeyId) -> Option<i64> {
        self.keys.get(key_id).and_then(|k| k.user)
    }

    /// Users who see messages of this chat.
    pub(crate) fn participants(&self, key: ChatKey) -> Vec<i64> {
        match key {
            ChatKey::Private(a, b) if a == b => vec![a],
            ChatKey::Private(a, b) => vec![a, b],
            ChatKey::Group(id) => self
                .groups
                .get(&id)
                .map(|g| g.members.clone())
                .unwrap_or_default(),
            ChatKey::Channel(id) => self
                .channels
                .get(&id)
                .map(|c| c.members.clone())
                .unwrap_or_default(),
        }
    }

    pub(crate) fn find_msg(&self, key: ChatKey, id: i32) -> Option<usize> {
        self.msgs
            .iter()
            .position(|m| m.id == id && m.key() == key && !m.deleted)
    }

    /// The stored message `id` in the chat a caller names with `peer`; for private
    /// dialogs, `peer` is `Peer::User(other)` from the point of view of `viewer`.
    pub(crate) fn find_in_peer(&self, peer: Peer, viewer: Option<i64>, id: i32) -> Option<usize> {
        match (peer, viewer) {
            (Peer::User(_), Some(me)) => self.find_msg(ChatKey::of(peer, me), id),
            (Peer::User(user), None) => self.msgs.iter().position(|m| {
                m.id == id
                    && !m.deleted
                    && matches!(m.key(), ChatKey::Private(a, b) if a == user || b == user)
            }),
            _ => self.find_msg(ChatKey::of(peer, 0), id),
        }
    }

    /// Makes the next message id for a chat.
    pub(crate) fn next_msg_id(&mut self, key: ChatKey) -> i32 {
        match key {
            ChatKey::Channel(id) => match self.channels.get_mut(&id) {
                Some(c) => {
                    c.next_msg_id += 1;
                    c.next_msg_id
                }
                None => 0,
            },
            _ => {
                let id = self.next_common_msg_id;
                self.next_common_msg_id += 1;
                id
            }
        }
    }
}
