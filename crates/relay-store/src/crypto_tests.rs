use super::*;

const KEY_A: &str = "a:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const KEY_B_HEX: &str = "b:1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100";

fn ring(current: &str, old: &[&str]) -> Keyring {
    let old = old
        .iter()
        .map(|k| EncryptionKey::parse(k).expect("old key"))
        .collect();
    Keyring::new(EncryptionKey::parse(current).expect("key"), old).expect("ring")
}

#[test]
fn seal_then_open_round_trips_with_a_fresh_nonce_each_time() {
    let ring = ring(KEY_A, &[]);
    let one = ring.seal(b"bot token 123:abc", b"accounts:1");
    let two = ring.seal(b"bot token 123:abc", b"accounts:1");
    assert_eq!(one.key_id, "a");
    assert_ne!(one.bytes, two.bytes, "nonces must differ");
    assert!(
        !one.bytes.windows(7).any(|w| w == b"bot tok"),
        "no plaintext in the output"
    );
    assert_eq!(
        ring.open(&one, b"accounts:1").expect("open"),
        b"bot token 123:abc"
    );
}

#[test]
fn tampering_or_another_context_is_refused() {
    let ring = ring(KEY_A, &[]);
    let mut sealed = ring.seal(b"secret", b"accounts:1");
    assert_eq!(ring.open(&sealed, b"accounts:2"), Err(CryptoError::Corrupt));
    let last = sealed.bytes.len() - 1;
    sealed.bytes[last] ^= 1;
    assert_eq!(ring.open(&sealed, b"accounts:1"), Err(CryptoError::Corrupt));
    sealed.bytes.truncate(5);
    assert_eq!(ring.open(&sealed, b"accounts:1"), Err(CryptoError::Corrupt));
}

#[test]
fn rotation_opens_with_old_keys_and_seals_with_the_current_one() {
    let before = ring(KEY_A, &[]);
    let sealed = before.seal(b"auth key bytes", b"ctx");

    let after = ring(KEY_B_HEX, &[KEY_A]);
    assert!(after.needs_rotation(&sealed.key_id));
    assert_eq!(
        after.open(&sealed, b"ctx").expect("old key opens"),
        b"auth key bytes"
    );
    let resealed = after.reseal(&sealed, b"ctx").expect("reseal");
    assert_eq!(resealed.key_id, "b");
    assert!(!after.needs_rotation(&resealed.key_id));

    let retired = ring(KEY_B_HEX, &[]);
    assert_eq!(
        retired.open(&sealed, b"ctx"),
        Err(CryptoError::UnknownKey("a".into()))
    );
    assert_eq!(
        retired.open(&resealed, b"ctx").expect("open"),
        b"auth key bytes"
    );
}

#[test]
fn keys_parse_from_base64_and_hex_and_reject_bad_input() {
    assert_eq!(
        EncryptionKey::parse("short").err(),
        Some(KeyError::NotEncoded)
    );
    assert_eq!(
        EncryptionKey::parse("c2hvcnQ=").err(),
        Some(KeyError::WrongLength(5))
    );
    assert!(matches!(
        EncryptionKey::parse("bad id!:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="),
        Err(KeyError::BadId(_))
    ));
    let unnamed =
        EncryptionKey::parse("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").expect("parse");
    assert!(unnamed.id().starts_with("kcv-") && unnamed.id().len() == 12);
    let named = EncryptionKey::parse(KEY_A).expect("parse");
    assert_ne!(unnamed.id(), "a");
    assert!(
        !format!("{named:?}").contains("AAEC"),
        "Debug must not print the key"
    );
}

#[test]
fn two_keys_cannot_share_an_id() {
    let a = EncryptionKey::parse(KEY_A).expect("a");
    let other_a =
        EncryptionKey::parse("a:1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100")
            .expect("a2");
    assert_eq!(
        Keyring::new(a, vec![other_a]).err(),
        Some(KeyError::DuplicateId("a".into()))
    );
}

#[test]
fn the_development_key_is_recognised_under_any_id() {
    assert!(
        EncryptionKey::parse(DEV_ENCRYPTION_KEY)
            .expect("dev")
            .is_development_key()
    );
    let renamed = DEV_ENCRYPTION_KEY.replacen("dev:", "prod:", 1);
    assert!(
        EncryptionKey::parse(&renamed)
            .expect("renamed")
            .is_development_key()
    );
    assert!(!EncryptionKey::parse(KEY_A).expect("a").is_development_key());
}
