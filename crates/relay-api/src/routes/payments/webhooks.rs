//! The providers' webhooks. The body is taken raw (signatures are over the exact bytes),
//! verified, stored under the provider's event id (a redelivery is a no-op), applied,
//! and answered 200. A bad signature is 401 `invalid_signature` and nothing is stored.

use super::process;
use crate::{ApiError, AppState};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use relay_payments::nowpayments::client::lenient_id;
use relay_payments::paypal::client::WebhookHeaders;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookAck {
    pub received: bool,
    /// The event had been received before; nothing was done again.
    pub duplicate: bool,
}

fn header(headers: &HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

fn rejected(provider: &str, e: relay_payments::SignatureError) -> ApiError {
    // The reason only: never the body, the signature or a secret.
    tracing::warn!(provider, reason = %e, "payment webhook rejected");
    ApiError::Refused {
        status: StatusCode::UNAUTHORIZED,
        code: "invalid_signature",
        message: "the webhook signature is not valid".into(),
        retry_after: None,
    }
}

fn bad_event(what: &str) -> ApiError {
    ApiError::BadRequest(format!("the event lacks {what}"))
}

/// PayPal's webhook (verified offline or by postback, per the settings).
#[utoipa::path(post, path = "/api/v1/payments/webhooks/paypal", tag = "payments", request_body = String,
    responses((status = 200, description = "Received", body = WebhookAck),
    (status = 400, description = "Not an event", body = crate::ErrorBody),
    (status = 401, description = "Bad signature", body = crate::ErrorBody),
    (status = 503, description = "PayPal is not configured", body = crate::ErrorBody)))]
pub async fn paypal_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    raw: Bytes,
) -> Result<Json<WebhookAck>, ApiError> {
    let paypal = state.payments.paypal()?;
    let h = WebhookHeaders {
        transmission_id: header(&headers, "paypal-transmission-id"),
        transmission_time: header(&headers, "paypal-transmission-time"),
        transmission_sig: header(&headers, "paypal-transmission-sig"),
        cert_url: header(&headers, "paypal-cert-url"),
        auth_algo: header(&headers, "paypal-auth-algo"),
    };
    paypal
        .verify_webhook(&h, &raw)
        .await
        .map_err(|e| rejected("paypal", e))?;
    let event: Value = serde_json::from_slice(&raw).map_err(|_| bad_event("a JSON body"))?;
    let id = event["id"].as_str().ok_or_else(|| bad_event("id"))?;
    let kind = event["event_type"]
        .as_str()
        .ok_or_else(|| bad_event("event_type"))?;
    let stored = state
        .db
        .record_payment_event("paypal", id, kind, &event)
        .await?;
    if let Some(row) = stored {
        process::paypal_event(&state.db, row, &event).await;
    }
    Ok(Json(WebhookAck {
        received: true,
        duplicate: stored.is_none(),
    }))
}

/// NOWPayments' IPN (HMAC-SHA512 with the IPN secret).
#[utoipa::path(post, path = "/api/v1/payments/webhooks/nowpayments", tag = "payments", request_body = String,
    responses((status = 200, description = "Received", body = WebhookAck),
    (status = 400, description = "Not an IPN", body = crate::ErrorBody),
    (status = 401, description = "Bad signature", body = crate::ErrorBody),
    (status = 503, description = "NOWPayments is not configured", body = crate::ErrorBody)))]
pub async fn nowpayments_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    raw: Bytes,
) -> Result<Json<WebhookAck>, ApiError> {
    let nowpayments = state.payments.nowpayments()?;
    let sig = headers
        .get("x-nowpayments-sig")
        .and_then(|v| v.to_str().ok());
    relay_payments::nowpayments::verify_ipn(&raw, sig, nowpayments.ipn_secret())
        .map_err(|e| rejected("nowpayments", e))?;
    let event: Value = serde_json::from_slice(&raw).map_err(|_| bad_event("a JSON body"))?;
    let payment = lenient_id(&event["payment_id"]).ok_or_else(|| bad_event("payment_id"))?;
    let status = event["payment_status"]
        .as_str()
        .ok_or_else(|| bad_event("payment_status"))?;
    let id = format!("{payment}:{status}");
    let stored = state
        .db
        .record_payment_event("nowpayments", &id, status, &event)
        .await?;
    if let Some(row) = stored {
        process::nowpayments_event(&state.db, row, &event).await;
    }
    Ok(Json(WebhookAck {
        received: true,
        duplicate: stored.is_none(),
    }))
}
