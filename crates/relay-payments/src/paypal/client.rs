//! A thin PayPal REST client: an OAuth client-credentials token (cached, fetched again on
//! a 401), the catalog product and billing plans, Subscriptions v1 (create with our
//! `custom_id` and a `PayPal-Request-Id`, read, cancel), and webhook verification either
//! offline (the certificate fetched once per URL, checked by [`super::verify_offline`]) or
//! by PayPal's verify-webhook-signature call with the body spliced in verbatim.

use super::{CertPolicy, Transmission, verify_offline};
use crate::SignatureError;
use base64::Engine;
use reqwest::{Method, StatusCode};
use rustls_pki_types::CertificateDer;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::Mutex;

/// How webhooks are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    /// Certificate and signature checked here.
    Offline,
    /// PayPal's `POST /v1/notifications/verify-webhook-signature`.
    Postback,
}

/// PayPal settings. No `Debug`: it holds the client secret.
#[derive(Clone)]
pub struct PayPalConfig {
    /// `https://api-m.paypal.com` (live) or `https://api-m.sandbox.paypal.com`.
    pub base_url: String,
    pub client_id: String,
    pub client_secret: String,
    /// Our webhook's id at PayPal (part of what PayPal signs).
    pub webhook_id: String,
    pub verification: Verification,
    /// Host suffixes a certificate URL may name (`.paypal.com`).
    pub cert_hosts: Vec<String>,
    /// PEM roots certificates must chain to; empty: the public web roots.
    pub cert_roots_pem: String,
    /// Fetch certificates from here instead of the URL's own origin (tests: the fake);
    /// the URL's host is still checked against `cert_hosts`.
    pub cert_fetch_base: Option<String>,
}

/// What went wrong talking to PayPal.
#[derive(Debug, thiserror::Error)]
pub enum PayPalError {
    #[error("PayPal cannot be reached: {0}")]
    Transport(String),
    #[error("PayPal answered {status}: {body}")]
    Api { status: u16, body: String },
    #[error("PayPal's answer lacks {0}")]
    Shape(&'static str),
}

/// A created subscription: its id and where the buyer approves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedSubscription {
    pub id: String,
    pub status: String,
    pub approve_url: String,
}

/// The transmission headers of a webhook, as received.
#[derive(Debug, Clone, Default)]
pub struct WebhookHeaders {
    pub transmission_id: String,
    pub transmission_time: String,
    pub transmission_sig: String,
    pub cert_url: String,
    pub auth_algo: String,
}

pub struct PayPalClient {
    http: reqwest::Client,
    config: PayPalConfig,
    token: Mutex<Option<String>>,
    certs: Mutex<HashMap<String, String>>,
    roots: Vec<CertificateDer<'static>>,
}

impl PayPalClient {
    pub fn new(http: reqwest::Client, config: PayPalConfig) -> Result<Self, SignatureError> {
        let roots = if config.cert_roots_pem.trim().is_empty() {
            Vec::new()
        } else {
            super::pem_certificates(&config.cert_roots_pem)?
                .into_iter()
                .map(CertificateDer::from)
                .collect()
        };
        Ok(Self {
            http,
            config,
            token: Mutex::new(None),
            certs: Mutex::new(HashMap::new()),
            roots,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.config.base_url.trim_end_matches('/'))
    }

    async fn fetch_token(&self) -> Result<String, PayPalError> {
        let basic = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            self.config.client_id, self.config.client_secret
        ));
        let res = self
            .http
            .post(self.url("/v1/oauth2/token"))
            .header("Authorization", format!("Basic {basic}"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials")
            .send()
            .await
            .map_err(|e| PayPalError::Transport(e.without_url().to_string()))?;
        let (status, body) = read(res).await?;
        if !status.is_success() {
            return Err(PayPalError::Api {
                status: status.as_u16(),
                body: body.to_string(),
            });
        }
        body["access_token"]
            .as_str()
            .map(str::to_owned)
            .ok_or(PayPalError::Shape("access_token"))
    }

    /// A call with the cached token; a 401 fetches a new token and tries once more.
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        request_id: Option<&str>,
    ) -> Result<(StatusCode, Value), PayPalError> {
        for attempt in 0..2 {
            let token = {
                let mut cached = self.token.lock().await;
                match cached.as_ref() {
                    Some(t) => t.clone(),
                    None => {
                        let t = self.fetch_token().await?;
                        *cached = Some(t.clone());
                        t
                    }
                }
            };
            let mut req = self
                .http
                .request(method.clone(), self.url(path))
                .bearer_auth(&token);
            if let Some(id) = request_id {
                req = req.header("PayPal-Request-Id", id);
            }
            if let Some(body) = body {
                req = req.json(body);
            }
            let res = req
                .send()
                .await
                .map_err(|e| PayPalError::Transport(e.without_url().to_string()))?;
            let (status, value) = read(res).await?;
            if status == StatusCode::UNAUTHORIZED && attempt == 0 {
                *self.token.lock().await = None;
                continue;
            }
            if !status.is_success() {
                return Err(PayPalError::Api {
                    status: status.as_u16(),
                    body: value.to_string(),
                });
            }
            return Ok((status, value));
        }
        Err(PayPalError::Api {
            status: 401,
            body: "unauthorized after a new token".into(),
        })
    }

