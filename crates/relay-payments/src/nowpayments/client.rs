//! A thin NOWPayments client: hosted invoices (`POST /v1/invoice`) and payments read back
//! for reconciliation (`GET /v1/payment/{id}`), with the `x-api-key` header. Ids come as
//! strings or numbers depending on the endpoint; both are read.

use reqwest::StatusCode;
use serde_json::{Value, json};

/// NOWPayments settings. No `Debug`: it holds the API key and IPN secret.
#[derive(Clone)]
pub struct NowPaymentsConfig {
    /// `https://api.nowpayments.io` (the `/v1/…` paths are added).
    pub base_url: String,
    pub api_key: String,
    pub ipn_secret: String,
}

#[derive(Debug, thiserror::Error)]
pub enum NowPaymentsError {
    #[error("NOWPayments cannot be reached: {0}")]
    Transport(String),
    #[error("NOWPayments answered {status}: {body}")]
    Api { status: u16, body: String },
    #[error("NOWPayments' answer lacks {0}")]
    Shape(&'static str),
}

/// What an invoice needs.
#[derive(Debug, Clone)]
pub struct NewInvoice<'a> {
    /// Decimal, e.g. "9.00".
    pub price_amount: &'a str,
    /// Lower case, e.g. "usd".
    pub price_currency: &'a str,
    pub order_id: &'a str,
    pub order_description: &'a str,
    pub ipn_callback_url: &'a str,
    pub success_url: &'a str,
    pub cancel_url: &'a str,
}

/// A created invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invoice {
    pub id: String,
    pub invoice_url: String,
}

/// An id that may be a JSON string or number.
pub fn lenient_id(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

pub struct NowPaymentsClient {
    http: reqwest::Client,
    config: NowPaymentsConfig,
}

impl NowPaymentsClient {
    pub fn new(http: reqwest::Client, config: NowPaymentsConfig) -> Self {
        Self { http, config }
    }

    /// The IPN secret (for checking `x-nowpayments-sig`).
    pub fn ipn_secret(&self) -> &str {
        &self.config.ipn_secret
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.config.base_url.trim_end_matches('/'))
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Result<Value, NowPaymentsError> {
        let res = req
            .header("x-api-key", &self.config.api_key)
            .send()
            .await
            .map_err(|e| NowPaymentsError::Transport(e.without_url().to_string()))?;
        let status = res.status();
        let bytes = res
            .bytes()
            .await
            .map_err(|e| NowPaymentsError::Transport(e.without_url().to_string()))?;
        if status != StatusCode::OK && status != StatusCode::CREATED {
            return Err(NowPaymentsError::Api {
                status: status.as_u16(),
                body: String::from_utf8_lossy(&bytes).into(),
            });
        }
        serde_json::from_slice(&bytes).map_err(|_| NowPaymentsError::Shape("a JSON body"))
    }

    /// Creates a hosted invoice.
    pub async fn create_invoice(&self, new: &NewInvoice<'_>) -> Result<Invoice, NowPaymentsError> {
        let body = json!({
            "price_amount": new.price_amount, "price_currency": new.price_currency,
            "order_id": new.order_id, "order_description": new.order_description,
            "ipn_callback_url": new.ipn_callback_url, "success_url": new.success_url,
            "cancel_url": new.cancel_url, "partially_paid_url": new.cancel_url,
        });
        let v = self
            .send(self.http.post(self.url("/v1/invoice")).json(&body))
            .await?;
        Ok(Invoice {
            id: lenient_id(&v["id"]).ok_or(NowPaymentsError::Shape("id"))?,
            invoice_url: v["invoice_url"]
                .as_str()
                .ok_or(NowPaymentsError::Shape("invoice_url"))?
                .to_owned(),
        })
    }

    /// A payment as NOWPayments has it.
    pub async fn payment(&self, payment_id: &str) -> Result<Value, NowPaymentsError> {
        self.send(
            self.http
                .get(self.url(&format!("/v1/payment/{payment_id}"))),
        )
        .await
    }
}
