//! A bot as a source: a twilight-gateway shard turned into Relay's `SourceEvent`s.
//!
//! Short disconnects are covered by the gateway itself (twilight resumes and Discord
//! replays). A new session (READY) means events may have been missed — after a long
//! outage or a restart — so every channel seen so far is caught up from its last seen
//! message id through REST history. Message ids only grow within a channel, so anything at
//! or below the last seen id is a duplicate and is skipped.
//!
//! Each new message goes to the router with its channel's position (its id), which is
//! committed with the message's outbox rows; the worker starts each channel from that
//! committed cursor, so a crash or a takeover re-reads what was not recorded yet.

use crate::rest::{DiscordEndpoints, DiscordRest};
use relay_core::format::{MentionNames, from_discord_markdown_with};
use relay_core::messages::{
    Author, EmbedPart, IncomingMessage, MediaRef, MediaSource, Quote, SendError, SourceEvent,
};
use relay_core::source::{Position, SourceSender};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use twilight_gateway::queue::InMemoryQueue;
use twilight_gateway::{ConfigBuilder, Event, EventTypeFlags, Intents, Shard, ShardId, StreamExt};
use twilight_model::channel::Message;

#[derive(Debug, Clone)]
pub struct ListenerConfig {
    pub token: String,
    pub endpoints: DiscordEndpoints,
    /// Identify right away after a session is lost (tests); Discord allows one per 5 s.
    pub fast_identify: bool,
}

/// Listens to one bot's gateway.
#[derive(Debug, Clone)]
pub struct DiscordListener {
    config: ListenerConfig,
    rest: DiscordRest,
    /// Last seen message id per channel.
    seen: Arc<Mutex<HashMap<u64, u64>>>,
}

impl DiscordListener {
    pub fn new(config: ListenerConfig) -> Self {
        let rest = DiscordRest::new(&config.endpoints, Some(&config.token));
        Self {
            config,
            rest,
            seen: Arc::default(),
        }
    }

    fn seen(&self) -> std::sync::MutexGuard<'_, HashMap<u64, u64>> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Catches a channel up from `last_seen` (a message id) on the next new session, e.g.
    /// with the last id the message map holds after a restart.
    pub fn watch(&self, channel_id: u64, last_seen: u64) {
        let mut seen = self.seen();
        let entry = seen.entry(channel_id).or_insert(last_seen);
        *entry = (*entry).max(last_seen);
    }

    /// The last message id seen in a channel.
    pub fn last_seen(&self, channel_id: u64) -> Option<u64> {
        self.seen().get(&channel_id).copied()
    }

