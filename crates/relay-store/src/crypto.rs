//! Encryption at rest: AES-256-GCM with a random 96-bit nonce per seal, and a key ring so
//! keys can rotate. Each sealed value carries the id of the key that sealed it; opening
//! finds that key in the ring (current or old), sealing always uses the current key.
//!
//! A key is written `[id:]key`, the key as base64 (standard or URL-safe) or 64 hex digits.
//! Without an id, the id is derived from the key itself (`kcv-` and 8 hex digits), so two
//! different keys never share an id by accident.

use aes_gcm::aead::{Aead, Generate, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use std::fmt;

const NONCE_LEN: usize = 12;
const KEY_LEN: usize = 32;

/// The development key: fine on a laptop, refused when `RELAY_ENV=production`.
pub const DEV_ENCRYPTION_KEY: &str = "dev:cmVsYXktZGV2ZWxvcG1lbnQta2V5LW5vdC1zZWNyZXQ=";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("key id '{0}' must be 1 to 32 letters, digits, '-' or '_'")]
    BadId(String),
    #[error("must be 32 bytes written as base64 or 64 hex digits")]
    NotEncoded,
    #[error("must be 32 bytes, got {0} bytes")]
    WrongLength(usize),
    #[error("key id '{0}' is used by two different keys")]
    DuplicateId(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("no key with id '{0}' in the key ring")]
    UnknownKey(String),
    #[error("sealed value is malformed or was tampered with")]
    Corrupt,
}

/// A sealed value: what goes into a `bytea` column, and the key id that goes beside it.
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed {
    pub key_id: String,
    /// Nonce followed by ciphertext and tag.
    pub bytes: Vec<u8>,
}

impl fmt::Debug for Sealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Sealed {{ key_id: {:?}, {} bytes }}",
            self.key_id,
            self.bytes.len()
        )
    }
}

/// One AES-256 key with its id.
#[derive(Clone)]
pub struct EncryptionKey {
    id: String,
    raw: [u8; KEY_LEN],
}

impl fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EncryptionKey {{ id: {:?}, key: [redacted] }}", self.id)
    }
}

impl EncryptionKey {
    /// Parses `[id:]key`; see the module docs.
    pub fn parse(spec: &str) -> Result<Self, KeyError> {
        let spec = spec.trim();
        let (id, encoded) = match spec.split_once(':') {
            Some((id, key)) => (Some(id), key),
            None => (None, spec),
        };
        let raw = decode_key(encoded)?;
        let id = match id {
            Some(id) if valid_id(id) => id.to_owned(),
            Some(id) => return Err(KeyError::BadId(id.to_owned())),
            None => check_value_id(&raw),
        };
        Ok(Self { id, raw })
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// Whether this is the published development key (whatever id it was given).
    pub fn is_development_key(&self) -> bool {
        EncryptionKey::parse(DEV_ENCRYPTION_KEY).is_ok_and(|dev| dev.raw == self.raw)
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(&self.raw.into())
    }
}

fn valid_id(id: &str) -> bool {
    (1..=32).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn decode_key(encoded: &str) -> Result<[u8; KEY_LEN], KeyError> {
    let bytes = if encoded.len() == 2 * KEY_LEN && encoded.bytes().all(|b| b.is_ascii_hexdigit()) {
        (0..KEY_LEN)
            .map(|i| u8::from_str_radix(&encoded[2 * i..2 * i + 2], 16))
            .collect::<Result<Vec<u8>, _>>()
            .map_err(|_| KeyError::NotEncoded)?
    } else {
        use base64::engine::general_purpose::{STANDARD, URL_SAFE};
        STANDARD
            .decode(encoded)
            .or_else(|_| URL_SAFE.decode(encoded))
            .map_err(|_| KeyError::NotEncoded)?
    };
    <[u8; KEY_LEN]>::try_from(bytes.as_slice()).map_err(|_| KeyError::WrongLength(bytes.len()))
}

/// A key check value: the GCM tag of an empty message under the all-zero nonce. It names
/// the key without revealing it.
fn check_value_id(raw: &[u8; KEY_LEN]) -> String {
    let cipher = Aes256Gcm::new(raw.into());
    let tag = cipher
        .encrypt(&Nonce::from([0u8; NONCE_LEN]), &[][..])
        .unwrap_or_default();
    let hex: String = tag.iter().take(4).map(|b| format!("{b:02x}")).collect();
    format!("kcv-{hex}")
}

/// The current key, which seals, and older keys, which still open what they sealed.
#[derive(Clone, Debug)]
pub struct Keyring {
    current: EncryptionKey,
    old: Vec<EncryptionKey>,
}

impl Keyring {
    pub fn new(current: EncryptionKey, old: Vec<EncryptionKey>) -> Result<Self, KeyError> {
        let mut seen: Vec<&EncryptionKey> = vec![&current];
        for key in &old {
            if seen.iter().any(|k| k.id == key.id && k.raw != key.raw) {
                return Err(KeyError::DuplicateId(key.id.clone()));
            }
            seen.push(key);
        }
        Ok(Self { current, old })
    }

    /// A ring holding only the development key, for tests and local runs.
    pub fn development() -> Self {
        let key = EncryptionKey::parse(DEV_ENCRYPTION_KEY).expect("the development key parses");
        Self {
            current: key,
            old: Vec::new(),
        }
    }

    pub fn current_key_id(&self) -> &str {
        &self.current.id
    }

    /// Seals `plaintext` under the current key. `context` (for example the table, column
    /// and row id) is authenticated but not stored: a value copied to another row fails
    /// to open there.
    pub fn seal(&self, plaintext: &[u8], context: &[u8]) -> Sealed {
        let nonce = Nonce::generate();
        let payload = Payload {
            msg: plaintext,
            aad: context,
        };
        // Encryption only fails for inputs over 64 GiB, which never reach this function.
        let ciphertext = self
            .current
            .cipher()
            .encrypt(&nonce, payload)
            .unwrap_or_default();
        let mut bytes = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        bytes.extend_from_slice(&nonce);
        bytes.extend_from_slice(&ciphertext);
        Sealed {
            key_id: self.current.id.clone(),
            bytes,
        }
    }

    /// Opens a sealed value with whichever key of the ring sealed it.
    pub fn open(&self, sealed: &Sealed, context: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let key = self.key(&sealed.key_id)?;
        if sealed.bytes.len() < NONCE_LEN + 16 {
            return Err(CryptoError::Corrupt);
        }
        let (nonce, ciphertext) = sealed.bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_from(nonce).map_err(|_| CryptoError::Corrupt)?;
        key.cipher()
            .decrypt(
                &nonce,
                Payload {
                    msg: ciphertext,
                    aad: context,
                },
            )
            .map_err(|_| CryptoError::Corrupt)
    }

    /// Whether a value sealed under `key_id` should be re-sealed under the current key.
    pub fn needs_rotation(&self, key_id: &str) -> bool {
        key_id != self.current.id
    }

    /// Opens with the old key and seals again with the current one.
    pub fn reseal(&self, sealed: &Sealed, context: &[u8]) -> Result<Sealed, CryptoError> {
        let plaintext = self.open(sealed, context)?;
        Ok(self.seal(&plaintext, context))
    }

    fn key(&self, id: &str) -> Result<&EncryptionKey, CryptoError> {
        std::iter::once(&self.current)
            .chain(&self.old)
            .find(|k| k.id == id)
            .ok_or_else(|| CryptoError::UnknownKey(id.to_owned()))
    }
}

#[cfg(test)]
#[path = "crypto_tests.rs"]
mod tests;
