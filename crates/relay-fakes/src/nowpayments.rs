//! A fake NOWPayments: `POST /v1/invoice` (hosted invoice with `id` and `invoice_url`),
//! `GET /v1/payment/{id}`, `GET /v1/status`, all behind `x-api-key` (403
//! `INVALID_API_KEY`). Tests pull the buyer's levers: pay (one IPN per status step
//! waiting → confirming → confirmed → sending → finished), underpay (partially_paid),
//! let it expire, fail, refund, resend an IPN, forge one. IPNs go to the invoice's
//! `ipn_callback_url`, compact with keys sorted and JavaScript numbers, signed with
//! HMAC-SHA512 of exactly the bytes sent, and are retried on non-2xx.

use axum::body::Bytes;
use axum::extract::{Path, State as With};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// A handle on a fake NOWPayments; clones share it.
#[derive(Clone)]
pub struct FakeNowPayments {
    inner: Arc<Inner>,
}

struct Inner {
    api_key: String,
    ipn_secret: String,
    state: Mutex<State>,
    http: reqwest::Client,
}

#[derive(Default)]
struct State {
    base_url: String,
    next: u64,
    invoices: Vec<Value>,
    payments: Vec<Value>,
    /// IPNs sent: (payment id, status, exact body).
    sent: Vec<(u64, String, String)>,
}

/// A fake running on a port until dropped.
pub struct RunningNowPayments {
    pub fake: FakeNowPayments,
    pub addr: SocketAddr,
    shutdown: CancellationToken,
}

impl Drop for RunningNowPayments {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl RunningNowPayments {
    /// `http://addr` (the `/v1/…` paths are under it).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// The statuses of a full payment, one IPN each.
pub const PAID_ARC: [&str; 5] = ["waiting", "confirming", "confirmed", "sending", "finished"];

impl FakeNowPayments {
    pub fn new(api_key: &str, ipn_secret: &str) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        Self {
            inner: Arc::new(Inner {
                api_key: api_key.into(),
                ipn_secret: ipn_secret.into(),
                state: Mutex::new(State::default()),
                http: reqwest::Client::new(),
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn next(&self) -> u64 {
        let mut s = self.state();
        s.next += 1;
        4_522_625_843 + s.next * 7919
    }

    /// Serves on `addr` (port 0 picks one) until the returned value is dropped.
    pub async fn start(self, addr: &str) -> std::io::Result<RunningNowPayments> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        self.state().base_url = format!("http://{addr}");
        let shutdown = CancellationToken::new();
        let app = Router::new()
            .route(
                "/v1/status",
                get(|| async { Json(json!({"message": "OK"})) }),
            )
            .route("/v1/invoice", post(create_invoice))
            .route("/v1/payment/{id}", get(get_payment))
            .route("/payment/", get(hosted_page))
            .route("/_fake/invoices/{id}/{lever}", post(lever))
            .with_state(self.clone());
        let token = shutdown.clone();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(token.cancelled_owned())
                .await;
        });
        Ok(RunningNowPayments {
            fake: self,
            addr,
            shutdown,
        })
    }

    /// The invoice id in a hosted page URL (`…/payment/?iid=<id>`).
    pub fn invoice_of_url(url: &str) -> Option<String> {
        url.split("iid=").nth(1).map(str::to_owned)
    }

    /// The invoice as created.
    pub fn invoice(&self, id: &str) -> Option<Value> {
        self.state()
            .invoices
            .iter()
            .find(|i| i["id"] == id)
            .cloned()
    }

    // ---- levers ----

    /// The buyer pays the invoice in full: a new payment and an IPN per status step.
    /// Returns (the payment id, the HTTP statuses the IPNs got).
    pub async fn pay(&self, invoice: &str) -> (u64, Vec<u16>) {
        self.run(invoice, 1.0, &PAID_ARC).await
    }

    /// A full payment whose IPNs arrive in reverse order (finished first).
    pub async fn pay_out_of_order(&self, invoice: &str) -> (u64, Vec<u16>) {
        let (payment_id, _) = self.run(invoice, 1.0, &[]).await;
        let mut bodies = Vec::new();
        for status in PAID_ARC {
            self.set_status(payment_id, status);
            if let Some(body) = self.body(payment_id, status) {
                self.state()
                    .sent
                    .push((payment_id, status.to_owned(), body.clone()));
                bodies.push(body);
            }
        }
        let mut out = Vec::new();
        for body in bodies.iter().rev() {
            out.push(self.post(payment_id, body, false).await);
        }
        (payment_id, out)
    }

    /// The buyer sends too little: waiting, then partially_paid.
    pub async fn underpay(&self, invoice: &str) -> (u64, Vec<u16>) {
        self.run(invoice, 0.5, &["waiting", "partially_paid"]).await
    }

    /// Nothing arrives in time: waiting, then expired.
    pub async fn expire(&self, invoice: &str) -> (u64, Vec<u16>) {
        self.run(invoice, 0.0, &["waiting", "expired"]).await
    }

