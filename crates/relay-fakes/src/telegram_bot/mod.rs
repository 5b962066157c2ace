//! A fake Telegram Bot API: `/bot{token}/{method}` with the real JSON shapes (checked
//! against Telegram's own method list in tests), long polling, the real checks of every
//! call's parameters (`schema`: JSON objects and their field types, entities, 4096
//! characters of text, 1024 of caption, albums of 2 to 10 that mix only what Telegram
//! mixes, 50 MB uploads), errors as `{"ok": false, "error_code", "description"}` in the
//! Bot API's words, and 429s with `retry_after`.
//!
//! Point teloxide-core at it with `Bot::new(token).set_api_url(url)`.

mod methods;
mod params;
mod schema;
mod sending;
mod state;

use axum::Router;
use axum::routing::{any, get};
use serde_json::Value;
use serde_json::json;
use state::State;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// A handle on a fake Bot API; clones share it.
#[derive(Clone, Default)]
pub struct FakeBotApi {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    state: Mutex<State>,
    /// Wakes long polls when an update arrives.
    updates: Notify,
}

/// A fake running on a port until dropped.
pub struct RunningBotApi {
    pub fake: FakeBotApi,
    pub addr: SocketAddr,
    shutdown: CancellationToken,
}

impl RunningBotApi {
    /// What `Bot::set_api_url` and `RELAY_TELEGRAM_BOT_API_URL` take.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }
}

