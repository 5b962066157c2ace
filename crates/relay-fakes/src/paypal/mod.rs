//! A fake PayPal: OAuth client credentials, catalog products, billing plans and
//! Subscriptions v1 over HTTP ([`rest`]), and webhooks POSTed to a configured URL, signed
//! the way PayPal signs them (RSA PKCS#1 v1.5 / SHA-256 over
//! `transmission_id|time|webhook_id|crc32`) with the fact sheet's test key, the
//! certificate served under `/v1/notifications/certs/…` and named by an
//! `https://api.sandbox.paypal.com/…` URL (Relay fetches it from the fake when told to).
//! The verify-webhook-signature postback answers SUCCESS only for a delivery it made,
//! with the event bytes verbatim.
//!
//! Tests pull levers the buyer or PayPal's billing would: approve, renew, fail a renewal
//! (suspended after three), cancel, refund, expire; and ones a network would: hold
//! deliveries and release them in reverse, resend an event, send one with a bad signature.

mod rest;
mod signing;

use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// The test certificate (CN messageverificationcerts.sandbox.paypal.com), a trust root
/// for tests.
pub const TEST_CERT_PEM: &str = include_str!("../../fixtures/paypal-test-cert.pem");
/// Where webhooks say the certificate is; fetch it from the fake's `/v1/notifications/certs/…`.
pub const CERT_URL: &str =
    "https://api.sandbox.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-a5cafa77";
/// Consecutive failed renewals before a subscription is suspended.
pub const FAILURE_THRESHOLD: u32 = 3;

/// A handle on a fake PayPal; clones share it.
#[derive(Clone)]
pub struct FakePayPal {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
    client_id: String,
    client_secret: String,
    webhook_id: String,
    http: reqwest::Client,
}

#[derive(Default)]
struct State {
    base_url: String,
    webhook_url: Option<String>,
    next: u64,
    tokens: Vec<String>,
    products: Vec<Value>,
    plans: Vec<Value>,
    subscriptions: Vec<Subscription>,
    request_ids: Vec<(String, String)>,
    /// Events made, by envelope id, with their exact bytes.
    events: Vec<(String, String)>,
    /// Deliveries made: (transmission id, time, signature, event bytes).
    deliveries: Vec<(String, String, String, String)>,
    held: Option<Vec<String>>,
}

struct Subscription {
    id: String,
    plan_id: String,
    custom_id: String,
    status: String,
    failed: u32,
    sales: Vec<String>,
    refunded: Vec<String>,
}

/// A fake running on a port until dropped.
pub struct RunningPayPal {
    pub fake: FakePayPal,
    pub addr: SocketAddr,
    shutdown: CancellationToken,
}

impl Drop for RunningPayPal {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl RunningPayPal {
    /// `http://addr`: the API base URL, and where the certificate is fetched from.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// What a webhook delivery got back.
pub type Delivered = Vec<u16>;

impl FakePayPal {
    /// A fake with these app credentials; webhooks carry `webhook_id`.
    pub fn new(client_id: &str, client_secret: &str, webhook_id: &str) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        Self {
            inner: Arc::new(Inner {
                state: Mutex::new(State::default()),
                client_id: client_id.into(),
                client_secret: client_secret.into(),
                webhook_id: webhook_id.into(),
                http: reqwest::Client::new(),
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn next_id(&self, prefix: &str) -> String {
        let mut s = self.state();
        s.next += 1;
        format!("{prefix}{:012X}", s.next * 7919 + 0x5A17)
    }

    /// Serves on `addr` (port 0 picks one) until the returned value is dropped.
    pub async fn start(self, addr: &str) -> std::io::Result<RunningPayPal> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        self.state().base_url = format!("http://{addr}");
        let shutdown = CancellationToken::new();
        let app = rest::router(self.clone());
        let token = shutdown.clone();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(token.cancelled_owned())
                .await;
        });
        Ok(RunningPayPal {
            fake: self,
            addr,
            shutdown,
        })
    }

    /// Where webhooks go.
    pub fn set_webhook_url(&self, url: &str) {
        self.state().webhook_url = Some(url.to_owned());
    }

    /// Forgets every issued token (the next call with one gets 401).
    pub fn expire_tokens(&self) {
        self.state().tokens.clear();
    }

    /// Ids of the billing plans created, with their names.
    pub fn plans(&self) -> Vec<(String, String)> {
        self.state()
            .plans
            .iter()
            .map(|p| {
                (
                    p["id"].as_str().unwrap_or_default().into(),
                    p["name"].as_str().unwrap_or_default().into(),
                )
            })
            .collect()
    }

