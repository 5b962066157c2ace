//! What a PayPal subscription's webhook events add up to, as a pure function of the set
//! of events (not their order): the period runs from the first activation or sale for as
//! many months as there are completed sales (at least one once activated); a refunded
//! sale ends it at the refund's time; a cancellation or expiry stops renewal for good; of
//! activation, sale, failed payment and suspension the latest by PayPal's `create_time`
//! decides between active, past due and not renewing. Replayed events (same envelope)
//! count once because sales are counted by their id.

use chrono::{DateTime, Months, Utc};
use serde_json::Value;
use std::collections::BTreeMap;

/// A sale of the subscription.
#[derive(Debug, Clone, PartialEq)]
pub struct Sale {
    pub id: String,
    pub amount_minor: i64,
    pub currency: String,
    pub refunded: bool,
    pub at: DateTime<Utc>,
}

/// The subscription's state.
#[derive(Debug, Clone, PartialEq)]
pub struct SubscriptionState {
    /// `active`, `past_due` or `expired`.
    pub status: &'static str,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    pub renews: bool,
    pub end_reason: Option<String>,
    pub ended_at: Option<DateTime<Utc>>,
    /// PayPal's status word: `ACTIVE`, `SUSPENDED`, `CANCELLED`, `EXPIRED`.
    pub provider_status: String,
    pub sales: Vec<Sale>,
}

/// The subscription id (`I-…`) an event is about, if it is about one.
pub fn subscription_of(event: &Value) -> Option<&str> {
    let kind = event["event_type"].as_str()?;
    let resource = &event["resource"];
    if kind.starts_with("BILLING.SUBSCRIPTION.") {
        resource["id"].as_str()
    } else if kind.starts_with("PAYMENT.SALE.") {
        resource["billing_agreement_id"].as_str()
    } else {
        None
    }
}

/// Amounts are decimal strings ("9.99"); in minor units (cents).
pub fn minor_units(value: &str) -> Option<i64> {
    let (whole, frac) = value.split_once('.').unwrap_or((value, ""));
    if frac.len() > 2 || whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let cents = format!("{frac:0<2}");
    whole
        .parse::<i64>()
        .ok()?
        .checked_mul(100)?
        .checked_add(cents.parse().ok()?)
}

