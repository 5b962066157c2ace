//! Protocol-level fakes of the platforms Relay talks to, for tests and demos without
//! internet. The unmodified client libraries connect to them as to the real thing. Also a
//! TCP proxy for taking PostgreSQL or Redis away and back. Also the payment providers
//! (PayPal, NOWPayments) with levers for what buyers and billing do.

// Handlers return ready-made platform error responses as their `Err`; their size is fine.
#![allow(clippy::result_large_err)]

pub mod discord;
pub mod nowpayments;
pub mod paypal;
pub mod proxy;
#[cfg(test)]
mod spec_extracts;
pub mod telegram_bot;
pub mod telegram_dc;