    /// Runs until `shutdown`, the events receiver closes, or the token is refused.
    pub async fn run(self, events: SourceSender, shutdown: CancellationToken) {
        let bot_id = loop {
            match self.rest.current_user().await {
                Ok(user) => break user.id.get(),
                Err(SendError::Unauthorized(reason)) => {
                    let _ = events.event(SourceEvent::Unauthorized { reason }).await;
                    return;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "discord unreachable; retrying");
                    tokio::select! {
                        _ = shutdown.cancelled() => return,
                        _ = tokio::time::sleep(Duration::from_secs(2)) => {}
                    }
                }
            }
        };
        let mut shard = self.shard();
        loop {
            let event = tokio::select! {
                _ = shutdown.cancelled() => return,
                event = shard.next_event(EventTypeFlags::READY | EventTypeFlags::MESSAGE_CREATE
                    | EventTypeFlags::MESSAGE_UPDATE | EventTypeFlags::MESSAGE_DELETE) => event,
            };
            let (outgoing, position) = match event {
                None => return,
                Some(Err(e)) => {
                    tracing::debug!(error = %e, "gateway receive error; twilight reconnects");
                    continue;
                }
                Some(Ok(Event::Ready(_))) => {
                    if self.catch_up(bot_id, &events).await.is_err() {
                        return;
                    }
                    continue;
                }
                Some(Ok(Event::MessageCreate(m))) => {
                    let Some(fresh) = self.fresh(bot_id, &m) else {
                        continue;
                    };
                    // The bot's own messages make no rows but still move the channel on.
                    (
                        fresh.map(|m| SourceEvent::Created(incoming(&m))),
                        Some(position(&m)),
                    )
                }
                Some(Ok(Event::MessageUpdate(m))) => (
                    (m.author.id.get() != bot_id).then(|| SourceEvent::Edited(incoming(&m))),
                    None,
                ),
                Some(Ok(Event::MessageDelete(d))) => (
                    Some(SourceEvent::Deleted {
                        chat_id: d.channel_id.to_string(),
                        message_id: d.id.to_string(),
                    }),
                    None,
                ),
                Some(Ok(Event::GatewayClose(Some(frame)))) if matches!(frame.code, 4004 | 4014) => {
                    let reason = format!(
                        "Discord closed the gateway ({}): {}",
                        frame.code, frame.reason
                    );
                    let _ = events.event(SourceEvent::Unauthorized { reason }).await;
                    return;
                }
                Some(Ok(_)) => continue,
            };
            if events
                .send(outgoing.into_iter().collect(), position)
                .await
                .is_err()
            {
                return;
            }
        }
    }

    fn shard(&self) -> Shard {
        let intents = Intents::GUILDS
            | Intents::GUILD_MESSAGES
            | Intents::DIRECT_MESSAGES
            | Intents::MESSAGE_CONTENT;
        let mut builder = ConfigBuilder::new(self.config.token.clone(), intents);
        if self.config.endpoints.gateway_url != DiscordEndpoints::default().gateway_url {
            builder = builder.proxy_url(self.config.endpoints.gateway_url.clone());
        }
        let queue = if self.config.fast_identify {
            InMemoryQueue::new(0, 0, Duration::ZERO, 0)
        } else {
            InMemoryQueue::default()
        };
        Shard::with_config(ShardId::ONE, builder.queue(queue).build())
    }

    /// `None` for a message seen before; else marks it seen and gives it back unless it is
    /// the bot's own.
    fn fresh(&self, bot_id: u64, m: &Message) -> Option<Option<Message>> {
        let mut seen = self.seen();
        let last = seen.entry(m.channel_id.get()).or_insert(0);
        if m.id.get() <= *last {
            return None;
        }
        *last = m.id.get();
        Some((m.author.id.get() != bot_id).then(|| m.clone()))
    }

    /// Emits what every known channel missed since its last seen message, oldest first, a
    /// page at a time with the channel's position after it.
    async fn catch_up(&self, bot_id: u64, events: &SourceSender) -> Result<(), ()> {
        let channels: Vec<(u64, u64)> = self.seen().iter().map(|(c, l)| (*c, *l)).collect();
        for (channel, mut after) in channels {
            loop {
                let page = match self.rest.messages_after(channel, after, 100).await {
                    Ok(page) => page,
                    Err(e) => {
                        tracing::warn!(channel, error = %e, "catch-up failed; will retry on the next session");
                        break;
                    }
                };
                let full = page.len() == 100;
                let mut batch = Vec::new();
                let mut last = None;
                for m in page {
                    after = after.max(m.id.get());
                    if let Some(fresh) = self.fresh(bot_id, &m) {
                        last = Some(position(&m));
                        batch.extend(fresh.map(|m| SourceEvent::Created(incoming(&m))));
                    }
                }
                events.send(batch, last).await.map_err(drop)?;
                if !full {
                    break;
                }
            }
        }
        Ok(())
    }
}

/// The position a message puts its channel at.
fn position(m: &Message) -> Position {
    Position::DiscordChannel {
        channel_id: m.channel_id.get(),
        message_id: m.id.get(),
    }
}

/// The first snowflake minted at `unix_ms` (Discord ids are time-based): reading a channel
/// "after" it starts at that moment.
pub fn snowflake_at(unix_ms: i64) -> u64 {
    const DISCORD_EPOCH_MS: i64 = 1_420_070_400_000;
    u64::try_from(unix_ms.saturating_sub(DISCORD_EPOCH_MS)).unwrap_or(0) << 22
}

/// A twilight message as Relay's platform-neutral message.
pub fn incoming(m: &Message) -> IncomingMessage {
    let author = Author {
        id: m.author.id.to_string(),
        name: m
            .author
            .global_name
            .clone()
            .unwrap_or_else(|| m.author.name.clone()),
        avatar_url: m.author.avatar.map(|hash| {
            format!(
                "https://cdn.discordapp.com/avatars/{}/{hash}.png",
                m.author.id
            )
        }),
    };
    IncomingMessage {
        chat_id: m.channel_id.to_string(),
        message_id: m.id.to_string(),
        author,
        text: from_discord_markdown_with(&m.content, &mention_names(m)),
        media: m
            .attachments
            .iter()
            .map(|a| MediaRef {
                filename: a.filename.clone(),
                source: MediaSource::Url { url: a.url.clone() },
                size: a.size,
                content_type: a.content_type.clone(),
            })
            .collect(),
        embeds: m
            .embeds
            .iter()
            .map(|e| EmbedPart {
                title: e.title.clone(),
                description: e.description.clone(),
                url: e.url.clone(),
                color: e.color,
            })
            .collect(),
        reply_to: m
            .reference
            .as_ref()
            .and_then(|r| r.message_id)
            .map(|id| id.to_string()),
        posted_at_ms: m.timestamp.as_micros() / 1000,
        edited_at_ms: m.edited_timestamp.map(|at| at.as_micros() / 1000),
        reply_quote: m.referenced_message.as_deref().map(parent_quote),
        forwarded: !m.message_snapshots.is_empty()
            || m.reference.as_ref().is_some_and(|r| {
                r.kind == twilight_model::channel::message::MessageReferenceType::Forward
            }),
        author_is_bot: m.author.bot,
        link: m.guild_id.map(|guild| {
            format!(
                "https://discord.com/channels/{guild}/{}/{}",
                m.channel_id, m.id
            )
        }),
        ..IncomingMessage::default()
    }
}

