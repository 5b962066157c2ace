//! Discord's side: its markdown parsed into [`FormattedText`](super::FormattedText) and
//! rendered from it. The parser ([`from_discord_markdown`]) and the renderer
//! ([`to_discord_markdown`]) agree on every rule, so rendered text parses back to what was
//! rendered: literal text stays literal (escaped), styles come back as styles.

mod atoms;
mod emphasis;
mod escape;
mod options;
mod parse;
mod render;
mod url;

pub use options::{DiscordOptions, MentionNames};
pub use parse::{from_discord_markdown, from_discord_markdown_with};
pub use render::to_discord_markdown;

#[cfg(test)]
pub(crate) use atoms::is_language;
#[cfg(test)]
pub(crate) use render::link_target;
#[cfg(test)]
pub(crate) use url::scheme_len;