    /// Creates the catalog product; returns its id (`PROD-…`).
    pub async fn create_product(&self, name: &str) -> Result<String, PayPalError> {
        let (_, v) = self
            .call(
                Method::POST,
                "/v1/catalogs/products",
                Some(&json!({"name": name, "type": "SERVICE"})),
                None,
            )
            .await?;
        v["id"]
            .as_str()
            .map(str::to_owned)
            .ok_or(PayPalError::Shape("id"))
    }

    /// The product's billing plans as (id, name).
    pub async fn list_plans(&self, product_id: &str) -> Result<Vec<(String, String)>, PayPalError> {
        let (_, v) = self
            .call(
                Method::GET,
                &format!("/v1/billing/plans?product_id={product_id}&page_size=20"),
                None,
                None,
            )
            .await?;
        Ok(v["plans"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| Some((p["id"].as_str()?.to_owned(), p["name"].as_str()?.to_owned())))
            .collect())
    }

    /// Creates a monthly billing plan at `price` (a decimal string, "9.00"); returns its id.
    pub async fn create_plan(
        &self,
        product_id: &str,
        name: &str,
        price: &str,
        currency: &str,
    ) -> Result<String, PayPalError> {
        let body = json!({
            "product_id": product_id, "name": name, "status": "ACTIVE",
            "billing_cycles": [{
                "frequency": {"interval_unit": "MONTH", "interval_count": 1},
                "tenure_type": "REGULAR", "sequence": 1, "total_cycles": 0,
                "pricing_scheme": {"fixed_price": {"value": price, "currency_code": currency}}
            }],
            "payment_preferences": {"auto_bill_outstanding": true, "payment_failure_threshold": 3}
        });
        let (_, v) = self
            .call(Method::POST, "/v1/billing/plans", Some(&body), None)
            .await?;
        v["id"]
            .as_str()
            .map(str::to_owned)
            .ok_or(PayPalError::Shape("id"))
    }

    /// Creates a subscription for the buyer to approve. `request_id` makes a retry
    /// return the same subscription.
    pub async fn create_subscription(
        &self,
        plan_id: &str,
        custom_id: &str,
        request_id: &str,
        return_url: &str,
        cancel_url: &str,
    ) -> Result<CreatedSubscription, PayPalError> {
        let body = json!({
            "plan_id": plan_id, "custom_id": custom_id,
            "application_context": {"brand_name": "Relay", "user_action": "SUBSCRIBE_NOW",
                "shipping_preference": "NO_SHIPPING", "return_url": return_url, "cancel_url": cancel_url}
        });
        let (_, v) = self
            .call(
                Method::POST,
                "/v1/billing/subscriptions",
                Some(&body),
                Some(request_id),
            )
            .await?;
        let approve_url = v["links"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|l| l["rel"] == "approve")
            .and_then(|l| l["href"].as_str())
            .ok_or(PayPalError::Shape("an approve link"))?;
        Ok(CreatedSubscription {
            id: v["id"].as_str().ok_or(PayPalError::Shape("id"))?.to_owned(),
            status: v["status"].as_str().unwrap_or_default().to_owned(),
            approve_url: approve_url.to_owned(),
        })
    }

    /// The subscription as PayPal has it (for reconciliation).
    pub async fn subscription(&self, id: &str) -> Result<Value, PayPalError> {
        Ok(self
            .call(
                Method::GET,
                &format!("/v1/billing/subscriptions/{id}"),
                None,
                None,
            )
            .await?
            .1)
    }

    /// Cancels a subscription (PayPal answers 204).
    pub async fn cancel_subscription(&self, id: &str, reason: &str) -> Result<(), PayPalError> {
        self.call(
            Method::POST,
            &format!("/v1/billing/subscriptions/{id}/cancel"),
            Some(&json!({"reason": reason})),
            None,
        )
        .await?;
        Ok(())
    }

    /// Checks a webhook (`raw` as received) per the configured verification.
    pub async fn verify_webhook(
        &self,
        h: &WebhookHeaders,
        raw: &[u8],
    ) -> Result<(), SignatureError> {
        if h.transmission_id.is_empty() || h.transmission_sig.is_empty() || h.cert_url.is_empty() {
            return Err(SignatureError::Missing);
        }
        match self.config.verification {
            Verification::Offline => self.verify_offline(h, raw).await,
            Verification::Postback => self.verify_postback(h, raw).await,
        }
    }

