//! A fake Discord: REST v10 under `/api/v10`, a gateway websocket, and webhooks, close
//! enough to the real platform that unmodified twilight works against it. Tests drive it
//! ("user U posts M in channel C", "drop the connection") and inspect it ("what was posted
//! in C, in order").
//!
//! Point twilight-http at it with `ClientBuilder::proxy(addr, true)`, twilight-gateway with
//! `ConfigBuilder::proxy_url("ws://addr")`, and Relay with `RELAY_DISCORD_API_URL` /
//! `RELAY_DISCORD_GATEWAY_URL`.

mod gateway;
pub mod model;
mod rest;
mod schema;
mod state;

pub use state::GatewayCommand;

use model::{NewMessage, Snowflakes};
use state::{Bot, Channel, Guild, State, Webhook};
use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use twilight_model::channel::Message;

/// A handle on a fake Discord; clones share it.
#[derive(Clone, Default)]
pub struct FakeDiscord {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    state: Mutex<State>,
    ids: Snowflakes,
    addr: Mutex<Option<SocketAddr>>,
}

/// A fake running on a port until dropped.
pub struct RunningFake {
    pub fake: FakeDiscord,
    pub addr: SocketAddr,
    shutdown: CancellationToken,
}

impl Drop for RunningFake {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl RunningFake {
    /// `http://addr`, what `RELAY_DISCORD_API_URL` takes.
    pub fn api_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `ws://addr`, what `RELAY_DISCORD_GATEWAY_URL` takes.
    pub fn gateway_url(&self) -> String {
        format!("ws://{}", self.addr)
    }
}

impl FakeDiscord {
    pub fn new() -> Self {
        let fake = Self::default();
        fake.state().heartbeat_ms = 1000;
        fake
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn next_id(&self) -> u64 {
        self.inner.ids.next()
    }

    /// Serves on `addr` (port 0 picks one) until the returned value is dropped.
    pub async fn start(self, addr: &str) -> std::io::Result<RunningFake> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        *self.inner.addr.lock().unwrap_or_else(|p| p.into_inner()) = Some(addr);
        let shutdown = CancellationToken::new();
        let app = rest::router(self.clone()).merge(gateway::router(self.clone()));
        let token = shutdown.clone();
        tokio::spawn(async move {
            // Small replies and gateway frames go out at once (no Nagle wait for an ACK).
            let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
                let _ = tcp.set_nodelay(true);
            });
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(token.cancelled_owned())
                .await;
        });
        Ok(RunningFake {
            fake: self,
            addr,
            shutdown,
        })
    }

    fn base_url(&self) -> String {
        let addr = *self.inner.addr.lock().unwrap_or_else(|p| p.into_inner());
        addr.map(|a| format!("http://{a}")).unwrap_or_default()
    }

    // ---- arranging the world ----

    /// A bot account with this token; returns its user id.
    pub fn add_bot(&self, token: &str, name: &str) -> u64 {
        let id = self.next_id();
        self.state().bots.push(Bot {
            user: model::user(id, name, true),
            token: token.to_owned(),
        });
        id
    }

    /// A guild with these bots in it.
    pub fn add_guild(&self, name: &str, bots: &[u64]) -> u64 {
        let id = self.next_id();
        self.state().guilds.push(Guild {
            id,
            name: name.to_owned(),
            bots: bots.iter().copied().collect::<HashSet<_>>(),
        });
        id
    }

    pub fn add_channel(&self, guild_id: u64, name: &str) -> u64 {
        let id = self.next_id();
        self.state().channels.insert(
            id,
            Channel {
                id,
                guild_id,
                name: name.to_owned(),
                messages: Vec::new(),
                parent_id: None,
            },
        );
        id
    }

    /// A public thread in `parent` (a channel of type 11 with its own id: bots read and
    /// post in it by that id, webhooks of the parent post in it with `?thread_id=`).
    pub fn add_thread(&self, parent: u64, name: &str) -> u64 {
        let id = self.next_id();
        let mut state = self.state();
        let guild_id = state.channels.get(&parent).map_or(0, |c| c.guild_id);
        state.channels.insert(
            id,
            Channel {
                id,
                guild_id,
                name: name.to_owned(),
                messages: Vec::new(),
                parent_id: Some(parent),
            },
        );
        id
    }

    /// A webhook on a channel; returns its id and token.
    pub fn add_webhook(&self, channel_id: u64, name: &str) -> (u64, String) {
        let id = self.next_id();
        let token = format!("whtoken{id}");
        self.state().webhooks.insert(
            id,
            Webhook {
                id,
                token: token.clone(),
                channel_id,
                name: name.to_owned(),
            },
        );
        (id, token)
    }

    /// A human user; returns its id.
    pub fn add_user(&self, name: &str) -> u64 {
        let id = self.next_id();
        self.state().users.insert(id, model::user(id, name, false));
        id
    }

    /// Gives a user an avatar (`hash`: 32 hex digits), shown on their messages from now on.
    pub fn set_avatar(&self, user_id: u64, hash: &str) {
        let hash = twilight_model::util::ImageHash::parse(hash.as_bytes()).expect("an avatar hash");
        if let Some(user) = self.state().users.get_mut(&user_id) {
            user.avatar = Some(hash);
        }
    }

    // ---- acting as users ----

    /// User `user_id` posts `content` in a channel; bots in the guild get MESSAGE_CREATE.
    pub fn user_posts(&self, channel_id: u64, user_id: u64, content: &str) -> Option<Message> {
        self.user_sends(
            channel_id,
            user_id,
            NewMessage {
                content: content.to_owned(),
                ..Default::default()
            },
        )
    }

    pub fn user_sends(&self, channel_id: u64, user_id: u64, new: NewMessage) -> Option<Message> {
        let mut state = self.state();
        let author = state.users.get(&user_id)?.clone();
        state.create_message(&self.inner.ids, channel_id, author, new)
    }

    /// User `user_id` posts `content` with one file, served by the fake's CDN.
    pub fn user_posts_file(
        &self,
        channel_id: u64,
        user_id: u64,
        content: &str,
        filename: &str,
        bytes: Vec<u8>,
    ) -> Option<Message> {
        self.user_posts_files(channel_id, user_id, content, vec![(filename, bytes)])
    }

    /// User `user_id` posts `content` with several files (`(file name, bytes)`), served by
    /// the fake's CDN. Discord takes at most 10 attachments a message: more is refused
    /// (`None`), as the client would be.
    pub fn user_posts_files(
        &self,
        channel_id: u64,
        user_id: u64,
        content: &str,
        files: Vec<(&str, Vec<u8>)>,
    ) -> Option<Message> {
        if files.len() > 10 {
            return None;
        }
        let mut attachments = Vec::new();
        for (filename, bytes) in files {
            let id = self.next_id();
            let url = format!("{}/attachments/{id}/{filename}", self.base_url());
            attachments.push(twilight_model::channel::Attachment {
                content_type: None,
                ephemeral: false,
                duration_secs: None,
                filename: filename.to_owned(),
                flags: None,
                description: None,
                height: None,
                id: twilight_model::id::Id::new(id),
                placeholder: None,
                placeholder_version: None,
                proxy_url: url.clone(),
                size: bytes.len() as u64,
                title: None,
                url,
                waveform: None,
                width: None,
            });
            self.state().attachments.insert(id, bytes);
        }
        self.user_sends(
            channel_id,
            user_id,
            NewMessage {
                content: content.to_owned(),
                attachments,
                ..Default::default()
            },
        )
    }

    /// Edits a message as its author would; bots get a full MESSAGE_UPDATE.
    pub fn user_edits(&self, channel_id: u64, message_id: u64, content: &str) -> Option<Message> {
        let mut state = self.state();
        rest::edit_message(
            &mut state,
            channel_id,
            message_id,
            Some(content.to_owned()),
            None,
        )
    }

    pub fn user_deletes(&self, channel_id: u64, message_id: u64) -> bool {
        rest::delete_message(&mut self.state(), channel_id, message_id)
    }

    // ---- the gateway ----

    /// Sends a command to every live gateway connection.
    pub fn gateway_command(&self, command: GatewayCommand) {
        for session in self.state().sessions.values() {
            if let Some(conn) = &session.conn {
                let _ = conn.send(command.clone());
            }
        }
    }

    /// Refuses (and, with `true`, cuts) gateway connections until called with `false`.
    pub fn set_gateway_down(&self, down: bool) {
        self.state().gateway_down = down;
        if down {
            self.gateway_command(GatewayCommand::Drop);
        }
    }

    /// Forgets every session, so the next Resume is refused and the client identifies anew.
    pub fn forget_sessions(&self) {
        self.state().sessions.clear();
    }

    /// How many gateway connections are live.
    pub fn live_connections(&self) -> usize {
        self.state()
            .sessions
            .values()
            .filter(|s| s.conn.is_some())
            .count()
    }

    pub fn set_heartbeat_interval(&self, ms: u64) {
        self.state().heartbeat_ms = ms.max(1);
    }

    // ---- rate limits ----

    /// Turns the global 50 requests/s per token on or off (off for benchmarks).
    pub fn set_global_limit(&self, on: bool) {
        self.state().limits.global_off = !on;
    }

    /// Each route bucket allows `limit` requests per `window`; more get 429.
    pub fn set_route_limit(&self, limit: u32, window: Duration) {
        self.state().limits.per_bucket = Some((limit, window));
    }

    /// The next request whose path (after `/api/v10/`) starts with `path_prefix` gets a
    /// 429 asking to wait `retry_after`. Call several times for several 429s.
    pub fn force_429(&self, path_prefix: &str, retry_after: Duration) {
        self.state()
            .limits
            .forced
            .push_back((path_prefix.to_owned(), retry_after));
    }

    /// The next request whose path (after `/api/v10/`) starts with `path_prefix` is carried
    /// out as usual (a message is stored), but answered only after `wait`: a client that
    /// gives up sooner sees a timeout for a request that did arrive. Call several times for
    /// several late answers.
    pub fn answer_late(&self, path_prefix: &str, wait: Duration) {
        self.state()
            .limits
            .late
            .push_back((path_prefix.to_owned(), wait));
    }

    // ---- inspecting ----

    /// How many messages the channel holds (without copying them).
    pub fn message_count(&self, channel_id: u64) -> usize {
        self.state()
            .channels
            .get(&channel_id)
            .map_or(0, |c| c.messages.len())
    }

    /// The messages in a channel, oldest first.
    pub fn messages(&self, channel_id: u64) -> Vec<Message> {
        self.state()
            .channels
            .get(&channel_id)
            .map(|c| c.messages.clone())
            .unwrap_or_default()
    }

    /// The bytes of an uploaded attachment.
    pub fn attachment_bytes(&self, attachment_id: u64) -> Option<Vec<u8>> {
        self.state().attachments.get(&attachment_id).cloned()
    }

    /// How often the CDN served an attachment.
    pub fn attachment_downloads(&self, attachment_id: u64) -> usize {
        self.state()
            .attachment_downloads
            .get(&attachment_id)
            .copied()
            .unwrap_or(0)
    }

    /// An attachment's bytes as the CDN serves them (counted).
    pub(crate) fn download_attachment(&self, attachment_id: u64) -> Option<Vec<u8>> {
        let mut state = self.state();
        let bytes = state.attachments.get(&attachment_id).cloned()?;
        *state.attachment_downloads.entry(attachment_id).or_default() += 1;
        Some(bytes)
    }

    /// The avatar URL a webhook message was sent with.
    pub fn webhook_avatar(&self, message_id: u64) -> Option<String> {
        self.state().webhook_avatars.get(&message_id).cloned()
    }

    /// Requests received, as `METHOD /api/v10/path`, in order.
    pub fn requests(&self) -> Vec<String> {
        self.state().requests.clone()
    }
}
