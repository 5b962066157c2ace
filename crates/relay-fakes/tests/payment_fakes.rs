//! The payment fakes as a client sees them: credentials refused the providers' way,
//! webhooks and IPNs that the real verification code accepts, and the postback.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use relay_fakes::nowpayments::FakeNowPayments;
use relay_fakes::paypal::{CERT_URL, FakePayPal, TEST_CERT_PEM};
use relay_payments::paypal::client::{PayPalClient, PayPalConfig, Verification, WebhookHeaders};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;

type Received = Arc<Mutex<Vec<(HeaderMap, Bytes)>>>;

/// A webhook receiver that records what it gets and answers 500 to the first
/// `fail_first` requests, then 200.
async fn receiver(fail_first: usize) -> (String, Received) {
    let got: Received = Arc::default();
    let app = Router::new()
        .route(
            "/hook",
            post(
                move |State(got): State<Received>, headers: HeaderMap, body: Bytes| async move {
                    let mut g = got.lock().expect("test step");
                    g.push((headers, body));
                    if g.len() <= fail_first {
                        axum::http::StatusCode::INTERNAL_SERVER_ERROR
                    } else {
                        axum::http::StatusCode::OK
                    }
                },
            ),
        )
        .with_state(got.clone());
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("test step");
    let url = format!("http://{}/hook", listener.local_addr().expect("test step"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, got)
}

fn h(headers: &HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn nowpayments_refuses_bad_keys_and_signs_what_it_sends_with_retries() {
    let np = FakeNowPayments::new("key", "TEST_IPN_SECRET_do_not_use")
        .start("127.0.0.1:0")
        .await
        .expect("test step");
    let http = reqwest::Client::new();
    let res = http
        .post(format!("{}/v1/invoice", np.url()))
        .header("x-api-key", "wrong")
        .json(&json!({}))
        .send()
        .await
        .expect("test step");
    assert_eq!(res.status(), 403);
    let body: Value = res.json().await.expect("test step");
    assert_eq!(body["code"], "INVALID_API_KEY");

    let (hook, got) = receiver(1).await;
    let res = http
        .post(format!("{}/v1/invoice", np.url()))
        .header("x-api-key", "key")
        .json(&json!({"price_amount": "9.00", "price_currency": "usd", "order_id": "o-1", "ipn_callback_url": hook}))
        .send()
        .await
        .expect("test step");
    assert_eq!(res.status(), 201);
    let inv: Value = res.json().await.expect("test step");
    let id = inv["id"].as_str().expect("id is a string").to_owned();
    assert!(
        inv["invoice_url"]
            .as_str()
            .expect("test step")
            .contains(&id)
    );

    let (payment, statuses) = np.fake.pay(&id).await;
    assert_eq!(statuses, vec![200; 5]);
    let got = got.lock().expect("test step").clone();
    // The first delivery failed and was retried: six requests for five IPNs.
    assert_eq!(got.len(), 6);
    let mut seen = Vec::new();
    for (headers, body) in got.iter() {
        let sig = h(headers, "x-nowpayments-sig");
        relay_payments::nowpayments::verify_ipn(body, Some(&sig), "TEST_IPN_SECRET_do_not_use")
            .expect("verifies");
        // Exactly the canonical form was sent and signed.
        let text = std::str::from_utf8(body).expect("test step");
        assert_eq!(
            relay_payments::nowpayments::canonical(text).expect("test step"),
            text
        );
        assert_eq!(
            sig,
            relay_payments::nowpayments::sign(body, "TEST_IPN_SECRET_do_not_use")
        );
        let v: Value = serde_json::from_slice(body).expect("test step");
        assert_eq!(v["order_id"], "o-1");
        seen.push(v["payment_status"].as_str().expect("test step").to_owned());
    }
    seen.dedup();
    assert_eq!(
        seen,
        ["waiting", "confirming", "confirmed", "sending", "finished"]
    );
    drop(got);
    let res = http
        .get(format!("{}/v1/payment/{payment}", np.url()))
        .header("x-api-key", "key")
        .send()
        .await
        .expect("test step");
    let p: Value = res.json().await.expect("test step");
    assert_eq!(p["payment_status"], "finished");
    assert_eq!(p["payment_id"], payment.to_string());
}

#[tokio::test]
async fn paypal_webhooks_verify_offline_and_by_postback_and_forgeries_do_not() {
    let pp = FakePayPal::new("cid", "csecret", "WH-ID")
        .start("127.0.0.1:0")
        .await
        .expect("test step");
    let http = reqwest::Client::new();
    let res = http
        .post(format!("{}/v1/oauth2/token", pp.url()))
        .basic_auth("cid", Some("nope"))
        .body("grant_type=client_credentials")
        .send()
        .await
        .expect("test step");
    assert_eq!(res.status(), 401);
    let body: Value = res.json().await.expect("test step");
    assert_eq!(body["error"], "invalid_client");

    let config = |verification| PayPalConfig {
        base_url: pp.url(),
        client_id: "cid".into(),
        client_secret: "csecret".into(),
        webhook_id: "WH-ID".into(),
        verification,
        cert_hosts: vec![".paypal.com".into()],
        cert_roots_pem: TEST_CERT_PEM.into(),
        cert_fetch_base: Some(pp.url()),
    };
    let offline =
        PayPalClient::new(http.clone(), config(Verification::Offline)).expect("test step");
    let postback =
        PayPalClient::new(http.clone(), config(Verification::Postback)).expect("test step");
    let product = offline.create_product("Relay").await.expect("test step");
    let plan = offline
        .create_plan(&product, "Relay Pro monthly", "9.00", "USD")
        .await
        .expect("test step");
    assert_eq!(
        offline.list_plans(&product).await.expect("test step"),
        vec![(plan.clone(), "Relay Pro monthly".to_owned())]
    );
    let sub = offline
        .create_subscription(&plan, "u1:pro:x", "req-1", "http://r", "http://c")
        .await
        .expect("test step");
    assert_eq!(sub.status, "APPROVAL_PENDING");
    // The same request id gives the same subscription.
    let again = offline
        .create_subscription(&plan, "u1:pro:x", "req-1", "http://r", "http://c")
        .await
        .expect("test step");
    assert_eq!(again.id, sub.id);

    let (hook, got) = receiver(0).await;
    pp.fake.set_webhook_url(&hook);
    assert_eq!(pp.fake.approve(&sub.id).await, vec![200, 200]);
    assert_eq!(pp.fake.send_forged(&sub.id).await, 200);
    let got = got.lock().expect("test step").clone();
    assert_eq!(got.len(), 3);
    for (i, (headers, body)) in got.iter().enumerate() {
        let wh = WebhookHeaders {
            transmission_id: h(headers, "paypal-transmission-id"),
            transmission_time: h(headers, "paypal-transmission-time"),
            transmission_sig: h(headers, "paypal-transmission-sig"),
            cert_url: h(headers, "paypal-cert-url"),
            auth_algo: h(headers, "paypal-auth-algo"),
        };
        assert_eq!(wh.cert_url, CERT_URL);
        let forged = i == 2;
        assert_eq!(
            offline.verify_webhook(&wh, body).await.is_ok(),
            !forged,
            "offline #{i}"
        );
        assert_eq!(
            postback.verify_webhook(&wh, body).await.is_ok(),
            !forged,
            "postback #{i}"
        );
        if !forged {
            // Re-serialised, the body is no longer what PayPal sent.
            let reserialised =
                serde_json::to_vec(&serde_json::from_slice::<Value>(body).expect("test step"))
                    .expect("test step");
            assert!(offline.verify_webhook(&wh, &reserialised).await.is_err());
            assert!(postback.verify_webhook(&wh, &reserialised).await.is_err());
        }
    }
    assert_eq!(
        offline.subscription(&sub.id).await.expect("test step")["status"],
        "ACTIVE"
    );
    offline
        .cancel_subscription(&sub.id, "test")
        .await
        .expect("test step");
    assert_eq!(pp.fake.status(&sub.id).as_deref(), Some("CANCELLED"));
}
