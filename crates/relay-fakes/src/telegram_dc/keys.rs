//! Device authorization keys. grammers can't run the DH exchange against a fake (it only
//! trusts Telegram's RSA keys), so it must start with a pre-seeded key. MTProto 2 only uses
//! the first 128 bytes of the 256-byte key to derive message keys, while the key id hashes
//! all 256 bytes. So a device key is a shared first half (known to the fake) followed by 128
//! device-specific random bytes: the fake decrypts everything with the half and tells devices
//! apart by their key id.

/// The development key half, 128 bytes as hex. Not a secret: only for fakes and demos.
pub const DEFAULT_KEY_HALF_HEX: &str = "042e8c8a5fe53c5516b268dcccbc1ab6c514101424be079dde614eb2eee8b5f830b7a2d247498b7e36336f5bb7f1277a05c39cfa1bfabd711fb0e5bd9abbd245c25a2143d9430bafa6050066a539b166f76834897c749f68c2976fd6ff5e96bcf29d265f536a2ee41d682a467bd29438b454e72d6daf220c7dc2513de4d99723";

/// [`DEFAULT_KEY_HALF_HEX`] as bytes.
pub fn default_key_half() -> [u8; 128] {
    parse_key_half(DEFAULT_KEY_HALF_HEX).unwrap_or([0; 128])
}

/// A fresh device key: `half` followed by 128 random bytes.
pub fn device_auth_key(half: &[u8; 128]) -> [u8; 256] {
    let mut key = [0; 256];
    key[..128].copy_from_slice(half);
    key[128..].copy_from_slice(&random_bytes::<128>());
    key
}

/// Parses 256 hex characters into a key half.
pub fn parse_key_half(hex: &str) -> Result<[u8; 128], String> {
    let hex = hex.trim();
    if hex.len() != 256 {
        return Err(format!(
            "a key half is 256 hex characters, got {}",
            hex.len()
        ));
    }
    let mut half = [0; 128];
    for (i, byte) in half.iter_mut().enumerate() {
        let pair = hex
            .get(i * 2..i * 2 + 2)
            .ok_or_else(|| "the key half must be ASCII hex".to_owned())?;
        *byte =
            u8::from_str_radix(pair, 16).map_err(|_| format!("not a hex digit pair: {pair:?}"))?;
    }
    Ok(half)
}

/// `N` random bytes from the operating system (falling back to a time-seeded mix, which
/// is fine for a fake).
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0; N];
    if getrandom::fill(&mut bytes).is_err() {
        let mut x = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x9e37_79b9_7f4a_7c15)
            | 1;
        for b in bytes.iter_mut() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = x as u8;
        }
    }
    bytes
}

pub(crate) fn random_i64() -> i64 {
    i64::from_le_bytes(random_bytes::<8>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_round_trip_and_keys_share_them() {
        let half = default_key_half();
        assert_ne!(half, [0; 128]);
        let a = device_auth_key(&half);
        let b = device_auth_key(&half);
        assert_eq!(a[..128], half[..]);
        assert_ne!(a[128..], b[128..]);
        assert!(parse_key_half("zz").is_err());
        assert!(parse_key_half(&"g".repeat(256)).is_err());
    }
}