    /// A subscription's status (`APPROVAL_PENDING`, `ACTIVE`, …).
    pub fn status(&self, subscription: &str) -> Option<String> {
        self.state()
            .subscriptions
            .iter()
            .find(|s| s.id == subscription)
            .map(|s| s.status.clone())
    }

    /// The subscription id whose approve link is `url` (what a buyer's browser opens).
    pub fn subscription_of_link(&self, url: &str) -> Option<String> {
        let token = url.split("ba_token=").nth(1)?;
        self.state()
            .subscriptions
            .iter()
            .find(|s| s.id.ends_with(token.trim_start_matches("BA-")))
            .map(|s| s.id.clone())
    }

    // ---- levers ----

    /// The buyer approves: ACTIVE, then BILLING.SUBSCRIPTION.ACTIVATED and the first
    /// PAYMENT.SALE.COMPLETED. Returns the HTTP statuses the webhooks got.
    pub async fn approve(&self, subscription: &str) -> Delivered {
        let Some(resource) = self.set_status(subscription, "ACTIVE") else {
            return Vec::new();
        };
        let mut out = self
            .emit("BILLING.SUBSCRIPTION.ACTIVATED", "subscription", resource)
            .await;
        out.extend(self.renew(subscription).await);
        out
    }

    /// A billing cycle is paid: PAYMENT.SALE.COMPLETED.
    pub async fn renew(&self, subscription: &str) -> Delivered {
        let sale_id = self.next_id("SALE");
        let Some(resource) = ({
            let mut s = self.state();
            s.subscriptions
                .iter_mut()
                .find(|x| x.id == subscription)
                .map(|x| {
                    x.sales.push(sale_id.clone());
                    x.failed = 0;
                    json!({"id": sale_id, "state": "completed", "billing_agreement_id": x.id,
                       "custom": x.custom_id, "amount": {"total": "9.00", "currency": "USD"}})
                })
        }) else {
            return Vec::new();
        };
        self.emit("PAYMENT.SALE.COMPLETED", "sale", resource).await
    }

    /// A renewal fails: BILLING.SUBSCRIPTION.PAYMENT.FAILED; at the threshold also
    /// SUSPENDED.
    pub async fn fail_renewal(&self, subscription: &str) -> Delivered {
        let Some((failed, resource)) = ({
            let mut s = self.state();
            s.subscriptions.iter_mut().find(|x| x.id == subscription).map(|x| {
                x.failed += 1;
                (x.failed, json!({"id": x.id, "status": x.status, "plan_id": x.plan_id, "custom_id": x.custom_id,
                       "billing_info": {"failed_payments_count": x.failed}}))
            })
        }) else {
            return Vec::new();
        };
        let mut out = self
            .emit(
                "BILLING.SUBSCRIPTION.PAYMENT.FAILED",
                "subscription",
                resource,
            )
            .await;
        if failed >= FAILURE_THRESHOLD
            && let Some(resource) = self.set_status(subscription, "SUSPENDED")
        {
            out.extend(
                self.emit("BILLING.SUBSCRIPTION.SUSPENDED", "subscription", resource)
                    .await,
            );
        }
        out
    }

    /// The buyer or merchant cancels: CANCELLED.
    pub async fn cancel(&self, subscription: &str) -> Delivered {
        match self.set_status(subscription, "CANCELLED") {
            Some(resource) => {
                self.emit("BILLING.SUBSCRIPTION.CANCELLED", "subscription", resource)
                    .await
            }
            None => Vec::new(),
        }
    }

    /// The subscription ran out: EXPIRED.
    pub async fn expire(&self, subscription: &str) -> Delivered {
        match self.set_status(subscription, "EXPIRED") {
            Some(resource) => {
                self.emit("BILLING.SUBSCRIPTION.EXPIRED", "subscription", resource)
                    .await
            }
            None => Vec::new(),
        }
    }

    /// The last sale is refunded: PAYMENT.SALE.REFUNDED.
    pub async fn refund(&self, subscription: &str) -> Delivered {
        let refund_id = self.next_id("REFUND");
        let Some(resource) = ({
            let mut s = self.state();
            s.subscriptions
                .iter_mut()
                .find(|x| x.id == subscription)
                .and_then(|x| {
                    let sale = x.sales.last()?.clone();
                    x.refunded.push(sale.clone());
                    Some(
                        json!({"id": refund_id, "state": "completed", "sale_id": sale,
                    "billing_agreement_id": x.id, "amount": {"total": "9.00", "currency": "USD"}}),
                    )
                })
        }) else {
            return Vec::new();
        };
        self.emit("PAYMENT.SALE.REFUNDED", "refund", resource).await
    }

