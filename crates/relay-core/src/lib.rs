//! Relay's domain vocabulary: typed ids and the closed sets of states that the database,
//! the queue and the API share. Pure types and logic, no I/O.

pub mod chats;
pub mod clock;
pub mod credentials;
pub mod cycles;
pub mod delivery;
pub mod format;
pub mod ids;
pub mod kinds;
pub mod media;
pub mod messages;
pub mod plans;
pub mod rules;
pub mod source;
pub mod tasks;
pub mod telegram_session;

pub use ids::*;
pub use kinds::*;
