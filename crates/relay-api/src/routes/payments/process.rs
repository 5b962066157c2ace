//! Applying a stored webhook event. A PayPal subscription's state is recomputed from all
//! its stored events (so order does not matter and a replay adds nothing); a NOWPayments
//! status applies only when it is past the recorded one. The outcome, or the error, is
//! written on the event row; an event that cannot be applied is kept for a look later.

use relay_payments::nowpayments::status;
use relay_payments::paypal::state::{subscription_of, subscription_state};
use relay_store::Database;
use relay_store::payments::{SaleRecord, SubscriptionState};
use serde_json::Value;

pub async fn paypal_event(db: &Database, row: i64, event: &Value) {
    let result = apply_paypal(db, event).await;
    finish(db, row, "paypal", result).await;
}

pub async fn nowpayments_event(db: &Database, row: i64, event: &Value) {
    let result = apply_nowpayments(db, event).await;
    finish(db, row, "nowpayments", result).await;
}

async fn finish(
    db: &Database,
    row: i64,
    provider: &str,
    result: Result<Option<uuid::Uuid>, String>,
) {
    let (payment, error) = match result {
        Ok(payment) => (payment, None),
        Err(e) => {
            tracing::warn!(provider, event_row = row, error = %e, "payment event not applied");
            (None, Some(e))
        }
    };
    if let Err(e) = db
        .finish_payment_event(row, payment, error.as_deref())
        .await
    {
        tracing::warn!(provider, event_row = row, error = %e, "cannot mark a payment event processed");
    }
}

async fn apply_paypal(db: &Database, event: &Value) -> Result<Option<uuid::Uuid>, String> {
    let Some(sub) = subscription_of(event) else {
        return Ok(None); // not about a subscription: stored, nothing to do
    };
    let resource = &event["resource"];
    let reference = resource["custom_id"]
        .as_str()
        .or(resource["custom"].as_str());
    let checkout = db
        .checkout_of("paypal", Some(sub), reference)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no checkout for subscription {sub}"))?;
    let events = db.paypal_events_of(sub).await.map_err(|e| e.to_string())?;
    let Some(s) = subscription_state(sub, &events) else {
        return Ok(Some(checkout.id));
    };
    let sales: Vec<SaleRecord> = s
        .sales
        .iter()
        .map(|x| SaleRecord {
            sale_id: x.id.clone(),
            amount_minor: x.amount_minor,
            currency: x.currency.clone(),
            status: if x.refunded { "refunded" } else { "completed" },
            at: x.at,
        })
        .collect();
    let state = SubscriptionState {
        status: s.status,
        period_start: s.period_start,
        period_end: s.period_end,
        renews: s.renews,
        end_reason: s.end_reason,
        ended_at: s.ended_at,
        provider_status: s.provider_status,
    };
    db.apply_paypal_subscription(&checkout, sub, &state, &sales)
        .await
        .map_err(|e| e.to_string())?;
    Ok(Some(checkout.id))
}

async fn apply_nowpayments(db: &Database, event: &Value) -> Result<Option<uuid::Uuid>, String> {
    let np_status = event["payment_status"].as_str().unwrap_or_default();
    let Some(ours) = status::payment_status(np_status) else {
        return Err(format!("unknown payment_status {np_status:?}"));
    };
    let order = event["order_id"].as_str().ok_or("no order_id")?;
    let checkout = db
        .checkout_of("nowpayments", None, Some(order))
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no checkout for order {order}"))?;
    db.apply_invoice_status(order, np_status, ours, status::rank, chrono::Utc::now())
        .await
        .map_err(|e| e.to_string())?;
    Ok(Some(checkout.id))
}