fn time_of(event: &Value) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(event["create_time"].as_str()?)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The state `events` (all stored events about subscription `id`) add up to; `None`
/// while it was never activated, paid or refunded.
pub fn subscription_state(id: &str, events: &[Value]) -> Option<SubscriptionState> {
    let mut sales: BTreeMap<String, Sale> = BTreeMap::new();
    let mut refunds: BTreeMap<String, DateTime<Utc>> = BTreeMap::new();
    let mut activated_at: Option<DateTime<Utc>> = None;
    let mut stopped: Option<(DateTime<Utc>, String)> = None;
    // (time, rank, kind): the latest decides; rank breaks ties the same way every time.
    let mut latest: Option<(DateTime<Utc>, u8, &'static str)> = None;
    let mut see = |t: DateTime<Utc>, rank: u8, kind: &'static str| {
        if latest.is_none_or(|l| (t, rank) > (l.0, l.1)) {
            latest = Some((t, rank, kind));
        }
    };
    for event in events {
        if subscription_of(event) != Some(id) {
            continue;
        }
        let (Some(kind), Some(at)) = (event["event_type"].as_str(), time_of(event)) else {
            continue;
        };
        let resource = &event["resource"];
        match kind {
            "BILLING.SUBSCRIPTION.ACTIVATED" | "BILLING.SUBSCRIPTION.RE-ACTIVATED" => {
                activated_at = Some(activated_at.map_or(at, |a| a.min(at)));
                see(at, 0, "active");
            }
            "PAYMENT.SALE.COMPLETED" => {
                let Some(sale_id) = resource["id"].as_str() else {
                    continue;
                };
                let amount = resource["amount"]["total"]
                    .as_str()
                    .and_then(minor_units)
                    .unwrap_or(0);
                let currency = resource["amount"]["currency"]
                    .as_str()
                    .unwrap_or("USD")
                    .to_owned();
                sales.entry(sale_id.to_owned()).or_insert(Sale {
                    id: sale_id.to_owned(),
                    amount_minor: amount,
                    currency,
                    refunded: false,
                    at,
                });
                see(at, 1, "active");
            }
            "BILLING.SUBSCRIPTION.PAYMENT.FAILED" => see(at, 2, "past_due"),
            "BILLING.SUBSCRIPTION.SUSPENDED" => see(at, 3, "suspended"),
            "BILLING.SUBSCRIPTION.CANCELLED" | "BILLING.SUBSCRIPTION.EXPIRED" => {
                let reason = if kind.ends_with("CANCELLED") {
                    "cancelled"
                } else {
                    "expired"
                };
                if stopped.as_ref().is_none_or(|s| at < s.0) {
                    stopped = Some((at, reason.to_owned()));
                }
            }
            "PAYMENT.SALE.REFUNDED" | "PAYMENT.SALE.REVERSED" => {
                let sale = resource["sale_id"].as_str().or(resource["id"].as_str());
                if let Some(sale) = sale {
                    let entry = refunds.entry(sale.to_owned()).or_insert(at);
                    *entry = (*entry).min(at);
                }
            }
            _ => {}
        }
    }
    for (sale, _) in refunds.iter() {
        if let Some(s) = sales.get_mut(sale) {
            s.refunded = true;
        }
    }
    let first_sale = sales.values().map(|s| s.at).min();
    let start = match (activated_at, first_sale) {
        (Some(a), Some(s)) => a.min(s),
        (a, s) => a.or(s).or_else(|| refunds.values().min().copied())?,
    };
    let paid = sales.values().filter(|s| !s.refunded).count().max(1) as u32;
    let period_end = start.checked_add_months(Months::new(paid)).unwrap_or(start);
    let mut state = SubscriptionState {
        status: "active",
        period_start: start,
        period_end,
        renews: true,
        end_reason: None,
        ended_at: None,
        provider_status: "ACTIVE".into(),
        sales: sales.into_values().collect(),
    };
    if let Some(refunded_at) = refunds.values().min().copied() {
        state.status = "expired";
        state.renews = false;
        state.end_reason = Some("refunded".into());
        state.ended_at = Some(refunded_at);
        state.period_end = state.period_end.min(refunded_at);
        return Some(state);
    }
    if let Some((_, reason)) = stopped {
        state.renews = false;
        state.provider_status = reason.to_ascii_uppercase();
        state.end_reason = Some(reason);
        return Some(state);
    }
    match latest.map(|l| l.2) {
        Some("past_due") => state.status = "past_due",
        Some("suspended") => {
            state.renews = false;
            state.end_reason = Some("suspended".into());
            state.provider_status = "SUSPENDED".into();
        }
        _ => {}
    }
    Some(state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ev(id: &str, kind: &str, time: &str, resource: Value) -> Value {
        json!({"id": id, "event_type": kind, "create_time": time, "resource": resource})
    }

    fn activated(t: &str) -> Value {
        ev(
            "WH-1",
            "BILLING.SUBSCRIPTION.ACTIVATED",
            t,
            json!({"id": "I-1", "status": "ACTIVE"}),
        )
    }

    fn sale(n: u32, t: &str) -> Value {
        ev(
            &format!("WH-S{n}"),
            "PAYMENT.SALE.COMPLETED",
            t,
            json!({"id": format!("S-{n}"), "state": "completed", "billing_agreement_id": "I-1",
                   "amount": {"total": "9.00", "currency": "USD"}}),
        )
    }

    #[test]
    fn activation_and_first_sale_are_one_month() {
        let events = [
            activated("2026-11-01T10:00:00Z"),
            sale(1, "2026-11-01T10:00:05Z"),
        ];
        let s = subscription_state("I-1", &events).expect("state");
        assert_eq!(s.status, "active");
        assert_eq!(s.period_end.to_rfc3339(), "2026-12-01T10:00:00+00:00");
        assert_eq!(s.sales.len(), 1);
        assert_eq!(s.sales[0].amount_minor, 900);
    }

    #[test]
    fn renewal_adds_a_month_once_even_replayed() {
        let events = [
            activated("2026-11-01T10:00:00Z"),
            sale(1, "2026-11-01T10:00:05Z"),
            sale(2, "2026-12-01T10:00:05Z"),
            sale(2, "2026-12-01T10:00:05Z"),
        ];
        let s = subscription_state("I-1", &events).expect("state");
        assert_eq!(s.period_end.to_rfc3339(), "2027-01-01T10:00:00+00:00");
    }

    #[test]
    fn order_does_not_matter() {
        let failed = ev(
            "WH-F",
            "BILLING.SUBSCRIPTION.PAYMENT.FAILED",
            "2026-12-01T10:00:00Z",
            json!({"id": "I-1"}),
        );
        let mut events = vec![
            activated("2026-11-01T10:00:00Z"),
            sale(1, "2026-11-01T10:00:05Z"),
            failed,
        ];
        let forward = subscription_state("I-1", &events);
        events.reverse();
        assert_eq!(subscription_state("I-1", &events), forward);
        assert_eq!(forward.expect("state").status, "past_due");
    }

    #[test]
    fn refund_ends_at_once_and_cancel_stops_renewal() {
        let refund = ev(
            "WH-R",
            "PAYMENT.SALE.REFUNDED",
            "2026-11-05T00:00:00Z",
            json!({"id": "R-1", "sale_id": "S-1", "billing_agreement_id": "I-1"}),
        );
        let s = subscription_state("I-1", &[refund.clone(), sale(1, "2026-11-01T10:00:05Z")])
            .expect("state");
        assert_eq!(
            (s.status, s.end_reason.as_deref()),
            ("expired", Some("refunded"))
        );
        let cancel = ev(
            "WH-C",
            "BILLING.SUBSCRIPTION.CANCELLED",
            "2026-11-03T00:00:00Z",
            json!({"id": "I-1"}),
        );
        let s =
            subscription_state("I-1", &[activated("2026-11-01T10:00:00Z"), cancel]).expect("state");
        assert_eq!(
            (s.status, s.renews, s.end_reason.as_deref()),
            ("active", false, Some("cancelled"))
        );
    }

    #[test]
    fn nothing_before_activation_and_other_subscriptions_ignored() {
        assert_eq!(
            subscription_state("I-2", &[activated("2026-11-01T10:00:00Z")]),
            None
        );
        assert_eq!(minor_units("19.99"), Some(1999));
        assert_eq!(minor_units("5"), Some(500));
        assert_eq!(minor_units("5.5"), Some(550));
        assert_eq!(minor_units("1.234"), None);
        assert_eq!(minor_units("-1"), None);
    }
}
