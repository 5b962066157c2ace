//! Payments: checkout with PayPal (a subscription per paid tier) or NOWPayments (an
//! invoice per month), the customer's payments, and the providers' webhooks — verified
//! over the raw body, stored before anything else, then applied idempotently. Payments
//! are optional: a provider without settings answers 503 `payments_unavailable`.

mod checkout;
mod list;
mod process;
mod webhooks;

pub use checkout::{__path_checkout, CheckoutRequest, CheckoutResponse, checkout};
pub use list::{__path_list, PaymentsView, list};
pub use webhooks::{
    __path_nowpayments_webhook, __path_paypal_webhook, nowpayments_webhook, paypal_webhook,
};

use relay_payments::nowpayments::client::{NowPaymentsClient, NowPaymentsConfig};
use relay_payments::paypal::client::{PayPalClient, PayPalConfig};
use relay_store::Database;
use std::collections::HashMap;
use tokio::sync::Mutex;

/// The paid tiers, in price order.
pub const PAID_PLANS: [&str; 2] = ["pro", "elite"];
/// The providers.
pub const PROVIDERS: [&str; 2] = ["paypal", "nowpayments"];

/// Payment settings as configured; a provider is `None` when settings are missing
/// (`*_missing` names them). No `Debug`: it holds secrets.
#[derive(Clone, Default)]
pub struct PaymentsSettings {
    /// Where customers and providers reach this API (return pages, the IPN callback).
    pub public_url: String,
    pub paypal: Option<PayPalConfig>,
    pub paypal_missing: Vec<String>,
    pub nowpayments: Option<NowPaymentsConfig>,
    pub nowpayments_missing: Vec<String>,
}

impl std::fmt::Debug for PaymentsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Which providers are on, never their credentials.
        f.debug_struct("PaymentsSettings")
            .field("public_url", &self.public_url)
            .field("paypal", &self.paypal.is_some())
            .field("paypal_missing", &self.paypal_missing)
            .field("nowpayments", &self.nowpayments.is_some())
            .field("nowpayments_missing", &self.nowpayments_missing)
            .finish()
    }
}

/// The configured providers and what PayPal's billing plans are called there.
pub struct Payments {
    public_url: String,
    paypal: Option<PayPalClient>,
    paypal_missing: Vec<String>,
    nowpayments: Option<NowPaymentsClient>,
    nowpayments_missing: Vec<String>,
    /// Our plan id → PayPal billing plan id.
    paypal_plans: Mutex<HashMap<String, String>>,
}

impl std::fmt::Debug for Payments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Payments")
            .field("paypal", &self.paypal.is_some())
            .field("nowpayments", &self.nowpayments.is_some())
            .finish_non_exhaustive()
    }
}

impl Default for Payments {
    fn default() -> Self {
        Self::new(PaymentsSettings {
            paypal_missing: vec!["payments.paypal settings".into()],
            nowpayments_missing: vec!["payments.nowpayments settings".into()],
            ..PaymentsSettings::default()
        })
        .unwrap_or_else(|_| unreachable!("no PayPal settings, nothing to parse"))
    }
}

impl Payments {
    /// The clients for the configured providers. Fails on unreadable trust roots.
    pub fn new(settings: PaymentsSettings) -> Result<Self, relay_payments::SignatureError> {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(20))
            .build()
            .unwrap_or_default();
        let paypal = match settings.paypal {
            Some(config) => Some(PayPalClient::new(http.clone(), config)?),
            None => None,
        };
        Ok(Self {
            public_url: settings.public_url.trim_end_matches('/').to_owned(),
            paypal,
            paypal_missing: settings.paypal_missing,
            nowpayments: settings
                .nowpayments
                .map(|c| NowPaymentsClient::new(http, c)),
            nowpayments_missing: settings.nowpayments_missing,
            paypal_plans: Mutex::new(HashMap::new()),
        })
    }

    /// Makes sure PayPal has our product and a billing plan per paid tier (found by their
    /// stored ids, else by name at PayPal, else created). Run on start-up; checkout runs
    /// it again while it has not succeeded.
    pub async fn ensure_paypal_plans(&self, db: &Database) -> Result<(), crate::ApiError> {
        let Some(paypal) = &self.paypal else {
            return Ok(());
        };
        let mut plans = self.paypal_plans.lock().await;
        if plans.len() == PAID_PLANS.len() {
            return Ok(());
        }
        let product = match db.provider_object("paypal", "product", "relay").await? {
            Some(id) => id,
            None => {
                let id = paypal
                    .create_product("Relay")
                    .await
                    .map_err(crate::ApiError::internal)?;
                db.save_provider_object("paypal", "product", "relay", &id)
                    .await?;
                id
            }
        };
        let mut existing: Option<Vec<(String, String)>> = None;
        for tier in PAID_PLANS {
            if let Some(id) = db.provider_object("paypal", "plan", tier).await? {
                plans.insert(tier.to_owned(), id);
                continue;
            }
            let (name, cents, currency) = db.plan_price(tier).await?;
            let name = format!("Relay {name} monthly");
            if existing.is_none() {
                existing = Some(
                    paypal
                        .list_plans(&product)
                        .await
                        .map_err(crate::ApiError::internal)?,
                );
            }
            let found = existing
                .iter()
                .flatten()
                .find(|(_, n)| *n == name)
                .map(|(id, _)| id.clone());
            let id = match found {
                Some(id) => id,
                None => paypal
                    .create_plan(
                        &product,
                        &name,
                        &format!("{}.{:02}", cents / 100, cents % 100),
                        &currency,
                    )
                    .await
                    .map_err(crate::ApiError::internal)?,
            };
            db.save_provider_object("paypal", "plan", tier, &id).await?;
            plans.insert(tier.to_owned(), id);
        }
        Ok(())
    }

    async fn paypal_plan(&self, db: &Database, tier: &str) -> Result<String, crate::ApiError> {
        self.ensure_paypal_plans(db).await?;
        self.paypal_plans
            .lock()
            .await
            .get(tier)
            .cloned()
            .ok_or_else(|| crate::ApiError::internal(std::io::Error::other("no PayPal plan")))
    }

    /// 503 `payments_unavailable` naming the missing settings.
    fn unavailable(provider: &str, missing: &[String]) -> crate::ApiError {
        crate::ApiError::Refused {
            status: axum::http::StatusCode::SERVICE_UNAVAILABLE,
            code: "payments_unavailable",
            message: format!(
                "payments with {provider} are not configured (missing: {})",
                missing.join(", ")
            ),
            retry_after: None,
        }
    }

    fn paypal(&self) -> Result<&PayPalClient, crate::ApiError> {
        self.paypal
            .as_ref()
            .ok_or_else(|| Self::unavailable("paypal", &self.paypal_missing))
    }

    fn nowpayments(&self) -> Result<&NowPaymentsClient, crate::ApiError> {
        self.nowpayments
            .as_ref()
            .ok_or_else(|| Self::unavailable("nowpayments", &self.nowpayments_missing))
    }
}
