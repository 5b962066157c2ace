//! `POST /api/v1/payments/checkout`: a PayPal subscription or a NOWPayments invoice for a
//! paid plan, recorded as a `created` payment; the answer is where to send the customer.

use super::{PAID_PLANS, PROVIDERS};
use crate::auth::AuthUser;
use crate::routes::Fields;
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use relay_payments::nowpayments::client::NewInvoice;
use relay_store::payments::NewCheckout;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Deserialize, ToSchema)]
pub struct CheckoutRequest {
    /// `pro` or `elite`.
    pub plan: Option<String>,
    /// `paypal` or `nowpayments`.
    pub provider: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckoutResponse {
    /// Where to send the customer to pay.
    pub url: String,
    /// The payment, as `GET /api/v1/payments` lists it.
    pub payment_id: Uuid,
}

/// Start paying for a plan.
#[utoipa::path(post, path = "/api/v1/payments/checkout", tag = "payments", security(("bearer" = [])),
    request_body = CheckoutRequest,
    responses((status = 201, description = "Send the customer to `url`", body = CheckoutResponse),
    (status = 401, description = "Not signed in", body = crate::ErrorBody),
    (status = 409, description = "Already subscribed to this plan", body = crate::ErrorBody),
    (status = 422, description = "Unknown plan or provider", body = crate::ErrorBody),
    (status = 502, description = "The provider refused or failed", body = crate::ErrorBody),
    (status = 503, description = "The provider is not configured (`payments_unavailable`)", body = crate::ErrorBody)))]
pub async fn checkout(
    State(state): State<AppState>,
    auth: AuthUser,
    Json(body): Json<CheckoutRequest>,
) -> Result<(StatusCode, Json<CheckoutResponse>), ApiError> {
    let mut fields = Fields::default();
    let plan = fields.required("plan", &body.plan).map(str::to_owned);
    let provider = fields
        .required("provider", &body.provider)
        .map(str::to_owned);
    if let Some(p) = &plan
        && !PAID_PLANS.contains(&p.as_str())
    {
        fields.add("plan", "must be pro or elite");
    }
    if let Some(p) = &provider
        && !PROVIDERS.contains(&p.as_str())
    {
        fields.add("provider", "must be paypal or nowpayments");
    }
    fields.finish()?;
    let (plan, provider) = (plan.unwrap_or_default(), provider.unwrap_or_default());
    let payments = state.payments.clone();
    if let Some(live) = state.db.live_subscription(auth.id()).await?
        && live.plan_id == plan
        && live.status == "active"
        && live.renews
    {
        return Err(ApiError::Conflict {
            message: format!("already subscribed to {plan}"),
            fields: Default::default(),
        });
    }
    let (_, cents, currency) = state.db.plan_price(&plan).await?;
    let user = auth.id();
    let nonce = &Uuid::new_v4().simple().to_string()[..10];
    let public = &payments.public_url;
    let (reference, provider_id, url, status) = if provider == "paypal" {
        let paypal = payments.paypal()?;
        let plan_id = payments.paypal_plan(&state.db, &plan).await?;
        let reference = format!("{}:{plan}:{nonce}", user.as_uuid().simple());
        let created = paypal
            .create_subscription(
                &plan_id,
                &reference,
                &reference,
                &format!("{public}/billing/return"),
                &format!("{public}/billing/cancel"),
            )
            .await
            .map_err(provider_failed)?;
        (reference, created.id, created.approve_url, created.status)
    } else {
        let nowpayments = payments.nowpayments()?;
        let month = chrono::Utc::now().format("%Y%m");
        let reference = format!("relay-{plan}-{}-{month}-{nonce}", user.as_uuid().simple());
        let invoice = nowpayments
            .create_invoice(&NewInvoice {
                price_amount: &format!("{}.{:02}", cents / 100, cents % 100),
                price_currency: &currency.to_ascii_lowercase(),
                order_id: &reference,
                order_description: &format!("Relay {plan} monthly"),
                ipn_callback_url: &format!("{public}/api/v1/payments/webhooks/nowpayments"),
                success_url: &format!("{public}/billing/return"),
                cancel_url: &format!("{public}/billing/cancel"),
            })
            .await
            .map_err(provider_failed)?;
        (
            reference,
            invoice.id,
            invoice.invoice_url,
            "waiting".to_owned(),
        )
    };
    let payment_id = state
        .db
        .create_checkout(&NewCheckout {
            user,
            provider: &provider,
            plan_id: &plan,
            amount_minor: cents,
            currency: &currency,
            reference: &reference,
            provider_payment_id: &provider_id,
            provider_subscription_id: (provider == "paypal").then_some(provider_id.as_str()),
            provider_status: &status,
            checkout_url: &url,
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CheckoutResponse { url, payment_id }),
    ))
}

/// 502: the provider failed; the details go to the log, not to the customer.
fn provider_failed(e: impl std::fmt::Display) -> ApiError {
    tracing::warn!(error = %e, "payment provider call failed");
    ApiError::Refused {
        status: StatusCode::BAD_GATEWAY,
        code: "provider_error",
        message: "the payment provider did not accept the request; try again later".into(),
        retry_after: None,
    }
}
