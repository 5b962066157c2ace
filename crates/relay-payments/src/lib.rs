//! Payment providers' wire rules, as pure code: how PayPal and NOWPayments sign the
//! webhooks they send ([`paypal`], [`nowpayments`]), checked over the raw bytes received.
//! The golden vectors of the providers' fact sheet are this crate's tests. Also thin REST
//! clients of both (`paypal::client`, `nowpayments::client`) and what a subscription's
//! events add up to (`paypal::state`, `nowpayments::status`).

pub mod nowpayments;
pub mod paypal;

/// Why a webhook's signature was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the signature header is missing")]
    Missing,
    #[error("the signature header is malformed: {0}")]
    Malformed(String),
    #[error("the signing certificate is not acceptable: {0}")]
    Certificate(String),
    #[error("the signature does not match")]
    Mismatch,
}
