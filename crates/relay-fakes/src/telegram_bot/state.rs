//! What the fake Bot API knows: bots, chats with their messages, pending updates, files.

use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone)]
pub struct Bot {
    pub id: i64,
    pub token: String,
    pub username: String,
    /// Updates not yet confirmed by an offset.
    pub updates: Vec<Value>,
    pub polling: bool,
}

#[derive(Debug, Clone)]
pub struct Chat {
    pub id: i64,
    pub kind: String,
    pub title: String,
    pub bots: HashSet<i64>,
    pub messages: Vec<Value>,
    pub next_message_id: i64,
    /// A supergroup with topics: each topic is named by the id of the message that
    /// opened it.
    pub forum: bool,
    pub topics: Vec<i64>,
}

#[derive(Debug, Default)]
pub struct State {
    pub bots: Vec<Bot>,
    pub chats: HashMap<i64, Chat>,
    pub files: HashMap<String, Vec<u8>>,
    pub users: HashMap<String, i64>,
    pub next_id: i64,
    pub next_update_id: i64,
    pub next_group_id: i64,
    pub forced: Vec<(String, u64)>,
    /// Late answers: the next call of the method is carried out, then answered only after
    /// the wait.
    pub late: Vec<(String, std::time::Duration)>,
    pub calls: Vec<String>,
}

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl State {
    fn id(&mut self) -> i64 {
        self.next_id += 1;
        1_000_000 + self.next_id
    }

    pub fn add_bot(&mut self, token: &str, username: &str) -> i64 {
        let id = self.id();
        self.bots.push(Bot {
            id,
            token: token.to_owned(),
            username: username.to_owned(),
            updates: Vec::new(),
            polling: false,
        });
        id
    }

    pub fn add_chat(&mut self, kind: &str, title: &str, bots: &[i64]) -> i64 {
        let base = self.id();
        // Telegram's shapes: users positive, groups negative, supergroups and channels -100….
        let id = match kind {
            "private" => base,
            "group" => -base,
            _ => -1_000_000_000_000 - base,
        };
        let chat = Chat {
            id,
            kind: kind.to_owned(),
            title: title.to_owned(),
            bots: bots.iter().copied().collect(),
            messages: Vec::new(),
            next_message_id: 1,
            forum: false,
            topics: Vec::new(),
        };
        self.chats.insert(id, chat);
        id
    }

    pub fn bot_by_token(&self, token: &str) -> Option<&Bot> {
        self.bots.iter().find(|b| b.token == token)
    }

    pub fn bot_json(bot: &Bot) -> Value {
        json!({"id": bot.id, "is_bot": true, "first_name": bot.username, "username": bot.username})
    }

    /// The bot `bot_id` as the `from` of its own messages.
    pub fn bot_user(&self, bot_id: i64) -> Value {
        self.bots
            .iter()
            .find(|b| b.id == bot_id)
            .map(Self::bot_json)
            .unwrap_or(Value::Null)
    }

    pub fn chat_json(chat: &Chat) -> Value {
        match chat.kind.as_str() {
            "private" => json!({"id": chat.id, "type": "private", "first_name": chat.title}),
            kind if chat.forum => {
                json!({"id": chat.id, "type": kind, "title": chat.title, "is_forum": true})
            }
            kind => json!({"id": chat.id, "type": kind, "title": chat.title}),
        }
    }

    pub fn user(&mut self, name: &str) -> Value {
        let id = match self.users.get(name) {
            Some(id) => *id,
            None => {
                let id = self.id();
                self.users.insert(name.to_owned(), id);
                id
            }
        };
        json!({"id": id, "is_bot": false, "first_name": name})
    }

    /// Stores a message (with `from` for groups and private chats, `sender_chat` in
    /// channels) and queues an update for the chat's bots except the sender.
    pub fn store(
        &mut self,
        chat_id: i64,
        from: Value,
        mut content: Value,
        sender_bot: Option<i64>,
    ) -> Option<Value> {
        let chat = self.chats.get_mut(&chat_id)?;
        let message_id = chat.next_message_id;
        chat.next_message_id += 1;
        let chat_json = Self::chat_json(chat);
        let is_channel = chat.kind == "channel";
        content["message_id"] = json!(message_id);
        content["date"] = json!(now());
        content["chat"] = chat_json.clone();
        if is_channel {
            content["sender_chat"] = chat_json;
        } else {
            content["from"] = from;
        }
        chat.messages.push(content.clone());
        let bots: Vec<i64> = chat
            .bots
            .iter()
            .copied()
            .filter(|b| Some(*b) != sender_bot)
            .collect();
        let kind = if is_channel {
            "channel_post"
        } else {
            "message"
        };
        self.queue_update(&bots, kind, &content);
        Some(content)
    }

    pub fn queue_update(&mut self, bots: &[i64], kind: &str, message: &Value) {
        for bot in self.bots.iter_mut().filter(|b| bots.contains(&b.id)) {
            self.next_update_id += 1;
            bot.updates
                .push(json!({"update_id": self.next_update_id, kind: message}));
        }
    }

    /// Opens a topic in a forum: a `forum_topic_created` service message whose id names
    /// the topic (as Telegram's). `None` unless the chat is a forum.
    pub fn add_topic(&mut self, chat_id: i64, name: &str) -> Option<i64> {
        if !self.chats.get(&chat_id)?.forum {
            return None;
        }
        let from = self.user("forum admin");
        let content = json!({"forum_topic_created": {"name": name, "icon_color": 7322096}});
        let id = self.store(chat_id, from, content, None)?["message_id"].as_i64()?;
        if let Some(chat) = self.chats.get_mut(&chat_id) {
            chat.topics.push(id);
            if let Some(m) = chat.messages.last_mut() {
                m["message_thread_id"] = json!(id);
                m["is_topic_message"] = json!(true);
            }
        }
        Some(id)
    }

    /// The topic a send names (`message_thread_id`), checked as Telegram does: only forums
    /// have topics, and only those that exist.
    pub fn topic_of(&self, chat_id: i64, thread: Option<i64>) -> Result<Option<i64>, String> {
        let Some(thread) = thread else {
            return Ok(None);
        };
        match self.chats.get(&chat_id) {
            Some(chat) if chat.forum && chat.topics.contains(&thread) => Ok(Some(thread)),
            _ => Err("Bad Request: message thread not found".into()),
        }
    }

    pub fn user_message(&mut self, chat_id: i64, user_name: &str, text: &str) -> Option<Value> {
        let from = self.user(user_name);
        self.store(chat_id, from, json!({"text": text}), None)
    }

    pub fn find(&self, chat_id: i64, message_id: i64) -> Option<&Value> {
        self.chats
            .get(&chat_id)?
            .messages
            .iter()
            .find(|m| m["message_id"] == message_id)
    }

    /// Replaces a message's text (or caption) and its entities (none: removed).
    pub fn edit_text(
        &mut self,
        chat_id: i64,
        message_id: i64,
        text: &str,
        entities: Option<Value>,
        notify: bool,
    ) -> Option<Value> {
        let chat = self.chats.get_mut(&chat_id)?;
        let is_channel = chat.kind == "channel";
        let bots: Vec<i64> = chat.bots.iter().copied().collect();
        let message = chat
            .messages
            .iter_mut()
            .find(|m| m["message_id"] == message_id)?;
        let (field, entities_field) = if message.get("text").is_some() {
            ("text", "entities")
        } else {
            ("caption", "caption_entities")
        };
        message[field] = json!(text);
        if let Some(object) = message.as_object_mut() {
            match entities {
                Some(entities) => object.insert(entities_field.to_owned(), entities),
                None => object.remove(entities_field),
            };
        }
        message["edit_date"] = json!(now());
        let edited = message.clone();
        if notify {
            let kind = if is_channel {
                "edited_channel_post"
            } else {
                "edited_message"
            };
            self.queue_update(&bots, kind, &edited);
        }
        Some(edited)
    }

    pub fn delete(&mut self, chat_id: i64, message_id: i64) -> bool {
        let Some(chat) = self.chats.get_mut(&chat_id) else {
            return false;
        };
        let before = chat.messages.len();
        chat.messages.retain(|m| m["message_id"] != message_id);
        chat.messages.len() < before
    }

    pub fn file_id(&mut self, bytes: Vec<u8>) -> String {
        let id = format!("file{}", self.id());
        self.files.insert(id.clone(), bytes);
        id
    }
}
