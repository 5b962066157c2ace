//! Both payment flows end to end: the API against the fake PayPal and the fake
//! NOWPayments, webhooks really delivered by the fakes, the real PostgreSQL.

mod checkout;
mod nowpayments;
mod paypal;

use crate::helpers::{Session, TestApp, spawn_customized};
use relay_api::routes::payments::{Payments, PaymentsSettings};
use relay_fakes::nowpayments::{FakeNowPayments, RunningNowPayments};
use relay_fakes::paypal::{FakePayPal, RunningPayPal, TEST_CERT_PEM};
use relay_payments::nowpayments::client::NowPaymentsConfig;
use relay_payments::paypal::client::{PayPalConfig, Verification};
use serde_json::{Value, json};
use std::sync::Arc;

pub const CLIENT_ID: &str = "fake-client-id";
pub const CLIENT_SECRET: &str = "fake-client-secret";
pub const WEBHOOK_ID: &str = "5GP028458E2496506";
pub const API_KEY: &str = "fake-np-api-key";
pub const IPN_SECRET: &str = "TEST_IPN_SECRET_do_not_use";

pub struct PayStack {
    pub app: TestApp,
    pub paypal: RunningPayPal,
    pub nowpayments: RunningNowPayments,
}

/// The app with both providers pointing at fresh fakes, the fakes' webhooks at the app.
pub async fn stack(verification: Verification) -> PayStack {
    let paypal = FakePayPal::new(CLIENT_ID, CLIENT_SECRET, WEBHOOK_ID)
        .start("127.0.0.1:0")
        .await
        .expect("fake paypal");
    let nowpayments = FakeNowPayments::new(API_KEY, IPN_SECRET)
        .start("127.0.0.1:0")
        .await
        .expect("fake nowpayments");
    let settings = |addr: std::net::SocketAddr| PaymentsSettings {
        public_url: format!("http://{addr}"),
        paypal: Some(PayPalConfig {
            base_url: paypal.url(),
            client_id: CLIENT_ID.into(),
            client_secret: CLIENT_SECRET.into(),
            webhook_id: WEBHOOK_ID.into(),
            verification,
            cert_hosts: vec![".paypal.com".into()],
            cert_roots_pem: TEST_CERT_PEM.into(),
            cert_fetch_base: Some(paypal.url()),
        }),
        paypal_missing: Vec::new(),
        nowpayments: Some(NowPaymentsConfig {
            base_url: nowpayments.url(),
            api_key: API_KEY.into(),
            ipn_secret: IPN_SECRET.into(),
        }),
        nowpayments_missing: Vec::new(),
    };
    let app = spawn_customized(|state, addr| {
        let payments = Payments::new(settings(addr)).expect("payments");
        state.with_payments(Arc::new(payments))
    })
    .await;
    paypal
        .fake
        .set_webhook_url(&app.url("/api/v1/payments/webhooks/paypal"));
    PayStack {
        app,
        paypal,
        nowpayments,
    }
}

impl PayStack {
    pub async fn checkout(&self, user: &Session, plan: &str, provider: &str) -> (u16, Value) {
        let res = self
            .app
            .call(
                reqwest::Method::POST,
                "/api/v1/payments/checkout",
                &user.access,
                Some(&json!({"plan": plan, "provider": provider})),
            )
            .await;
        let status = res.status().as_u16();
        (status, res.json().await.expect("json"))
    }

    pub async fn payments(&self, user: &Session) -> Value {
        let res = self.app.get_as("/api/v1/payments", &user.access).await;
        assert_eq!(res.status(), 200);
        res.json().await.expect("json")
    }

    /// How many webhook events are stored.
    pub async fn stored_events(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM payment_events")
            .fetch_one(self.app.db().pool())
            .await
            .expect("count")
    }
}

/// The subscription in a payments view that is in force, if any.
pub fn live(view: &Value) -> Option<&Value> {
    view["subscriptions"]
        .as_array()?
        .iter()
        .find(|s| s["status"] == "active" || s["status"] == "past_due")
}

pub fn time(v: &Value) -> chrono::DateTime<chrono::Utc> {
    v.as_str()
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&chrono::Utc))
        .unwrap_or_else(|| panic!("not a time: {v}"))
}
