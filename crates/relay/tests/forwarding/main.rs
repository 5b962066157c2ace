//! Forwarding end to end: Relay configured only through its public API, messages posted on
//! the fake platforms, arriving at the fake destinations — with workers as processes where
//! it matters (ownership, crashes).

mod albums;
mod chats;
mod crash;
mod deletes;
mod directions;
mod formatting;
mod identity;
mod live_pairs;
mod long_text;
mod loops;
mod media;
mod outages;
mod quota;
mod recovery;
mod rules;
mod stack;
mod threads;
