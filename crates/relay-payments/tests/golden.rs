//! The golden vectors of the payment providers' fact sheet (copied into `fixtures/`):
//! NOWPayments IPN signatures over sorted JSON (flat, nested with small floats, non-ASCII),
//! and a PayPal webhook signed with a test certificate, checked offline.

use proptest::prelude::*;
use relay_payments::SignatureError;
use relay_payments::nowpayments::{canonical, sign, verify_ipn};
use relay_payments::paypal::{
    CertPolicy, Transmission, cert_url_allowed, crc32, pem_certificates, signed_string,
    verify_offline,
};
use rustls_pki_types::{CertificateDer, TrustAnchor};
use std::time::Duration;

const SECRET: &str = "TEST_IPN_SECRET_do_not_use";
const N1: &str = include_str!("fixtures/n1.json");
const N2: &str = include_str!("fixtures/n2.json");
const N3: &str = include_str!("fixtures/n3.json");
const N1_SIG: &str = "531aed711007cb7b7e6421390aeecba444bd12b5fbb0a4800d7474fd99ee4b422ba8e6e3bbdd43a884a4f8fb576d458dda984ae4dc00cc3a7ffe243cb522618e";
const N2_SIG: &str = "1b9c0580cebbc045e099fff84ad5b26db9215594a01598a4e3f15ec2e442e039c67aeb7c7aa35d936931b7b3f9dbcf5a21172c01812b0ea6b7ce16f52599c286";
const N2_PYTHON_SIG: &str = "81d39ca0762197ec1b13f3f4cff4d83e4047e7257ec31997a28df3af4b5a4f65d2ecf20f36f7ba858100b3ab050d1448a05bc0c8befe8ba73024e7fd871cdfbc";
const N2_DEFAULT_SERDE_SIG: &str = "e7cab0d1447b5c95a80897d07f30da9aa687738e72869a3cc6d3dab329a77d93a156f3f87e6baa3838c2a680933e60af9d434107a82b47763c45b70342116c61";
const N3_SIG: &str = "a9c4a8c025110ebfaa9fd6af2aa3ac24d3ca0dc154c70ba2bc84576bfc90bcd9187e16f39252071cb3e8258aa15349eb29d6c048992ef1dc1681f0b889a282ee";
const N3_PYTHON_SIG: &str = "12379b9d802f4fc5eeb7177d7c4158f71d47b2e6ede3873d575426a209e8357ffff46f3f3d76ffa75f91fe773881b24caae977d3ca0229a9a33da72ab0d5c6ab";

#[test]
fn nowpayments_golden_signatures_verify() {
    for (body, sig) in [(N1, N1_SIG), (N2, N2_SIG), (N3, N3_SIG)] {
        assert_eq!(verify_ipn(body.as_bytes(), Some(sig), SECRET), Ok(()));
        assert_eq!(sign(body.as_bytes(), SECRET), sig);
        assert_eq!(
            canonical(body).expect("json"),
            body,
            "the bodies are canonical already"
        );
    }
    // Upper-case hex, a secret with a trailing newline: the same signature.
    assert_eq!(
        verify_ipn(
            N1.as_bytes(),
            Some(&N1_SIG.to_uppercase()),
            &format!("{SECRET}\n")
        ),
        Ok(())
    );
}

#[test]
fn nowpayments_other_serialisations_are_not_what_is_signed() {
    for (body, sig) in [
        (N2, N2_PYTHON_SIG),
        (N2, N2_DEFAULT_SERDE_SIG),
        (N3, N3_PYTHON_SIG),
    ] {
        assert_eq!(
            verify_ipn(body.as_bytes(), Some(sig), SECRET),
            Err(SignatureError::Mismatch)
        );
    }
}

