//! What the fake Discord knows: bots, guilds, channels and their messages, webhooks,
//! gateway sessions with their dispatch logs, nonces, and rate-limit settings.

use super::model::{self, NewMessage, Snowflakes};
use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use twilight_model::channel::Message;
use twilight_model::user::User;

/// Something the test asks a live gateway connection to do.
#[derive(Debug, Clone)]
pub enum GatewayCommand {
    /// Send this text frame.
    Frame(String),
    /// Op 7: ask the client to reconnect and resume.
    Reconnect,
    /// Op 9 with `d` = resumable.
    InvalidSession(bool),
    /// Close with this code.
    Close(u16),
    /// Cut TCP without a close frame.
    Drop,
}

#[derive(Debug, Clone)]
pub struct Bot {
    pub user: User,
    pub token: String,
}

#[derive(Debug, Clone)]
pub struct Guild {
    pub id: u64,
    pub name: String,
    pub bots: HashSet<u64>,
}

#[derive(Debug, Clone)]
pub struct Channel {
    pub id: u64,
    pub guild_id: u64,
    pub name: String,
    pub messages: Vec<Message>,
    /// For a thread: the channel it was started in (a thread is a channel of its own).
    pub parent_id: Option<u64>,
}

#[derive(Debug, Clone)]
pub struct Webhook {
    pub id: u64,
    pub token: String,
    pub channel_id: u64,
    pub name: String,
}

#[derive(Debug)]
pub struct Session {
    pub bot_id: u64,
    pub intents: u64,
    pub seq: u64,
    /// Every dispatch sent on this session, for Resume to replay.
    pub log: Vec<(u64, String)>,
    pub conn: Option<mpsc::UnboundedSender<GatewayCommand>>,
    /// Which connection `conn` belongs to, so a stale connection never unhooks a newer one.
    pub conn_id: u64,
}

/// Rate-limit settings and counters.
#[derive(Debug, Default)]
pub struct Limits {
    /// Per route bucket: at most `limit` requests per `window`.
    pub per_bucket: Option<(u32, Duration)>,
    /// Off: no global 50 requests/s per token (benchmarks).
    pub global_off: bool,
    pub buckets: HashMap<(String, String), (u32, Instant)>,
    /// Forced 429s: the next requests whose path starts with the prefix get one each.
    pub forced: VecDeque<(String, Duration)>,
    /// Late answers: the next requests whose path starts with the prefix are carried out,
    /// then answered only after the wait.
    pub late: VecDeque<(String, Duration)>,
    /// Per-token requests in the current second, for the global 50/s limit.
    pub global: HashMap<String, (u32, Instant)>,
}

pub const GLOBAL_LIMIT_PER_SEC: u32 = 50;

#[derive(Debug, Default)]
pub struct State {
    pub bots: Vec<Bot>,
    pub guilds: Vec<Guild>,
    pub channels: HashMap<u64, Channel>,
    pub webhooks: HashMap<u64, Webhook>,
    pub users: HashMap<u64, User>,
    pub nonces: HashMap<(u64, String), (u64, u64, Instant)>,
    pub sessions: HashMap<String, Session>,
    pub attachments: HashMap<u64, Vec<u8>>,
    /// How often each attachment was downloaded from the CDN.
    pub attachment_downloads: HashMap<u64, usize>,
    /// The `avatar_url` a webhook message was sent with, by message id.
    pub webhook_avatars: HashMap<u64, String>,
    pub gateway_down: bool,
    pub heartbeat_ms: u64,
    pub limits: Limits,
    /// Every request, as `METHOD path`, for tests that count calls.
    pub requests: Vec<String>,
}

impl State {
    pub fn bot_by_token(&self, token: &str) -> Option<&Bot> {
        self.bots.iter().find(|b| b.token == token)
    }

    pub fn guild(&self, id: u64) -> Option<&Guild> {
        self.guilds.iter().find(|g| g.id == id)
    }

    pub fn bot_in_channel(&self, bot_id: u64, channel_id: u64) -> bool {
        self.channels
            .get(&channel_id)
            .and_then(|c| self.guild(c.guild_id))
            .is_some_and(|g| g.bots.contains(&bot_id))
    }

    pub fn find_message(&self, channel_id: u64, message_id: u64) -> Option<&Message> {
        self.channels
            .get(&channel_id)?
            .messages
            .iter()
            .find(|m| m.id.get() == message_id)
    }

    /// Stores a message and dispatches MESSAGE_CREATE to the bots of its guild.
    pub fn create_message(
        &mut self,
        ids: &Snowflakes,
        channel_id: u64,
        author: User,
        new: NewMessage,
    ) -> Option<Message> {
        let guild_id = self.channels.get(&channel_id)?.guild_id;
        let referenced = new
            .reply_to
            .and_then(|mid| self.find_message(channel_id, mid).cloned());
        let msg = model::message(
            ids.next(),
            channel_id,
            Some(guild_id),
            author,
            new,
            referenced,
        );
        self.channels
            .get_mut(&channel_id)?
            .messages
            .push(msg.clone());
        let data = serde_json::to_value(&msg).unwrap_or_default();
        self.dispatch(guild_id, "MESSAGE_CREATE", data, Some(&msg));
        Some(msg)
    }

    /// Sends a dispatch to every session of every bot in a guild (logged for Resume).
    pub fn dispatch(
        &mut self,
        guild_id: u64,
        event: &str,
        data: serde_json::Value,
        message: Option<&Message>,
    ) {
        let members = self
            .guild(guild_id)
            .map(|g| g.bots.clone())
            .unwrap_or_default();
        for session in self.sessions.values_mut() {
            if !members.contains(&session.bot_id) {
                continue;
            }
            let mut data = data.clone();
            // Without MESSAGE_CONTENT, content fields arrive empty (except the bot's own).
            let own = message.is_some_and(|m| m.author.id.get() == session.bot_id);
            if message.is_some() && session.intents & (1 << 15) == 0 && !own {
                data["content"] = serde_json::json!("");
                for key in ["embeds", "attachments", "components"] {
                    data[key] = serde_json::json!([]);
                }
            }
            session.seq += 1;
            let frame = dispatch_frame(session.seq, event, &data);
            session.log.push((session.seq, frame.clone()));
            if let Some(conn) = &session.conn {
                let _ = conn.send(GatewayCommand::Frame(frame));
            }
        }
    }
}

/// A dispatch frame with `op`, `s` and `t` before `d`, as twilight's parser needs.
pub fn dispatch_frame(seq: u64, event: &str, data: &serde_json::Value) -> String {
    format!(r#"{{"op":0,"s":{seq},"t":"{event}","d":{data}}}"#)
}
