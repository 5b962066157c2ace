//! Message text across platforms: one neutral form ([`FormattedText`]), converters to and
//! from Telegram's entities ([`from_telegram`], [`to_telegram`]) and Discord's markdown
//! ([`from_discord_markdown`], [`to_discord_markdown`]), and the splitting of long text
//! into parts each platform accepts ([`split`]). Pure functions, no I/O.

mod clusters;
mod discord;
mod model;
mod normalize;
mod split;
mod telegram;
mod utf16;

pub use discord::{
    DiscordOptions, MentionNames, from_discord_markdown, from_discord_markdown_with,
    to_discord_markdown,
};
pub use model::{CustomEmoji, FormattedText, MentionTarget, Span, Style};
pub use split::{
    DISCORD_MESSAGE_LIMIT, Measure, TELEGRAM_CAPTION_LIMIT, TELEGRAM_MESSAGE_LIMIT, split,
    split_caption_telegram, split_discord, split_telegram, split_with_first,
};
pub use telegram::{EntityKind, TelegramEntity, from_telegram, to_telegram};
pub use utf16::{byte_to_utf16, utf16_len, utf16_to_byte};

#[cfg(test)]
mod tests;
