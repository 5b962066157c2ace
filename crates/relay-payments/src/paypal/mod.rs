//! PayPal webhook signatures, checked offline: PayPal signs
//! `transmission_id|transmission_time|webhook_id|crc32` (the CRC-32 of the raw body as an
//! unsigned decimal) with RSA PKCS#1 v1.5 / SHA-256, and names the certificate in
//! `PAYPAL-CERT-URL`. The certificate is trusted only if its URL is on PayPal's hosts
//! (`https://…paypal.com/`), it chains to a trusted root, it is valid now, and its common
//! name is PayPal's message-verification name; only then is the signature checked with its
//! key. Fetching the certificate is the caller's (cached by URL); the hosts and roots are
//! injectable so tests can point them at a fake.

pub mod client;
mod der;
pub mod state;

use crate::SignatureError;
use base64::Engine;
use ring::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};
use rustls_pki_types::{CertificateDer, TrustAnchor, UnixTime};
use std::time::Duration;

/// The transmission headers PayPal sends with a webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmission<'a> {
    pub id: &'a str,
    pub time: &'a str,
    pub signature: &'a str,
    pub cert_url: &'a str,
    pub auth_algo: &'a str,
}

/// What decides whether a certificate may sign webhooks.
pub struct CertPolicy<'a> {
    /// Roots the certificate must chain to (webpki-roots in production).
    pub roots: &'a [TrustAnchor<'a>],
    /// Host suffixes `PAYPAL-CERT-URL` may name (`.paypal.com` in production).
    pub hosts: &'a [&'a str],
    /// The common name's required ending (`.paypal.com`) and start
    /// (`messageverificationcerts`).
    pub common_name_prefix: &'a str,
    pub common_name_suffix: &'a str,
}

/// CRC-32 (zlib's) of the raw body, as PayPal writes it in the signed string: unsigned
/// decimal.
pub fn crc32(raw: &[u8]) -> u32 {
    crc32fast::hash(raw)
}

/// The string PayPal signs.
pub fn signed_string(transmission_id: &str, time: &str, webhook_id: &str, raw: &[u8]) -> String {
    format!("{transmission_id}|{time}|{webhook_id}|{}", crc32(raw))
}

/// Whether `cert_url` is one PayPal would use: HTTPS on one of `hosts`, no user info, no
/// port tricks.
pub fn cert_url_allowed(cert_url: &str, hosts: &[&str]) -> bool {
    let Some(rest) = cert_url.strip_prefix("https://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return false;
    }
    let host = authority
        .split(':')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    hosts.iter().any(|suffix| {
        let suffix = suffix.to_ascii_lowercase();
        host == suffix.trim_start_matches('.') || host.ends_with(&suffix)
    })
}

/// The certificates of a PEM bundle, leaf first.
pub fn pem_certificates(pem: &str) -> Result<Vec<Vec<u8>>, SignatureError> {
    let mut certs = Vec::new();
    let mut rest = pem;
    while let Some(start) = rest.find("-----BEGIN CERTIFICATE-----") {
        let body = &rest[start + 27..];
        let end = body
            .find("-----END CERTIFICATE-----")
            .ok_or_else(|| SignatureError::Certificate("an unterminated PEM block".into()))?;
        let b64: String = body[..end].chars().filter(|c| !c.is_whitespace()).collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|_| SignatureError::Certificate("PEM that is not base64".into()))?;
        certs.push(der);
        rest = &body[end..];
    }
    if certs.is_empty() {
        return Err(SignatureError::Certificate(
            "no certificate in the PEM".into(),
        ));
    }
    Ok(certs)
}

/// Checks a webhook offline: the certificate (`pem`, fetched from `t.cert_url`) under
/// `policy` at `now`, then the signature over the signed string with its key.
pub fn verify_offline(
    t: &Transmission<'_>,
    webhook_id: &str,
    raw: &[u8],
    pem: &str,
    policy: &CertPolicy<'_>,
    now: Duration,
) -> Result<(), SignatureError> {
    if !t.auth_algo.eq_ignore_ascii_case("SHA256withRSA") {
        return Err(SignatureError::Malformed(format!(
            "unsupported PAYPAL-AUTH-ALGO {:?}",
            t.auth_algo
        )));
    }
    if !cert_url_allowed(t.cert_url, policy.hosts) {
        return Err(SignatureError::Certificate(
            "PAYPAL-CERT-URL is not on PayPal's hosts".into(),
        ));
    }
    let signature = base64::engine::general_purpose::STANDARD
        .decode(t.signature.trim())
        .map_err(|_| SignatureError::Malformed("PAYPAL-TRANSMISSION-SIG is not base64".into()))?;
    let certs = pem_certificates(pem)?;
    let leaf_der = CertificateDer::from(certs[0].as_slice());
    let leaf = webpki::EndEntityCert::try_from(&leaf_der)
        .map_err(|e| SignatureError::Certificate(format!("unreadable: {e:?}")))?;
    let intermediates: Vec<CertificateDer<'_>> = certs[1..]
        .iter()
        .map(|c| CertificateDer::from(c.as_slice()))
        .collect();
    leaf.verify_for_usage(
        webpki::ALL_VERIFICATION_ALGS,
        policy.roots,
        &intermediates,
        UnixTime::since_unix_epoch(now),
        webpki::KeyUsage::server_auth(),
        None,
        None,
    )
    .map_err(|e| SignatureError::Certificate(format!("not trusted: {e:?}")))?;
    let cn = der::subject_common_name(&certs[0])
        .ok_or_else(|| SignatureError::Certificate("no common name".into()))?;
    if !(cn.starts_with(policy.common_name_prefix) && cn.ends_with(policy.common_name_suffix)) {
        return Err(SignatureError::Certificate(format!(
            "its common name {cn:?} is not PayPal's"
        )));
    }
    let key = der::subject_public_key(&certs[0])
        .ok_or_else(|| SignatureError::Certificate("no public key".into()))?;
    let message = signed_string(t.id, t.time, webhook_id, raw);
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, key)
        .verify(message.as_bytes(), &signature)
        .map_err(|_| SignatureError::Mismatch)
}
