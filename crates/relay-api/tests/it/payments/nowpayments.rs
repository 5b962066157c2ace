//! NOWPayments: checkout → invoice → pay → IPNs → a month on the plan; a second invoice
//! extends from the current end; replays, reordering, a forged signature, underpayment,
//! expiry, a refund and the lifecycle's expiry.

use super::{IPN_SECRET, PayStack, Verification, live, stack, time};
use crate::helpers::Session;
use chrono::{Months, Utc};
use relay_fakes::nowpayments::FakeNowPayments;
use std::time::Duration;

/// A signed-in user (or the given one) with an open invoice for `plan`; returns its id.
async fn invoice(s: &PayStack, user: &Session, plan: &str) -> String {
    let (status, body) = s.checkout(user, plan, "nowpayments").await;
    assert_eq!(status, 201, "{body}");
    let url = body["url"].as_str().expect("url");
    let id = FakeNowPayments::invoice_of_url(url).expect("a hosted invoice URL");
    let inv = s
        .nowpayments
        .fake
        .invoice(&id)
        .expect("invoice at the fake");
    assert_eq!(
        inv["price_amount"],
        if plan == "pro" { "9.00" } else { "29.00" }
    );
    assert!(
        inv["order_id"]
            .as_str()
            .expect("order")
            .starts_with(&format!("relay-{plan}-"))
    );
    id
}

#[tokio::test]
async fn paying_an_invoice_grants_a_month_once_and_the_next_extends_it() {
    let s = stack(Verification::Offline).await;
    let user = s.app.signed_in("np@example.com").await;
    let inv = invoice(&s, &user, "elite").await;
    let (payment, statuses) = s.nowpayments.fake.pay(&inv).await;
    assert_eq!(statuses, vec![200; 5]);
    let view = s.payments(&user).await;
    assert_eq!(view["plan"], "elite", "{view}");
    assert_eq!(view["items"][0]["status"], "completed");
    assert_eq!(view["items"][0]["provider_status"], "finished");
    let end = time(&live(&view).expect("live")["current_period_end"]);
    let expected = Utc::now().checked_add_months(Months::new(1)).expect("m");
    assert!((expected - end).num_seconds().abs() < 60);

    // The finished IPN again: stored once, no second month.
    let events = s.stored_events().await;
    assert_eq!(s.nowpayments.fake.resend(payment, "finished").await, 200);
    assert_eq!(s.stored_events().await, events);
    assert_eq!(
        time(&live(&s.payments(&user).await).expect("live")["current_period_end"]),
        end
    );

    // Next month's invoice, paid early: from the current end.
    let next = invoice(&s, &user, "elite").await;
    s.nowpayments.fake.pay(&next).await;
    let extended = time(&live(&s.payments(&user).await).expect("live")["current_period_end"]);
    assert_eq!(extended, end.checked_add_months(Months::new(1)).expect("m"));
}

#[tokio::test]
async fn a_forged_ipn_is_rejected_and_changes_nothing() {
    let s = stack(Verification::Offline).await;
    let user = s.app.signed_in("npforged@example.com").await;
    let inv = invoice(&s, &user, "pro").await;
    let (payment, _) = s.nowpayments.fake.underpay(&inv).await;
    let before = s.payments(&user).await;
    let events = s.stored_events().await;
    assert_eq!(s.nowpayments.fake.forge(payment, "finished").await, 401);
    assert_eq!(s.stored_events().await, events);
    assert_eq!(s.payments(&user).await, before);
    assert_eq!(before["plan"], "free");
    // Signed with the right secret but altered after signing: rejected too.
    let body = s.nowpayments.fake.sent().last().cloned().expect("sent");
    let altered = body.replace("partially_paid", "finished");
    let res = s
        .app
        .client
        .post(s.app.url("/api/v1/payments/webhooks/nowpayments"))
        .header(
            "x-nowpayments-sig",
            relay_payments::nowpayments::sign(body.as_bytes(), IPN_SECRET),
        )
        .body(altered)
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 401);
    assert_eq!(s.payments(&user).await["plan"], "free");
}

