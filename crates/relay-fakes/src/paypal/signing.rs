//! Signing webhooks as PayPal does, with the fact sheet's test key (PKCS#1 RSA-2048):
//! RSASSA-PKCS1-v1_5 / SHA-256 over `transmission_id|time|webhook_id|crc32(body)`, base64.

use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use std::sync::OnceLock;

const TEST_KEY_PEM: &str = include_str!("../../fixtures/paypal-test-key.pem");

fn key() -> &'static RsaKeyPair {
    static KEY: OnceLock<RsaKeyPair> = OnceLock::new();
    KEY.get_or_init(|| {
        let b64: String = TEST_KEY_PEM
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .expect("the test key is base64");
        RsaKeyPair::from_der(&der).expect("the test key is a PKCS#1 RSA key")
    })
}

/// `PAYPAL-TRANSMISSION-SIG` for a delivery of `body`.
pub fn sign(transmission_id: &str, time: &str, webhook_id: &str, body: &[u8]) -> String {
    let message = relay_payments::paypal::signed_string(transmission_id, time, webhook_id, body);
    let key = key();
    let mut sig = vec![0; key.public().modulus_len()];
    key.sign(
        &RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        message.as_bytes(),
        &mut sig,
    )
    .expect("signing with the test key");
    base64::engine::general_purpose::STANDARD.encode(sig)
}

#[cfg(test)]
mod tests {
    /// The fact sheet's golden signature (PKCS#1 v1.5 is deterministic).
    #[test]
    fn reproduces_the_golden_signature() {
        let body =
            include_str!("../../../relay-payments/tests/fixtures/paypal-capture-completed.json");
        let sig = super::sign(
            "2a8f9c40-b7d1-11f1-9a6e-0b1c2d3e4f50",
            "2026-11-01T10:15:03Z",
            "5GP028458E2496506",
            body.trim_end_matches('\n').as_bytes(),
        );
        assert!(
            sig.starts_with("TMkUNTjGxeSEg96GXbS+sI/V7+fokUpnw5EvycaQnVCzaRtGhDFm"),
            "{sig}"
        );
    }
}