    /// The payment fails: waiting, then failed.
    pub async fn fail(&self, invoice: &str) -> (u64, Vec<u16>) {
        self.run(invoice, 0.0, &["waiting", "failed"]).await
    }

    /// A paid payment is refunded: one IPN `refunded`.
    pub async fn refund(&self, payment_id: u64) -> u16 {
        self.step(payment_id, "refunded").await
    }

    /// Sends an IPN already sent (same bytes, same signature) again.
    pub async fn resend(&self, payment_id: u64, status: &str) -> u16 {
        let body = self
            .state()
            .sent
            .iter()
            .find(|(p, s, _)| *p == payment_id && s == status)
            .map(|(_, _, b)| b.clone());
        match body {
            Some(body) => self.post(payment_id, &body, false).await,
            None => 0,
        }
    }

    /// An IPN for `payment_id` with `status` signed with the wrong secret.
    pub async fn forge(&self, payment_id: u64, status: &str) -> u16 {
        let Some(body) = self.body(payment_id, status) else {
            return 0;
        };
        self.post(payment_id, &body, true).await
    }

    /// The IPN bodies sent so far, oldest first.
    pub fn sent(&self) -> Vec<String> {
        self.state()
            .sent
            .iter()
            .map(|(_, _, b)| b.clone())
            .collect()
    }

    // ---- internals ----

    async fn run(&self, invoice: &str, share: f64, statuses: &[&str]) -> (u64, Vec<u16>) {
        let Some(inv) = self.invoice(invoice) else {
            return (0, Vec::new());
        };
        let payment_id = self.next();
        let price: f64 = inv["price_amount"]
            .as_str()
            .and_then(|p| p.parse().ok())
            .unwrap_or(0.0);
        let pay_amount = (price * 10.0 * 1e6).round() / 1e6;
        let payment = json!({
            "payment_id": payment_id, "invoice_id": inv["id"].as_str().and_then(|i| i.parse::<u64>().ok()),
            "payment_status": "waiting", "pay_address": "TNDFkiSmBQorNFacb3735q8MnT29sn8BLn",
            "price_amount": price, "price_currency": inv["price_currency"],
            "pay_amount": pay_amount, "actually_paid": 0, "actually_paid_at_fiat": 0,
            "pay_currency": "trx", "order_id": inv["order_id"], "order_description": inv["order_description"],
            "purchase_id": (payment_id + 1).to_string(), "outcome_amount": (pay_amount * share * 0.99 * 1e6).round() / 1e6,
            "outcome_currency": "trx", "parent_payment_id": null, "payin_extra_id": null, "payment_extra_ids": null,
            "fee": {"currency": "trx", "depositFee": 0, "serviceFee": 0.09853637216235617, "withdrawalFee": 0},
            "ipn_callback_url": inv["ipn_callback_url"],
            "share": share,
        });
        self.state().payments.push(payment);
        let mut out = Vec::new();
        for status in statuses {
            out.push(self.step(payment_id, status).await);
        }
        (payment_id, out)
    }

    /// Moves the payment to `status` and sends its IPN.
    async fn step(&self, payment_id: u64, status: &str) -> u16 {
        if !self.set_status(payment_id, status) {
            return 0;
        }
        let Some(body) = self.body(payment_id, status) else {
            return 0;
        };
        self.state()
            .sent
            .push((payment_id, status.to_owned(), body.clone()));
        self.post(payment_id, &body, false).await
    }

    /// Moves the payment to `status` (amounts paid follow); false if there is no such
    /// payment.
    fn set_status(&self, payment_id: u64, status: &str) -> bool {
        {
            let mut s = self.state();
            let Some(p) = s
                .payments
                .iter_mut()
                .find(|p| p["payment_id"] == payment_id)
            else {
                return false;
            };
            let share = p["share"].as_f64().unwrap_or(0.0);
            p["payment_status"] = json!(status);
            if matches!(
                status,
                "confirming" | "confirmed" | "sending" | "finished" | "partially_paid"
            ) {
                let pay = p["pay_amount"].as_f64().unwrap_or(0.0);
                p["actually_paid"] = json!((pay * share * 1e6).round() / 1e6);
                let fiat = p["price_amount"].as_f64().unwrap_or(0.0) * share;
                p["actually_paid_at_fiat"] = json!((fiat * 100.0).round() / 100.0);
            }
            p["updated_at"] = json!(chrono::Utc::now().timestamp_millis());
        }
        true
    }

    /// The IPN body: the payment as GET shows it, compact, keys sorted, JS numbers.
    fn body(&self, payment_id: u64, status: &str) -> Option<String> {
        let s = self.state();
        let mut p = s
            .payments
            .iter()
            .find(|p| p["payment_id"] == payment_id)?
            .clone();
        let obj = p.as_object_mut()?;
        obj.remove("ipn_callback_url");
        obj.remove("share");
        obj.insert("payment_status".into(), json!(status));
        relay_payments::nowpayments::canonical(&p.to_string()).ok()
    }