    /// Ids of the events made so far, oldest first, with their types.
    pub fn events(&self) -> Vec<(String, String)> {
        self.state()
            .events
            .iter()
            .map(|(id, raw)| {
                let t = serde_json::from_str::<Value>(raw).ok();
                (
                    id.clone(),
                    t.and_then(|v| v["event_type"].as_str().map(str::to_owned))
                        .unwrap_or_default(),
                )
            })
            .collect()
    }

    /// Delivers an event again (a new transmission of the same bytes), as PayPal's
    /// retries and the resend call do.
    pub async fn resend(&self, event_id: &str) -> Delivered {
        let raw = self
            .state()
            .events
            .iter()
            .find(|(id, _)| id == event_id)
            .map(|(_, raw)| raw.clone());
        match raw {
            Some(raw) => vec![self.deliver(&raw, false).await],
            None => Vec::new(),
        }
    }

    /// From now on events are kept instead of delivered, until [`Self::release`].
    pub fn hold(&self) {
        self.state().held = Some(Vec::new());
    }

    /// Delivers the held events, in reverse order when `reversed`.
    pub async fn release(&self, reversed: bool) -> Delivered {
        let mut held = self.state().held.take().unwrap_or_default();
        if reversed {
            held.reverse();
        }
        let mut out = Vec::new();
        for raw in held {
            out.push(self.deliver(&raw, false).await);
        }
        out
    }

    /// Sends a new sale event for `subscription` signed wrongly. Returns its status.
    pub async fn send_forged(&self, subscription: &str) -> u16 {
        let resource = json!({"id": self.next_id("SALE"), "state": "completed", "billing_agreement_id": subscription,
                              "amount": {"total": "9.00", "currency": "USD"}});
        let raw = self.envelope("PAYMENT.SALE.COMPLETED", "sale", &resource);
        self.deliver(&raw, true).await
    }

    // ---- internals ----

    fn set_status(&self, subscription: &str, status: &str) -> Option<Value> {
        let mut s = self.state();
        let x = s.subscriptions.iter_mut().find(|x| x.id == subscription)?;
        x.status = status.to_owned();
        Some(
            json!({"id": x.id, "status": x.status, "plan_id": x.plan_id, "custom_id": x.custom_id}),
        )
    }

    /// An event envelope, keys in PayPal's order (not sorted), compact.
    fn envelope(&self, event_type: &str, resource_type: &str, resource: &Value) -> String {
        let id = self.next_id("WH-");
        let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ");
        format!(
            "{{\"id\":\"{id}\",\"event_version\":\"1.0\",\"create_time\":\"{now}\",\"resource_type\":\"{resource_type}\",\
             \"event_type\":\"{event_type}\",\"summary\":\"{event_type}\",\"resource\":{resource},\"links\":[]}}"
        )
    }

    async fn emit(&self, event_type: &str, resource_type: &str, resource: Value) -> Delivered {
        let raw = self.envelope(event_type, resource_type, &resource);
        let id = serde_json::from_str::<Value>(&raw)
            .ok()
            .and_then(|v| v["id"].as_str().map(str::to_owned))
            .unwrap_or_default();
        {
            let mut s = self.state();
            s.events.push((id, raw.clone()));
            if let Some(held) = s.held.as_mut() {
                held.push(raw);
                return Vec::new();
            }
        }
        vec![self.deliver(&raw, false).await]
    }

    /// POSTs one event, signed (badly when `forge`), retrying a few times on non-2xx.
    /// Returns the last status (0: no webhook URL or unreachable).
    async fn deliver(&self, raw: &str, forge: bool) -> u16 {
        let Some(url) = self.state().webhook_url.clone() else {
            return 0;
        };
        let mut status = 0;
        for attempt in 0..3 {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            let transmission = self.next_id("").to_lowercase();
            let time = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
            let mut sig =
                signing::sign(&transmission, &time, &self.inner.webhook_id, raw.as_bytes());
            if forge {
                sig = signing::sign(&transmission, &time, "another-webhook", raw.as_bytes());
            } else {
                self.state().deliveries.push((
                    transmission.clone(),
                    time.clone(),
                    sig.clone(),
                    raw.to_owned(),
                ));
            }
            let res = self
                .inner
                .http
                .post(&url)
                .header("Content-Type", "application/json")
                .header("PAYPAL-TRANSMISSION-ID", &transmission)
                .header("PAYPAL-TRANSMISSION-TIME", &time)
                .header("PAYPAL-TRANSMISSION-SIG", &sig)
                .header("PAYPAL-CERT-URL", CERT_URL)
                .header("PAYPAL-AUTH-ALGO", "SHA256withRSA")
                .header("PAYPAL-AUTH-VERSION", "v2")
                .body(raw.to_owned())
                .send()
                .await;
            status = res.map(|r| r.status().as_u16()).unwrap_or(0);
            if (200..300).contains(&status) || forge {
                break;
            }
        }
        status
    }
}
