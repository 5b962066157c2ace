//! PayPal: checkout → approve → webhooks → the plan; renewals, replays, reordering, a
//! forged signature, a refund, a cancellation and the lifecycle's expiry; both ways of
//! verifying.

use super::{PayStack, Verification, live, stack, time};
use crate::helpers::Session;
use chrono::{Months, Utc};
use std::time::Duration;

/// A signed-in user with an approved Pro subscription; returns its PayPal id.
async fn subscribed(s: &PayStack, email: &str) -> (Session, String) {
    let user = s.app.signed_in(email).await;
    let (status, body) = s.checkout(&user, "pro", "paypal").await;
    assert_eq!(status, 201, "{body}");
    let sub = s
        .paypal
        .fake
        .subscription_of_link(body["url"].as_str().expect("url"))
        .expect("an approve link of the fake");
    (user, sub)
}

#[tokio::test]
async fn checkout_approve_activates_the_plan_and_renewals_extend_once() {
    let s = stack(Verification::Offline).await;
    let (user, sub) = subscribed(&s, "pp@example.com").await;
    // The product and a plan per paid tier were made at PayPal.
    let plans = s.paypal.fake.plans();
    assert_eq!(plans.len(), 2, "{plans:?}");
    let view = s.payments(&user).await;
    assert_eq!(view["plan"], "free");
    assert_eq!(view["items"][0]["status"], "created");
    assert_eq!(view["items"][0]["provider_status"], "APPROVAL_PENDING");

    assert_eq!(s.paypal.fake.approve(&sub).await, vec![200, 200]);
    let view = s.payments(&user).await;
    assert_eq!(view["plan"], "pro", "{view}");
    let sub_view = live(&view).expect("a live subscription");
    let end = time(&sub_view["current_period_end"]);
    let expected = Utc::now()
        .checked_add_months(Months::new(1))
        .expect("month");
    assert!(
        (expected - end).num_seconds().abs() < 60,
        "{end} vs {expected}"
    );
    assert!(
        view["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|p| p["kind"] == "sale" && p["status"] == "completed")
    );

    // A renewal: one more month.
    assert_eq!(s.paypal.fake.renew(&sub).await, vec![200]);
    let renewed = time(&live(&s.payments(&user).await).expect("live")["current_period_end"]);
    assert_eq!(
        renewed,
        end.checked_add_months(Months::new(1)).expect("month")
    );

    // The renewal delivered again: stored once, no second month.
    let events = s.stored_events().await;
    let (renewal, _) = s.paypal.fake.events().into_iter().last().expect("events");
    assert_eq!(s.paypal.fake.resend(&renewal).await, vec![200]);
    assert_eq!(s.stored_events().await, events);
    let after = time(&live(&s.payments(&user).await).expect("live")["current_period_end"]);
    assert_eq!(after, renewed);
}

#[tokio::test]
async fn a_forged_signature_is_rejected_and_changes_nothing() {
    let s = stack(Verification::Offline).await;
    let (user, sub) = subscribed(&s, "forged@example.com").await;
    s.paypal.fake.approve(&sub).await;
    let before = s.payments(&user).await;
    let events = s.stored_events().await;
    assert_eq!(s.paypal.fake.send_forged(&sub).await, 401);
    assert_eq!(s.stored_events().await, events);
    assert_eq!(s.payments(&user).await, before);
}

#[tokio::test]
async fn events_out_of_order_reach_the_same_state() {
    let s = stack(Verification::Offline).await;
    let (in_order, sub_a) = subscribed(&s, "ordered@example.com").await;
    let (reordered, sub_b) = subscribed(&s, "reordered@example.com").await;
    for (sub, hold) in [(&sub_a, false), (&sub_b, true)] {
        if hold {
            s.paypal.fake.hold();
        }
        s.paypal.fake.approve(sub).await;
        s.paypal.fake.renew(sub).await;
        s.paypal.fake.fail_renewal(sub).await;
        if hold {
            let statuses = s.paypal.fake.release(true).await;
            assert_eq!(statuses, vec![200; 4]);
        }
    }
    let a = s.payments(&in_order).await;
    let b = s.payments(&reordered).await;
    for view in [&a, &b] {
        let sub = live(view).expect("live");
        assert_eq!(sub["status"], "past_due", "{view}");
        assert_eq!(sub["plan"], "pro");
        let months = time(&sub["current_period_end"]);
        let sales = view["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter(|p| p["kind"] == "sale")
            .count();
        assert_eq!(sales, 2, "{view}");
        assert!(
            months
                > Utc::now().checked_add_months(Months::new(2)).expect("m")
                    - chrono::Duration::minutes(5)
        );
    }
}

#[tokio::test]
async fn a_refund_downgrades_at_once() {
    let s = stack(Verification::Offline).await;
    let (user, sub) = subscribed(&s, "refund@example.com").await;
    s.paypal.fake.approve(&sub).await;
    assert_eq!(s.paypal.fake.refund(&sub).await, vec![200]);
    let view = s.payments(&user).await;
    assert_eq!(view["plan"], "free", "{view}");
    assert_eq!(view["subscriptions"][0]["status"], "expired");
    assert_eq!(view["subscriptions"][0]["end_reason"], "refunded");
    assert!(
        view["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|p| p["kind"] == "sale" && p["status"] == "refunded")
    );
    // A late renewal does not bring it back.
    s.paypal.fake.renew(&sub).await;
    assert_eq!(s.payments(&user).await["plan"], "free");
}

#[tokio::test]
async fn a_cancellation_runs_to_the_period_end_then_the_lifecycle_ends_it() {
    let s = stack(Verification::Offline).await;
    let (user, sub) = subscribed(&s, "cancel@example.com").await;
    s.paypal.fake.approve(&sub).await;
    s.paypal.fake.cancel(&sub).await;
    let view = s.payments(&user).await;
    assert_eq!(view["plan"], "pro", "{view}");
    let live_sub = live(&view).expect("live");
    assert_eq!(live_sub["renews"], false);
    assert_eq!(live_sub["end_reason"], "cancelled");
    let end = time(&live_sub["current_period_end"]);

    let db = s.app.db();
    // Before the end nothing happens; after it (plus grace) it ends, with its reason.
    let grace = Duration::from_secs(86_400);
    assert_eq!(db.expire_subscriptions(end, grace).await.expect("sweep"), 0);
    assert_eq!(
        db.expire_subscriptions(end + chrono::Duration::hours(23), grace)
            .await
            .expect("sweep"),
        0
    );
    assert_eq!(
        db.expire_subscriptions(end + chrono::Duration::hours(25), grace)
            .await
            .expect("sweep"),
        1
    );
    let view = s.payments(&user).await;
    assert_eq!(view["plan"], "free", "{view}");
    assert_eq!(view["subscriptions"][0]["status"], "expired");
    assert_eq!(view["subscriptions"][0]["end_reason"], "cancelled");
    // A late event does not revive it.
    s.paypal.fake.renew(&sub).await;
    assert_eq!(s.payments(&user).await["plan"], "free");
}

#[tokio::test]
async fn repeated_failures_suspend_and_an_unpaid_subscription_expires() {
    let s = stack(Verification::Offline).await;
    let (user, sub) = subscribed(&s, "dunning@example.com").await;
    s.paypal.fake.approve(&sub).await;
    for _ in 0..3 {
        s.paypal.fake.fail_renewal(&sub).await;
    }
    assert_eq!(s.paypal.fake.status(&sub).as_deref(), Some("SUSPENDED"));
    let view = s.payments(&user).await;
    let live_sub = live(&view).expect("live");
    assert_eq!(live_sub["end_reason"], "suspended", "{view}");
    let end = time(&live_sub["current_period_end"]);
    s.app
        .db()
        .expire_subscriptions(end + chrono::Duration::seconds(1), Duration::ZERO)
        .await
        .expect("sweep");
    let view = s.payments(&user).await;
    assert_eq!(view["plan"], "free");
    assert_eq!(view["subscriptions"][0]["end_reason"], "suspended");
}

#[tokio::test]
async fn postback_verification_accepts_what_paypal_sent_and_nothing_else() {
    let s = stack(Verification::Postback).await;
    let (user, sub) = subscribed(&s, "postback@example.com").await;
    assert_eq!(s.paypal.fake.approve(&sub).await, vec![200, 200]);
    assert_eq!(s.payments(&user).await["plan"], "pro");
    let events = s.stored_events().await;
    assert_eq!(s.paypal.fake.send_forged(&sub).await, 401);
    assert_eq!(s.stored_events().await, events);
}

#[tokio::test]
async fn an_expired_token_is_fetched_again() {
    let s = stack(Verification::Offline).await;
    let user = s.app.signed_in("token@example.com").await;
    assert_eq!(s.checkout(&user, "pro", "paypal").await.0, 201);
    s.paypal.fake.expire_tokens();
    assert_eq!(s.checkout(&user, "elite", "paypal").await.0, 201);
}
