//! What the Discord converters need to know besides the text: the names behind mention ids
//! (markdown carries only `<@id>`), and whether to render live mentions and emoji.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Readable names for Discord mentions, as the message's `mentions` and the guild's roles
/// and channels give them. An id without a name reads as the id (`@80351110224678912`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MentionNames {
    #[serde(default)]
    pub users: BTreeMap<u64, String>,
    #[serde(default)]
    pub roles: BTreeMap<u64, String>,
    #[serde(default)]
    pub channels: BTreeMap<u64, String>,
}

/// How [`to_discord_markdown`](super::to_discord_markdown) renders what only Discord has.
/// The default renders neither live: mentions as their names, custom emoji as `:name:`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscordOptions {
    /// Mentions of Discord users, roles and channels as `<@id>`, `<@&id>`, `<#id>` (the
    /// destination is the same Discord, where they resolve). Telegram mentions are always
    /// their names.
    pub live_mentions: bool,
    /// Discord custom emoji as `<:name:id>` (the sending bot can use them).
    pub live_emoji: bool,
}

impl DiscordOptions {
    /// Live mentions and live emoji.
    pub const LIVE: DiscordOptions = DiscordOptions {
        live_mentions: true,
        live_emoji: true,
    };
}
