//! Discord-shaped values built from twilight-model types, so the JSON the fake sends is
//! exactly what twilight (and Relay) parse from the real platform.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};
use twilight_model::channel::message::{MessageFlags, MessageReference, MessageType};
use twilight_model::channel::{Attachment, Message, message::Embed};
use twilight_model::id::Id;
use twilight_model::user::User;
use twilight_model::util::Timestamp;

const DISCORD_EPOCH_MS: u64 = 1_420_070_400_000;

/// Mints increasing snowflakes whose time part is now.
#[derive(Debug, Default)]
pub struct Snowflakes {
    last: AtomicU64,
}

impl Snowflakes {
    pub fn next(&self) -> u64 {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        let candidate = (now_ms.saturating_sub(DISCORD_EPOCH_MS) << 22) | (1 << 17);
        let mut last = self.last.load(Ordering::SeqCst);
        loop {
            let next = candidate.max(last + 1);
            match self
                .last
                .compare_exchange(last, next, Ordering::SeqCst, Ordering::SeqCst)
            {
                Ok(_) => return next,
                Err(actual) => last = actual,
            }
        }
    }
}

/// The creation time a snowflake encodes.
pub fn snowflake_time(id: u64) -> Timestamp {
    let ms = (id >> 22) + DISCORD_EPOCH_MS;
    Timestamp::from_micros((ms * 1000) as i64).unwrap_or_else(|_| now())
}

pub fn now() -> Timestamp {
    let micros = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0);
    Timestamp::from_micros(micros)
        .unwrap_or_else(|_| Timestamp::from_secs(1_700_000_000).expect("valid"))
}

pub fn user(id: u64, name: &str, bot: bool) -> User {
    User {
        accent_color: None,
        avatar: None,
        avatar_decoration: None,
        avatar_decoration_data: None,
        banner: None,
        bot,
        discriminator: 0,
        email: None,
        flags: None,
        global_name: None,
        id: Id::new(id),
        locale: None,
        mfa_enabled: None,
        name: name.to_owned(),
        premium_type: None,
        primary_guild: None,
        public_flags: None,
        system: None,
        verified: None,
    }
}

/// What a new message is made of.
#[derive(Debug, Clone, Default)]
pub struct NewMessage {
    pub content: String,
    pub embeds: Vec<Embed>,
    pub attachments: Vec<Attachment>,
    pub reply_to: Option<u64>,
    pub webhook_id: Option<u64>,
}

#[allow(deprecated)] // `interaction` must still be set: the struct has no default.
pub fn message(
    id: u64,
    channel_id: u64,
    guild_id: Option<u64>,
    author: User,
    new: NewMessage,
    referenced: Option<Message>,
) -> Message {
    let reference = new.reply_to.map(|mid| MessageReference {
        channel_id: Some(Id::new(channel_id)),
        guild_id: guild_id.map(Id::new),
        kind: Default::default(),
        message_id: Some(Id::new(mid)),
        fail_if_not_exists: None,
    });
    Message {
        activity: None,
        application: None,
        application_id: None,
        attachments: new.attachments,
        author,
        call: None,
        channel_id: Id::new(channel_id),
        components: Vec::new(),
        content: new.content,
        edited_timestamp: None,
        embeds: new.embeds,
        flags: Some(MessageFlags::empty()),
        guild_id: guild_id.map(Id::new),
        id: Id::new(id),
        interaction: None,
        interaction_metadata: None,
        kind: if reference.is_some() {
            MessageType::Reply
        } else {
            MessageType::Regular
        },
        member: None,
        mention_channels: Vec::new(),
        mention_everyone: false,
        mention_roles: Vec::new(),
        mentions: Vec::new(),
        message_snapshots: Vec::new(),
        pinned: false,
        poll: None,
        reactions: Vec::new(),
        reference,
        referenced_message: referenced.map(Box::new),
        role_subscription_data: None,
        sticker_items: Vec::new(),
        timestamp: snowflake_time(id),
        thread: None,
        tts: false,
        webhook_id: new.webhook_id.map(Id::new),
    }
}

/// Discord's error body: `{code, message, errors?}`.
pub fn error_body(code: u32, message: &str) -> serde_json::Value {
    serde_json::json!({ "code": code, "message": message })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snowflakes_increase_and_encode_now() {
        let s = Snowflakes::default();
        let a = s.next();
        let b = s.next();
        assert!(b > a && a > 0);
        let age = now().as_secs() - snowflake_time(a).as_secs();
        assert!((0..=1).contains(&age));
    }

    #[test]
    fn messages_round_trip_through_twilight() {
        let m = message(
            5,
            2,
            Some(3),
            user(7, "alice", false),
            NewMessage {
                content: "hi".into(),
                reply_to: Some(4),
                ..Default::default()
            },
            None,
        );
        let json = serde_json::to_string(&m).expect("json");
        let back: Message = serde_json::from_str(&json).expect("parse");
        assert_eq!(back.kind, MessageType::Reply);
        assert!(
            json.contains("\"timestamp\":\"") && !json.contains("Z\""),
            "{json}"
        );
    }
}