/// The parent of a reply as Discord sends it along (`referenced_message`), quoted where it
/// has no copy.
fn parent_quote(parent: &Message) -> Quote {
    let name = parent
        .author
        .global_name
        .clone()
        .unwrap_or_else(|| parent.author.name.clone());
    let text = from_discord_markdown_with(&parent.content, &mention_names(parent)).text;
    Quote::of(name, &text)
}

/// The names behind the message's mentions, as Discord sends them with the message: users
/// by their server nickname, else display name, else username; channels by name. Roles
/// come without names and read as their ids.
fn mention_names(m: &Message) -> MentionNames {
    let mut names = MentionNames::default();
    for user in &m.mentions {
        let name = user
            .member
            .as_ref()
            .and_then(|member| member.nick.clone())
            .unwrap_or_else(|| user.name.clone());
        names.users.insert(user.id.get(), name);
    }
    for channel in &m.mention_channels {
        names
            .channels
            .insert(channel.id.get(), channel.name.clone());
    }
    names
}

#[cfg(test)]
mod tests {
    use super::incoming;
    use relay_fakes::discord::model::{self, NewMessage};
    use twilight_model::channel::message::Embed;

    #[test]
    fn markdown_comes_in_as_styles_with_mentions_named_and_escaped_literals_literal() {
        use relay_core::format::{MentionTarget, Span, Style};
        let new = NewMessage {
            content: "**bold** <@42> 2\\*3\\*4 = 24\n<b>tag</b>".into(),
            embeds: Vec::new(),
            attachments: Vec::new(),
            reply_to: None,
            webhook_id: None,
        };
        let mut message = model::message(5, 2, Some(3), model::user(7, "alice", false), new, None);
        message.mentions = vec![
            serde_json::from_value(serde_json::json!({
                "id": "42", "username": "bob", "discriminator": "0", "avatar": null,
                "public_flags": 0, "member": {"nick": "Bobby", "roles": [], "joined_at": null,
                "deaf": false, "mute": false, "flags": 0}
            }))
            .expect("mention"),
        ];
        let text = incoming(&message).text;
        assert_eq!(text.text, "bold @Bobby 2*3*4 = 24\n<b>tag</b>");
        let mention = Style::Mention {
            target: MentionTarget::DiscordUser { user_id: 42 },
        };
        assert_eq!(
            text.spans,
            vec![Span::new(0, 4, Style::Bold), Span::new(5, 11, mention)]
        );
    }

    #[test]
    fn attachments_embeds_replies_and_avatars_are_carried_over() {
        let mut author = model::user(7, "alice", false);
        author.global_name = Some("Alice A.".into());
        let embed: Embed = serde_json::from_value(
            serde_json::json!({"type": "rich", "title": "T", "description": "D", "color": 255}),
        )
        .expect("embed");
        let attachment: twilight_model::channel::Attachment = serde_json::from_value(serde_json::json!({
            "id": "9", "filename": "a.png", "size": 3, "url": "http://x/a.png", "proxy_url": "http://x/a.png", "content_type": "image/png"
        }))
        .expect("attachment");
        let new = NewMessage {
            content: "hi".into(),
            embeds: vec![embed],
            attachments: vec![attachment],
            reply_to: Some(4),
            webhook_id: None,
        };
        let m = incoming(&model::message(5, 2, Some(3), author, new, None));
        assert_eq!(m.author.name, "Alice A.");
        assert_eq!(m.reply_to.as_deref(), Some("4"));
        assert_eq!(
            m.link.as_deref(),
            Some("https://discord.com/channels/3/2/5")
        );
        assert!(!m.author_is_bot && !m.forwarded);
        assert_eq!(m.media[0].filename, "a.png");
        assert_eq!(m.media[0].content_type.as_deref(), Some("image/png"));
        assert_eq!(m.embeds[0].title.as_deref(), Some("T"));
        assert_eq!(m.embeds[0].color, Some(255));
        assert_eq!(
            m.posted_at_ms, 1_420_070_400_000,
            "id 5 was minted at the Discord epoch"
        );
    }
}