#[test]
fn nowpayments_reordered_or_spaced_bodies_verify_through_the_sorted_form() {
    let value: serde_json::Value = serde_json::from_str(N1).expect("json");
    let pretty = serde_json::to_string_pretty(&value).expect("json");
    // serde_json's map is sorted; write the keys in reverse to be sure.
    let object = value.as_object().expect("object");
    let reversed = format!(
        "{{{}}}",
        object
            .iter()
            .rev()
            .map(|(k, v)| format!("{}: {}", serde_json::to_string(k).expect("key"), v))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for body in [pretty, reversed] {
        assert_eq!(
            verify_ipn(body.as_bytes(), Some(N1_SIG), SECRET),
            Ok(()),
            "{body}"
        );
    }
    // N2 with its keys reversed: floats must be read exactly to get its signature.
    let n2_nested = N2.replace(
        r#""fee":{"currency":"btc","depositFee":0.09853637216235617,"serviceFee":0,"withdrawalFee":0}"#,
        r#""fee":{"withdrawalFee":0,"serviceFee":0,"depositFee":0.09853637216235617,"currency":"btc"}"#,
    );
    assert_ne!(n2_nested, N2);
    assert_eq!(
        verify_ipn(n2_nested.as_bytes(), Some(N2_SIG), SECRET),
        Ok(())
    );
}

#[test]
fn nowpayments_forgeries_and_garbage_are_refused() {
    let tampered = N1.replace("\"finished\"", "\"finishes\"");
    assert_eq!(
        verify_ipn(tampered.as_bytes(), Some(N1_SIG), SECRET),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        verify_ipn(N1.as_bytes(), Some(N1_SIG), "another secret"),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        verify_ipn(N1.as_bytes(), None, SECRET),
        Err(SignatureError::Missing)
    );
    assert!(matches!(
        verify_ipn(N1.as_bytes(), Some("abc"), SECRET),
        Err(SignatureError::Malformed(_))
    ));
    let zeros = "0".repeat(128);
    assert!(matches!(
        verify_ipn(b"{not json", Some(&zeros), SECRET),
        Err(SignatureError::Malformed(_))
    ));
}

proptest! {
    #[test]
    fn the_canonical_reader_never_panics(body in "\\PC{0,200}") {
        let _ = canonical(&body);
        let _ = verify_ipn(body.as_bytes(), Some(&"0".repeat(128)), SECRET);
    }

    #[test]
    fn canonical_forms_are_stable(value in arb_json()) {
        let text = value.to_string();
        let once = canonical(&text).expect("serde's JSON reads");
        prop_assert_eq!(canonical(&once).expect("reads again"), once.clone());
    }
}

fn arb_json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i32>().prop_map(serde_json::Value::from),
        (-1e9f64..1e9).prop_map(serde_json::Value::from),
        "\\PC{0,8}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            prop::collection::btree_map("\\PC{0,6}", inner, 0..4)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

const PAYPAL_BODY: &[u8] = include_bytes!("fixtures/paypal-capture-completed.json");
const PAYPAL_CERT: &str = include_str!("fixtures/paypal-test-cert.pem");
const PAYPAL_SIG: &str = "TMkUNTjGxeSEg96GXbS+sI/V7+fokUpnw5EvycaQnVCzaRtGhDFm+lwsPHQBdDnHDCDAhEdKpcpiRx7hrPjCK9CVs7qXCYTJOwlAzpvSu428C7/UwLTr1iSbVfhFsZVgu3OhSMY3eFop6CM1X80i1DmPb6Iq2bR2r16pwccK5B5RCDO87319TdU/q2Hk1WDRLweW+FSDDNG8F3HMFinUlQShV4KxXZO9Y5NcjrJUCjO0bJOIYoczkchrkg6vaxj44C6Gj46xDeZFJBTS1Y2Ckgqs619lyVrTdgqzuVGJEnvPc8XFR1+JPtjkYhiL5v1PSzeohi3KrVU6wt4P0Zi8Bg==";
const WEBHOOK_ID: &str = "5GP028458E2496506";
/// 2026-11-01T10:15:03Z.
const NOW: Duration = Duration::from_secs(1_793_528_103);

fn transmission(signature: &str) -> Transmission<'_> {
    Transmission {
        id: "2a8f9c40-b7d1-11f1-9a6e-0b1c2d3e4f50",
        time: "2026-11-01T10:15:03Z",
        signature,
        cert_url: "https://api.sandbox.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-a5cafa77",
        auth_algo: "SHA256withRSA",
    }
}