#[tokio::test]
async fn ipns_out_of_order_reach_the_same_state() {
    let s = stack(Verification::Offline).await;
    let user = s.app.signed_in("npreorder@example.com").await;
    let inv = invoice(&s, &user, "pro").await;
    let (_, statuses) = s.nowpayments.fake.pay_out_of_order(&inv).await;
    assert_eq!(statuses, vec![200; 5]);
    let view = s.payments(&user).await;
    assert_eq!(view["plan"], "pro", "{view}");
    assert_eq!(view["items"][0]["status"], "completed");
    assert_eq!(view["items"][0]["provider_status"], "finished");
    let end = time(&live(&view).expect("live")["current_period_end"]);
    let expected = Utc::now().checked_add_months(Months::new(1)).expect("m");
    assert!((expected - end).num_seconds().abs() < 60, "one month only");
}

#[tokio::test]
async fn an_underpaid_invoice_grants_nothing_and_shows_as_partially_paid() {
    let s = stack(Verification::Offline).await;
    let user = s.app.signed_in("under@example.com").await;
    let inv = invoice(&s, &user, "pro").await;
    let (_, statuses) = s.nowpayments.fake.underpay(&inv).await;
    assert_eq!(statuses, vec![200, 200]);
    let view = s.payments(&user).await;
    assert_eq!(view["plan"], "free", "{view}");
    assert_eq!(view["items"][0]["status"], "partially_paid");
    assert!(view["subscriptions"].as_array().expect("subs").is_empty());
}

#[tokio::test]
async fn expired_and_failed_invoices_grant_nothing() {
    let s = stack(Verification::Offline).await;
    let user = s.app.signed_in("expired@example.com").await;
    let a = invoice(&s, &user, "pro").await;
    s.nowpayments.fake.expire(&a).await;
    let b = invoice(&s, &user, "pro").await;
    s.nowpayments.fake.fail(&b).await;
    let view = s.payments(&user).await;
    assert_eq!(view["plan"], "free");
    let statuses: Vec<&str> = view["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|p| p["status"].as_str())
        .collect();
    assert!(
        statuses.contains(&"expired") && statuses.contains(&"failed"),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn a_refund_ends_the_month_at_once() {
    let s = stack(Verification::Offline).await;
    let user = s.app.signed_in("nprefund@example.com").await;
    let inv = invoice(&s, &user, "pro").await;
    let (payment, _) = s.nowpayments.fake.pay(&inv).await;
    assert_eq!(s.payments(&user).await["plan"], "pro");
    assert_eq!(s.nowpayments.fake.refund(payment).await, 200);
    let view = s.payments(&user).await;
    assert_eq!(view["plan"], "free", "{view}");
    assert_eq!(view["items"][0]["status"], "refunded");
    assert_eq!(view["subscriptions"][0]["end_reason"], "refunded");
}

#[tokio::test]
async fn the_lifecycle_ends_an_unrenewed_month() {
    let s = stack(Verification::Offline).await;
    let user = s.app.signed_in("npexpiry@example.com").await;
    let inv = invoice(&s, &user, "pro").await;
    s.nowpayments.fake.pay(&inv).await;
    let end = time(&live(&s.payments(&user).await).expect("live")["current_period_end"]);
    let db = s.app.db();
    let grace = Duration::from_secs(3600);
    assert_eq!(
        db.expire_subscriptions(end + chrono::Duration::minutes(30), grace)
            .await
            .expect("sweep"),
        0
    );
    assert_eq!(s.payments(&user).await["plan"], "pro");
    assert_eq!(
        db.expire_subscriptions(end + chrono::Duration::minutes(61), grace)
            .await
            .expect("sweep"),
        1
    );
    let view = s.payments(&user).await;
    assert_eq!(view["plan"], "free");
    assert_eq!(view["subscriptions"][0]["status"], "expired");
    assert_eq!(view["subscriptions"][0]["end_reason"], "period_ended");
}