    async fn verify_offline(&self, h: &WebhookHeaders, raw: &[u8]) -> Result<(), SignatureError> {
        let hosts: Vec<&str> = self.config.cert_hosts.iter().map(String::as_str).collect();
        if !super::cert_url_allowed(&h.cert_url, &hosts) {
            return Err(SignatureError::Certificate(
                "PAYPAL-CERT-URL is not on PayPal's hosts".into(),
            ));
        }
        let pem = self.certificate(&h.cert_url).await?;
        let anchors: Vec<_> = self
            .roots
            .iter()
            .map(|c| webpki::anchor_from_trusted_cert(c).map(|a| a.to_owned()))
            .collect::<Result<_, _>>()
            .map_err(|e| SignatureError::Certificate(format!("a bad trust root: {e:?}")))?;
        let roots = if anchors.is_empty() {
            webpki_roots::TLS_SERVER_ROOTS
        } else {
            &anchors[..]
        };
        let policy = CertPolicy {
            roots,
            hosts: &hosts,
            common_name_prefix: "messageverificationcerts",
            common_name_suffix: ".paypal.com",
        };
        let t = Transmission {
            id: &h.transmission_id,
            time: &h.transmission_time,
            signature: &h.transmission_sig,
            cert_url: &h.cert_url,
            auth_algo: &h.auth_algo,
        };
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO);
        verify_offline(&t, &self.config.webhook_id, raw, &pem, &policy, now)
    }

    /// The PEM at `cert_url`, fetched once.
    async fn certificate(&self, cert_url: &str) -> Result<String, SignatureError> {
        if let Some(pem) = self.certs.lock().await.get(cert_url) {
            return Ok(pem.clone());
        }
        let fetch_url = match &self.config.cert_fetch_base {
            Some(base) => {
                let path = cert_url
                    .strip_prefix("https://")
                    .and_then(|r| r.find('/').map(|i| &r[i..]))
                    .unwrap_or("/");
                format!("{}{path}", base.trim_end_matches('/'))
            }
            None => cert_url.to_owned(),
        };
        let res = self.http.get(&fetch_url).send().await.map_err(|e| {
            SignatureError::Certificate(format!("cannot fetch: {}", e.without_url()))
        })?;
        if !res.status().is_success() {
            return Err(SignatureError::Certificate(format!(
                "fetching it answered {}",
                res.status()
            )));
        }
        let pem = res.text().await.map_err(|e| {
            SignatureError::Certificate(format!("cannot read: {}", e.without_url()))
        })?;
        self.certs
            .lock()
            .await
            .insert(cert_url.to_owned(), pem.clone());
        Ok(pem)
    }

    async fn verify_postback(&self, h: &WebhookHeaders, raw: &[u8]) -> Result<(), SignatureError> {
        let event = std::str::from_utf8(raw)
            .map_err(|_| SignatureError::Malformed("the body is not UTF-8".into()))?;
        serde_json::from_str::<serde::de::IgnoredAny>(event)
            .map_err(|_| SignatureError::Malformed("the body is not JSON".into()))?;
        // The event goes back verbatim: re-serialising it makes PayPal answer FAILURE.
        let fields = json!({
            "auth_algo": h.auth_algo, "cert_url": h.cert_url, "transmission_id": h.transmission_id,
            "transmission_sig": h.transmission_sig, "transmission_time": h.transmission_time,
            "webhook_id": self.config.webhook_id,
        })
        .to_string();
        let body = format!(
            "{},\"webhook_event\":{event}}}",
            &fields[..fields.len() - 1]
        );
        let answer = self
            .call_raw("/v1/notifications/verify-webhook-signature", body)
            .await
            .map_err(|e| SignatureError::Certificate(format!("postback failed: {e}")))?;
        if answer["verification_status"] == "SUCCESS" {
            Ok(())
        } else {
            Err(SignatureError::Mismatch)
        }
    }

    async fn call_raw(&self, path: &str, body: String) -> Result<Value, PayPalError> {
        for attempt in 0..2 {
            let token = {
                let mut cached = self.token.lock().await;
                match cached.as_ref() {
                    Some(t) => t.clone(),
                    None => {
                        let t = self.fetch_token().await?;
                        *cached = Some(t.clone());
                        t
                    }
                }
            };
            let res = self
                .http
                .post(self.url(path))
                .bearer_auth(&token)
                .header("Content-Type", "application/json")
                .body(body.clone())
                .send()
                .await
                .map_err(|e| PayPalError::Transport(e.without_url().to_string()))?;
            let (status, value) = read(res).await?;
            if status == StatusCode::UNAUTHORIZED && attempt == 0 {
                *self.token.lock().await = None;
                continue;
            }
            if !status.is_success() {
                return Err(PayPalError::Api {
                    status: status.as_u16(),
                    body: value.to_string(),
                });
            }
            return Ok(value);
        }
        Err(PayPalError::Shape("a token"))
    }
}

async fn read(res: reqwest::Response) -> Result<(StatusCode, Value), PayPalError> {
    let status = res.status();
    let bytes = res
        .bytes()
        .await
        .map_err(|e| PayPalError::Transport(e.without_url().to_string()))?;
    let value = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
    };
    Ok((status, value))
}