impl Drop for RunningBotApi {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl FakeBotApi {
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub async fn start(self, addr: &str) -> std::io::Result<RunningBotApi> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shutdown = CancellationToken::new();
        let app = Router::new()
            .route("/{bot_token}/{method}", any(methods::handle))
            .route("/file/{bot_token}/{*path}", get(methods::download))
            .layer(axum::extract::DefaultBodyLimit::max(60 * 1024 * 1024))
            .with_state(self.clone());
        let token = shutdown.clone();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(token.cancelled_owned())
                .await;
        });
        Ok(RunningBotApi {
            fake: self,
            addr,
            shutdown,
        })
    }

    /// A bot with this token; returns its user id.
    pub fn add_bot(&self, token: &str, username: &str) -> i64 {
        self.state().add_bot(token, username)
    }

    /// A chat (`private`, `group`, `supergroup` or `channel`) with these bots in it.
    pub fn add_chat(&self, kind: &str, title: &str, bots: &[i64]) -> i64 {
        self.state().add_chat(kind, title, bots)
    }

    /// A forum (a supergroup with topics) with these bots in it.
    pub fn add_forum(&self, title: &str, bots: &[i64]) -> i64 {
        let mut state = self.state();
        let id = state.add_chat("supergroup", title, bots);
        if let Some(chat) = state.chats.get_mut(&id) {
            chat.forum = true;
        }
        id
    }

    /// Opens a topic in a forum; returns its id (that of the message that opened it).
    pub fn add_topic(&self, forum: i64, name: &str) -> Option<i64> {
        self.state().add_topic(forum, name)
    }

    /// A person posts text in a forum topic (`message_thread_id`, `is_topic_message`).
    pub fn user_posts_in_topic(
        &self,
        chat_id: i64,
        topic: i64,
        user_name: &str,
        text: &str,
    ) -> Option<Value> {
        let message = {
            let mut state = self.state();
            state.topic_of(chat_id, Some(topic)).ok()?;
            let from = state.user(user_name);
            let content =
                json!({"text": text, "message_thread_id": topic, "is_topic_message": true});
            state.store(chat_id, from, content, None)?
        };
        self.inner.updates.notify_waiters();
        Some(message)
    }

    /// A user posts a photo with a caption; the bots in the chat get the update.
    pub fn user_posts_photo(
        &self,
        chat_id: i64,
        user_name: &str,
        caption: &str,
        bytes: Vec<u8>,
    ) -> Option<Value> {
        let message = {
            let mut state = self.state();
            let size = bytes.len();
            let file_id = state.file_id(bytes);
            let from = state.user(user_name);
            let photo = sending::media_object("photo", &file_id, size, "photo.jpg");
            state.store(
                chat_id,
                from,
                json!({"photo": photo, "caption": caption}),
                None,
            )?
        };
        self.inner.updates.notify_waiters();
        Some(message)
    }

    /// A person posts an album: one message per item (`(kind, file name, bytes,
    /// caption)`, kind `photo`, `video`, `audio` or `document`), all with the same
    /// `media_group_id`, each its own update, as Telegram delivers them.
    pub fn user_posts_album(
        &self,
        chat_id: i64,
        user_name: &str,
        items: Vec<(&str, &str, Vec<u8>, &str)>,
    ) -> Vec<Value> {
        let sent = {
            let mut state = self.state();
            state.next_group_id += 1;
            let group = format!("album{}", state.next_group_id);
            let from = state.user(user_name);
            let mut sent = Vec::new();
            for (kind, file_name, bytes, caption) in items {
                let size = bytes.len();
                let file_id = state.file_id(bytes);
                let mut content = json!({"media_group_id": group});
                content[kind] = sending::media_object(kind, &file_id, size, file_name);
                if !caption.is_empty() {
                    content["caption"] = json!(caption);
                }
                sent.extend(state.store(chat_id, from.clone(), content, None));
            }
            sent
        };
        self.inner.updates.notify_waiters();
        sent
    }

    pub fn user_posts(&self, chat_id: i64, user_name: &str, text: &str) -> Option<Value> {
        let message = self.state().user_message(chat_id, user_name, text)?;
        self.inner.updates.notify_waiters();
        Some(message)
    }

    /// Like [`Self::user_posts`] with formatting: `entities` as the Bot API's
    /// `MessageEntity` array (UTF-16 offsets).
    pub fn user_posts_formatted(
        &self,
        chat_id: i64,
        user_name: &str,
        text: &str,
        entities: Value,
    ) -> Option<Value> {
        let message = {
            let mut state = self.state();
            let from = state.user(user_name);
            state.store(
                chat_id,
                from,
                json!({"text": text, "entities": entities}),
                None,
            )?
        };
        self.inner.updates.notify_waiters();
        Some(message)
    }

    /// A person replies to message `reply_to` of the chat; the update carries the parent as
    /// `reply_to_message` (without its own parent, as the Bot API sends it).
    pub fn user_replies(
        &self,
        chat_id: i64,
        user_name: &str,
        text: &str,
        reply_to: i64,
    ) -> Option<Value> {
        let message = {
            let mut state = self.state();
            let mut parent = state.find(chat_id, reply_to)?.clone();
            if let Some(parent) = parent.as_object_mut() {
                parent.remove("reply_to_message");
            }
            let from = state.user(user_name);
            state.store(
                chat_id,
                from,
                json!({"text": text, "reply_to_message": parent}),
                None,
            )?
        };
        self.inner.updates.notify_waiters();
        Some(message)
    }

    /// The person edits their message; bots get an `edited_message` (or channel post).
    pub fn user_edits(&self, chat_id: i64, message_id: i64, text: &str) -> Option<Value> {
        let message = self
            .state()
            .edit_text(chat_id, message_id, text, None, true)?;
        self.inner.updates.notify_waiters();
        Some(message)
    }

    /// The next call of `method` gets a 429 asking to wait `retry_after` seconds.
    pub fn force_429(&self, method: &str, retry_after: u64) {
        self.state().forced.push((method.to_owned(), retry_after));
    }

    /// The next call of `method` (any case, e.g. `sendMessage`) is carried out as usual (the
    /// message is stored) but answered only after `wait`: a client that gives up sooner
    /// sees a timeout for a call that did arrive. Call several times for several.
    pub fn answer_late(&self, method: &str, wait: std::time::Duration) {
        self.state().late.push((method.to_owned(), wait));
    }

    /// The messages in a chat, oldest first, as the Bot API shows them.
    pub fn messages(&self, chat_id: i64) -> Vec<Value> {
        self.state()
            .chats
            .get(&chat_id)
            .map(|c| c.messages.clone())
            .unwrap_or_default()
    }

    /// The bytes behind a file id.
    pub fn file_bytes(&self, file_id: &str) -> Option<Vec<u8>> {
        self.state().files.get(file_id).cloned()
    }

    /// Calls received, as `method`, in order.
    pub fn calls(&self) -> Vec<String> {
        self.state().calls.clone()
    }
}
