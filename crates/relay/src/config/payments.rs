//! The payment settings: PayPal and NOWPayments, each configured completely or not at all
//! (then checkout with it answers 503 naming what is missing), and the subscription
//! lifecycle. Production refuses provider URLs on local or fake hosts and the test
//! overrides of PayPal's certificate checks.

use super::{Checker, Environment, url_with_scheme};
use relay_api::routes::payments::PaymentsSettings;
use relay_payments::nowpayments::client::NowPaymentsConfig;
use relay_payments::paypal::client::{PayPalConfig, Verification};

/// Whether a URL points at this machine or a fake (refused in production).
fn local_or_fake(url: &str) -> bool {
    let host = url
        .split("://")
        .nth(1)
        .unwrap_or(url)
        .split(['/', ':'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    url.starts_with("http://")
        || host == "localhost"
        || host.starts_with("127.")
        || host == "[::1]"
        || host == "0.0.0.0"
        || host.contains("fake")
        || host.ends_with(".local")
}

fn text_or_none(c: &Checker<'_>, key: &str) -> Option<String> {
    Some(c.text(key).trim().to_owned()).filter(|t| !t.is_empty())
}

pub(super) fn payments(c: &mut Checker<'_>, env: Option<Environment>) -> Option<PaymentsSettings> {
    let production = env == Some(Environment::Production);
    let public_url = c.parse("payments_public_url", "an http(s) URL", |t| {
        url_with_scheme(t, &["https://", "http://"])
    });
    let paypal_url = c.parse("paypal_api_url", "an http(s) URL", |t| {
        url_with_scheme(t, &["https://", "http://"])
    });
    let verification = c.parse("paypal_verification", "offline or postback", |t| match t {
        "offline" => Ok(Verification::Offline),
        "postback" => Ok(Verification::Postback),
        _ => Err(String::new()),
    });
    let cert_hosts: Vec<String> = c
        .text("paypal_cert_hosts")
        .split(',')
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .collect();
    let roots = c.parse("paypal_cert_roots_file", "a readable PEM file", |t| {
        if t.is_empty() {
            return Ok(String::new());
        }
        std::fs::read_to_string(t).map_err(|e| format!("cannot read {t}: {e}"))
    });
    let cert_fetch = text_or_none(c, "paypal_cert_fetch_url");
    let np_url = c.parse("nowpayments_api_url", "an http(s) URL", |t| {
        url_with_scheme(t, &["https://", "http://"])
    });
    if production {
        for (key, url) in [
            ("paypal_api_url", &paypal_url),
            ("nowpayments_api_url", &np_url),
        ] {
            if url.as_deref().is_some_and(local_or_fake) {
                c.problem(
                    key,
                    "points at a local or fake host (or plain http), which production refuses",
                );
            }
        }
        if cert_fetch.is_some() {
            c.problem(
                "paypal_cert_fetch_url",
                "is for tests against the fake; production refuses it",
            );
        }
        if roots.as_deref().is_some_and(|r| !r.is_empty()) {
            c.problem(
                "paypal_cert_roots_file",
                "is for tests against the fake; production refuses it",
            );
        }
        if cert_hosts
            .iter()
            .any(|h| !h.to_ascii_lowercase().ends_with("paypal.com"))
        {
            c.problem(
                "paypal_cert_hosts",
                "may only name PayPal's hosts in production",
            );
        }
    }
    if cert_hosts.is_empty() {
        c.problem(
            "paypal_cert_hosts",
            "must name at least one host suffix, e.g. .paypal.com",
        );
    }

    let paypal_keys = [
        "paypal_client_id",
        "paypal_client_secret",
        "paypal_webhook_id",
    ];
    let paypal_values: Vec<Option<String>> =
        paypal_keys.iter().map(|k| text_or_none(c, k)).collect();
    let paypal_missing: Vec<String> = paypal_keys
        .iter()
        .zip(&paypal_values)
        .filter(|(_, v)| v.is_none())
        .map(|(k, _)| k.to_string())
        .collect();
    if !paypal_missing.is_empty() && paypal_missing.len() < paypal_keys.len() {
        for key in &paypal_missing {
            c.problem(key, "is needed with the other PayPal settings");
        }
    }
    let np_keys = ["nowpayments_api_key", "nowpayments_ipn_secret"];
    let np_values: Vec<Option<String>> = np_keys.iter().map(|k| text_or_none(c, k)).collect();
    let np_missing: Vec<String> = np_keys
        .iter()
        .zip(&np_values)
        .filter(|(_, v)| v.is_none())
        .map(|(k, _)| k.to_string())
        .collect();
    if np_missing.len() == 1 {
        c.problem(
            &np_missing[0],
            "is needed with the other NOWPayments setting",
        );
    }
    let (public_url, paypal_url, verification, roots, np_url) =
        (public_url?, paypal_url?, verification?, roots?, np_url?);
    let paypal = match paypal_values.as_slice() {
        [Some(id), Some(secret), Some(webhook)] => Some(PayPalConfig {
            base_url: paypal_url,
            client_id: id.clone(),
            client_secret: secret.clone(),
            webhook_id: webhook.clone(),
            verification,
            cert_hosts,
            cert_roots_pem: roots,
            cert_fetch_base: cert_fetch,
        }),
        _ => None,
    };
    let nowpayments = match np_values.as_slice() {
        [Some(key), Some(secret)] => Some(NowPaymentsConfig {
            base_url: np_url,
            api_key: key.clone(),
            ipn_secret: secret.clone(),
        }),
        _ => None,
    };
    Some(PaymentsSettings {
        public_url,
        paypal,
        paypal_missing,
        nowpayments,
        nowpayments_missing: np_missing,
    })
}

#[cfg(test)]
mod tests {
    use super::local_or_fake;
    use crate::config::load;
    use std::collections::HashMap;

    fn with_env(vars: &[(&str, &str)]) -> Result<crate::config::Config, Vec<String>> {
        let env: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        load(None, &|name| env.get(name).cloned())
    }

    const PROD: [(&str, &str); 3] = [
        ("RELAY_ENV", "production"),
        (
            "RELAY_ENCRYPTION_KEY",
            "prod1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        ),
        (
            "RELAY_JWT_SECRET",
            "a-long-production-secret-of-40-characters!",
        ),
    ];

    #[test]
    fn without_credentials_payments_are_off_and_say_what_is_missing() {
        let config = with_env(&[]).expect("defaults");
        assert!(config.payments.paypal.is_none() && config.payments.nowpayments.is_none());
        assert_eq!(
            config.payments.paypal_missing,
            [
                "paypal_client_id",
                "paypal_client_secret",
                "paypal_webhook_id"
            ]
        );
        assert_eq!(config.subscription_grace.as_secs(), 86_400);
    }

    #[test]
    fn a_provider_is_configured_completely_or_not_at_all() {
        let problems = with_env(&[
            ("RELAY_PAYPAL_CLIENT_ID", "id"),
            ("RELAY_NOWPAYMENTS_IPN_SECRET", "s3cret-ipn"),
        ])
        .expect_err("partial");
        assert_eq!(problems.len(), 3, "{problems:#?}");
        assert!(problems.iter().all(|p| !p.contains("s3cret-ipn")));
        let config = with_env(&[
            ("RELAY_PAYPAL_CLIENT_ID", "id"),
            ("RELAY_PAYPAL_CLIENT_SECRET", "pp-secret"),
            ("RELAY_PAYPAL_WEBHOOK_ID", "WH"),
            ("RELAY_PAYPAL_VERIFICATION", "postback"),
        ])
        .expect("complete");
        assert!(config.payments.paypal.is_some());
        assert!(!format!("{config:?}").contains("pp-secret"));
    }

    #[test]
    fn production_refuses_fake_hosts_and_test_overrides() {
        let mut vars = PROD.to_vec();
        vars.extend([
            ("RELAY_PAYPAL_API_URL", "http://127.0.0.1:9000"),
            ("RELAY_NOWPAYMENTS_API_URL", "https://localhost:9001"),
            ("RELAY_PAYPAL_CERT_FETCH_URL", "http://127.0.0.1:9000"),
            ("RELAY_PAYPAL_CERT_HOSTS", ".example.com"),
        ]);
        let problems = with_env(&vars).expect_err("refused");
        for var in [
            "RELAY_PAYPAL_API_URL",
            "RELAY_NOWPAYMENTS_API_URL",
            "RELAY_PAYPAL_CERT_FETCH_URL",
            "RELAY_PAYPAL_CERT_HOSTS",
        ] {
            assert!(
                problems.iter().any(|p| p.starts_with(var)),
                "{var}: {problems:#?}"
            );
        }
        // The same in development is fine (the fakes).
        assert!(with_env(&vars[3..]).is_ok());
        assert!(with_env(&PROD).is_ok());
    }

    #[test]
    fn local_and_fake_hosts_are_recognised() {
        for url in [
            "http://api-m.paypal.com",
            "https://localhost:9000",
            "https://127.0.0.1",
            "https://fake-paypal.example",
        ] {
            assert!(local_or_fake(url), "{url}");
        }
        for url in ["https://api-m.paypal.com", "https://api.nowpayments.io"] {
            assert!(!local_or_fake(url), "{url}");
        }
    }
}
