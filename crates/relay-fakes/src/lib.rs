//! Protocol-level fakes of the platforms Relay talks to, for tests and demos without
//! internet. The unmodified client libraries connect to them as to the real thing.

pub mod discord;
