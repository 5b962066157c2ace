//! Checkout's answers before any provider is involved: field errors, a provider without
//! settings, an existing subscription.

use super::{Verification, stack};
use crate::helpers::spawn_app;
use serde_json::{Value, json};

#[tokio::test]
async fn bad_plan_or_provider_are_field_errors() {
    let s = stack(Verification::Offline).await;
    let user = s.app.signed_in("fields@example.com").await;
    let (status, body) = s.checkout(&user, "platinum", "stripe").await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"]["fields"]["plan"].is_array(), "{body}");
    assert!(body["error"]["fields"]["provider"].is_array(), "{body}");
    let (status, body) = s.checkout(&user, "free", "paypal").await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(s.payments(&user).await["items"], json!([]));
}

#[tokio::test]
async fn without_settings_checkout_is_unavailable_and_names_what_is_missing() {
    let app = spawn_app().await;
    let user = app.signed_in("nopay@example.com").await;
    let res = app
        .call(
            reqwest::Method::POST,
            "/api/v1/payments/checkout",
            &user.access,
            Some(&json!({"plan": "pro", "provider": "nowpayments"})),
        )
        .await;
    assert_eq!(res.status(), 503);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["error"]["code"], "payments_unavailable");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("nowpayments"),
        "{body}"
    );
    let res = app
        .client
        .post(app.url("/api/v1/payments/webhooks/paypal"))
        .body("{}")
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 503);
}

#[tokio::test]
async fn already_on_the_plan_is_a_conflict() {
    let s = stack(Verification::Offline).await;
    let user = s.app.signed_in("twice@example.com").await;
    let (status, body) = s.checkout(&user, "pro", "paypal").await;
    assert_eq!(status, 201, "{body}");
    let sub = s
        .paypal
        .fake
        .subscription_of_link(body["url"].as_str().expect("url"))
        .expect("sub");
    s.paypal.fake.approve(&sub).await;
    let (status, body) = s.checkout(&user, "pro", "nowpayments").await;
    assert_eq!(status, 409, "{body}");
    // An upgrade is fine.
    let (status, body) = s.checkout(&user, "elite", "nowpayments").await;
    assert_eq!(status, 201, "{body}");
}