    /// POSTs an IPN, retrying up to three times on non-2xx (not a forged one).
    async fn post(&self, payment_id: u64, body: &str, forge: bool) -> u16 {
        let url = self
            .state()
            .payments
            .iter()
            .find(|p| p["payment_id"] == payment_id)
            .and_then(|p| p["ipn_callback_url"].as_str().map(str::to_owned));
        let Some(url) = url else {
            return 0;
        };
        let secret = if forge {
            "not-the-secret"
        } else {
            self.inner.ipn_secret.as_str()
        };
        let sig = relay_payments::nowpayments::sign(body.as_bytes(), secret);
        let mut status = 0;
        for attempt in 0..3 {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            let res = self
                .inner
                .http
                .post(&url)
                .header("content-type", "application/json")
                .header("x-nowpayments-sig", &sig)
                .body(body.to_owned())
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

fn invalid_key() -> Response {
    (
        StatusCode::FORBIDDEN,
        Json(json!({"status": false, "statusCode": 403, "code": "INVALID_API_KEY", "message": "Invalid api key"})),
    )
        .into_response()
}

fn bad_request(message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"status": false, "statusCode": 400, "code": "INVALID_REQUEST_PARAMS", "message": message})),
    )
        .into_response()
}

fn check_key(fake: &FakeNowPayments, headers: &HeaderMap) -> Result<(), Response> {
    match headers.get("x-api-key").and_then(|v| v.to_str().ok()) {
        Some(k) if k == fake.inner.api_key => Ok(()),
        _ => Err(invalid_key()),
    }
}

async fn create_invoice(
    With(fake): With<FakeNowPayments>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Response> {
    check_key(&fake, &headers)?;
    let body: Value = serde_json::from_slice(&body).map_err(|_| bad_request("body is not JSON"))?;
    let price = match &body["price_amount"] {
        Value::Number(n) => n.to_string(),
        Value::String(s) if s.parse::<f64>().is_ok() => s.clone(),
        _ => return Err(bad_request("\"price_amount\" is required")),
    };
    if body["price_currency"].as_str().is_none() {
        return Err(bad_request("\"price_currency\" is required"));
    }
    let id = fake.next().to_string();
    let now = chrono::Utc::now().to_rfc3339();
    let base = fake.state().base_url.clone();
    let invoice = json!({
        "id": id, "order_id": body["order_id"], "order_description": body["order_description"],
        "price_amount": price, "price_currency": body["price_currency"], "pay_currency": null,
        "ipn_callback_url": body["ipn_callback_url"], "invoice_url": format!("{base}/payment/?iid={id}"),
        "success_url": body["success_url"], "cancel_url": body["cancel_url"],
        "created_at": now, "updated_at": now,
    });
    fake.state().invoices.push(invoice.clone());
    Ok((StatusCode::CREATED, Json(invoice)).into_response())
}

async fn get_payment(
    With(fake): With<FakeNowPayments>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Response> {
    check_key(&fake, &headers)?;
    let s = fake.state();
    let found = s
        .payments
        .iter()
        .find(|p| {
            p["payment_id"]
                .as_u64()
                .is_some_and(|n| id.parse() == Ok(n))
        })
        .cloned();
    drop(s);
    match found {
        Some(mut p) => {
            if let Some(o) = p.as_object_mut() {
                o.remove("share");
                o.remove("fee");
                // GET gives the id as a string, IPNs as a number.
                o.insert("payment_id".into(), json!(id));
            }
            Ok(Json(p).into_response())
        }
        None => Err((
            StatusCode::NOT_FOUND,
            Json(json!({"status": false, "statusCode": 404, "code": "PAYMENT_NOT_FOUND", "message": "Payment not found"})),
        )
            .into_response()),
    }
}

/// The buyer's browser on the hosted invoice page: pays it in full.
async fn hosted_page(
    With(fake): With<FakeNowPayments>,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    let id = q.get("iid").cloned().unwrap_or_default();
    if fake.invoice(&id).is_none() {
        return (StatusCode::NOT_FOUND, "no such invoice").into_response();
    }
    let (payment, delivered) = fake.pay(&id).await;
    format!(
        "fake NOWPayments: invoice {id} paid (payment {payment}); IPNs answered {delivered:?}\n"
    )
    .into_response()
}

/// Levers over HTTP for `relay fake nowpayments`: pay, underpay, expire, fail.
async fn lever(
    With(fake): With<FakeNowPayments>,
    Path((id, lever)): Path<(String, String)>,
) -> Response {
    if fake.invoice(&id).is_none() {
        return (StatusCode::NOT_FOUND, "no such invoice").into_response();
    }
    let (payment, delivered) = match lever.as_str() {
        "pay" => fake.pay(&id).await,
        "underpay" => fake.underpay(&id).await,
        "expire" => fake.expire(&id).await,
        "fail" => fake.fail(&id).await,
        _ => return (StatusCode::NOT_FOUND, "levers: pay, underpay, expire, fail").into_response(),
    };
    Json(json!({"invoice": id, "payment_id": payment, "ipns": delivered})).into_response()
}
