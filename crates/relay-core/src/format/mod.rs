//! Message text across platforms: one neutral form ([`FormattedText`]) and converters to and
//! from Telegram's entities ([`from_telegram`], [`to_telegram`]). Pure functions, no I/O.

mod model;
mod normalize;
mod telegram;
mod utf16;

pub use model::{CustomEmoji, FormattedText, MentionTarget, Span, Style};
pub use telegram::{EntityKind, TelegramEntity, from_telegram, to_telegram};
pub use utf16::{byte_to_utf16, utf16_len, utf16_to_byte};
