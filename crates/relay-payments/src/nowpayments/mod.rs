//! NOWPayments IPN signatures: `x-nowpayments-sig` is the lowercase hex HMAC-SHA512, keyed
//! with the IPN secret, of the body with its object keys sorted recursively and written
//! compactly, numbers in JavaScript's form (NOWPayments' own example is Node's
//! `JSON.stringify` of the sorted object). A body is accepted if the HMAC of its raw bytes
//! matches (it was sent already sorted), or else that of its canonical form ([`canonical`]);
//! comparisons are constant-time.

mod canonical;
pub mod client;
mod js_number;
pub mod status;

pub use canonical::canonical;
pub use js_number::js_number;

use crate::SignatureError;
use ring::hmac;

/// Checks an IPN body (`raw`, as received) against its `x-nowpayments-sig` header.
pub fn verify_ipn(raw: &[u8], signature: Option<&str>, secret: &str) -> Result<(), SignatureError> {
    let signature = signature.ok_or(SignatureError::Missing)?.trim();
    let tag = decode_hex(signature)
        .filter(|t| t.len() == 64)
        .ok_or_else(|| SignatureError::Malformed("not 128 hex digits".into()))?;
    // The PHP example trims the secret; a stray newline in a setting must not matter.
    let key = hmac::Key::new(hmac::HMAC_SHA512, secret.trim().as_bytes());
    if hmac::verify(&key, raw, &tag).is_ok() {
        return Ok(());
    }
    let body = std::str::from_utf8(raw)
        .map_err(|_| SignatureError::Malformed("the body is not UTF-8".into()))?;
    let sorted = canonical(body).map_err(SignatureError::Malformed)?;
    hmac::verify(&key, sorted.as_bytes(), &tag).map_err(|_| SignatureError::Mismatch)
}

/// The signature NOWPayments sends for `body` (what a fake sends, and what tests forge).
pub fn sign(body: &[u8], secret: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA512, secret.trim().as_bytes());
    hmac::sign(&key, body)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}