fn with_test_root<T>(check: impl FnOnce(&CertPolicy<'_>) -> T) -> T {
    let der = pem_certificates(PAYPAL_CERT).expect("pem").remove(0);
    let cert = CertificateDer::from(der);
    let anchor: TrustAnchor<'_> = webpki::anchor_from_trusted_cert(&cert).expect("anchor");
    let roots = [anchor];
    check(&CertPolicy {
        roots: &roots,
        hosts: &[".paypal.com"],
        common_name_prefix: "messageverificationcerts",
        common_name_suffix: ".paypal.com",
    })
}

#[test]
fn paypal_golden_crc_and_signed_string() {
    assert_eq!(PAYPAL_BODY.len(), 574);
    assert_eq!(crc32(PAYPAL_BODY), 2_547_604_869, "unsigned, above 2^31");
    assert_eq!(
        signed_string(
            "2a8f9c40-b7d1-11f1-9a6e-0b1c2d3e4f50",
            "2026-11-01T10:15:03Z",
            WEBHOOK_ID,
            PAYPAL_BODY
        ),
        "2a8f9c40-b7d1-11f1-9a6e-0b1c2d3e4f50|2026-11-01T10:15:03Z|5GP028458E2496506|2547604869"
    );
    let value: serde_json::Value = serde_json::from_slice(PAYPAL_BODY).expect("json");
    let pretty = serde_json::to_vec_pretty(&value).expect("json");
    assert_ne!(
        crc32(&pretty),
        crc32(PAYPAL_BODY),
        "the CRC is of the bytes, not the value"
    );
}

#[test]
fn paypal_golden_signature_verifies_offline() {
    with_test_root(|policy| {
        assert_eq!(
            verify_offline(
                &transmission(PAYPAL_SIG),
                WEBHOOK_ID,
                PAYPAL_BODY,
                PAYPAL_CERT,
                policy,
                NOW
            ),
            Ok(())
        );
    });
}

#[test]
fn paypal_tampering_is_refused() {
    with_test_root(|policy| {
        let check = |t: &Transmission<'_>, webhook_id: &str, body: &[u8]| {
            verify_offline(t, webhook_id, body, PAYPAL_CERT, policy, NOW)
        };
        let value: serde_json::Value = serde_json::from_slice(PAYPAL_BODY).expect("json");
        let pretty = serde_json::to_vec_pretty(&value).expect("json");
        assert_eq!(
            check(&transmission(PAYPAL_SIG), WEBHOOK_ID, &pretty),
            Err(SignatureError::Mismatch),
            "re-serialised"
        );
        assert_eq!(
            check(&transmission(PAYPAL_SIG), "WEBHOOK_ID", PAYPAL_BODY),
            Err(SignatureError::Mismatch),
            "another webhook"
        );
        let mut other_time = transmission(PAYPAL_SIG);
        other_time.time = "2026-11-01T10:15:04Z";
        assert_eq!(
            check(&other_time, WEBHOOK_ID, PAYPAL_BODY),
            Err(SignatureError::Mismatch)
        );
        let mut elsewhere = transmission(PAYPAL_SIG);
        elsewhere.cert_url = "https://evil.example/paypal.com/cert.pem";
        assert!(matches!(
            check(&elsewhere, WEBHOOK_ID, PAYPAL_BODY),
            Err(SignatureError::Certificate(_))
        ));
        let mut algo = transmission(PAYPAL_SIG);
        algo.auth_algo = "SHA1withRSA";
        assert!(matches!(
            check(&algo, WEBHOOK_ID, PAYPAL_BODY),
            Err(SignatureError::Malformed(_))
        ));
        assert!(matches!(
            check(&transmission("%%%"), WEBHOOK_ID, PAYPAL_BODY),
            Err(SignatureError::Malformed(_))
        ));
    });
}

#[test]
fn paypal_certificates_must_chain_to_a_trusted_root_and_be_valid_now() {
    // With the real roots (webpki-roots), the self-signed test certificate is not trusted.
    let policy = CertPolicy {
        roots: webpki_roots::TLS_SERVER_ROOTS,
        hosts: &[".paypal.com"],
        common_name_prefix: "messageverificationcerts",
        common_name_suffix: ".paypal.com",
    };
    assert!(matches!(
        verify_offline(
            &transmission(PAYPAL_SIG),
            WEBHOOK_ID,
            PAYPAL_BODY,
            PAYPAL_CERT,
            &policy,
            NOW
        ),
        Err(SignatureError::Certificate(_))
    ));
    with_test_root(|policy| {
        // Before the certificate's validity (2026-01-01).
        let before = Duration::from_secs(1_700_000_000);
        assert!(matches!(
            verify_offline(
                &transmission(PAYPAL_SIG),
                WEBHOOK_ID,
                PAYPAL_BODY,
                PAYPAL_CERT,
                policy,
                before
            ),
            Err(SignatureError::Certificate(_))
        ));
        let strict = CertPolicy {
            common_name_suffix: ".paypal.example",
            ..*policy
        };
        assert!(matches!(
            verify_offline(
                &transmission(PAYPAL_SIG),
                WEBHOOK_ID,
                PAYPAL_BODY,
                PAYPAL_CERT,
                &strict,
                NOW
            ),
            Err(SignatureError::Certificate(_))
        ));
    });
}

#[test]
fn cert_urls_only_on_paypal_hosts() {
    let hosts = [".paypal.com"];
    assert!(cert_url_allowed(
        "https://api.sandbox.paypal.com/v1/notifications/certs/CERT-1",
        &hosts
    ));
    assert!(cert_url_allowed(
        "https://api.paypal.com/v1/notifications/certs/CERT-1",
        &hosts
    ));
    for bad in [
        "http://api.paypal.com/cert",
        "https://api.paypal.com.evil.example/cert",
        "https://evilpaypal.com/cert",
        "https://api.paypal.com@evil.example/cert",
        "https://evil.example/?https://api.paypal.com/",
        "ftp://api.paypal.com/cert",
    ] {
        assert!(!cert_url_allowed(bad, &hosts), "{bad}");
    }
}
