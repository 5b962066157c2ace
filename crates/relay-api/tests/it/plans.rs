//! Plans are public; a user's subscription shows the plan, its state and today's usage
//! against each limit, and follows a change of plan.

use crate::helpers::*;
use serde_json::Value;

#[tokio::test]
async fn plans_are_listed_without_signing_in_with_every_limit_and_feature() {
    let app = spawn_app().await;
    let res = app.get("/api/v1/plans").await;
    assert_eq!(res.status(), 200);
    let plans: Vec<Value> = res.json().await.expect("json");
    let ids: Vec<&str> = plans
        .iter()
        .map(|p| p["id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, ["free", "pro", "elite"], "cheapest first");
    for plan in &plans {
        for (feature, _) in relay_core::plans::FEATURES {
            assert!(
                !plan["features"][feature].is_null(),
                "{} lacks {feature}",
                plan["id"]
            );
        }
        for limit in [
            "max_accounts",
            "max_pairs",
            "max_destinations_per_pair",
            "daily_messages",
            "max_media_bytes",
            "backfill_days",
        ] {
            assert!(
                plan["limits"][limit].is_number(),
                "{} lacks {limit}",
                plan["id"]
            );
        }
    }
    assert_eq!(plans[0]["features"]["edits"], false);
    assert_eq!(plans[1]["features"]["edits"], true);
    assert_eq!(plans[2]["priority"], "high");
}

#[tokio::test]
async fn the_subscription_shows_the_plan_and_todays_usage() {
    let app = spawn_app().await;
    let s = app.signed_in("alice@example.com").await;
    let res = app.get_as("/api/v1/subscription", &s.access).await;
    assert_eq!(res.status(), 200);
    let sub: Value = res.json().await.expect("json");
    assert_eq!(sub["plan"]["id"], "free");
    assert_eq!(sub["status"], "free");
    assert_eq!(sub["usage"]["pairs"]["used"], 0);
    assert_eq!(sub["usage"]["pairs"]["limit"], 2);
    assert_eq!(sub["usage"]["messages_today"]["limit"], 200);

    sqlx::query(
        "INSERT INTO subscriptions (user_id, plan_id, status, current_period_end) \
         VALUES ($1::uuid, 'pro', 'active', now() + interval '30 days')",
    )
    .bind(&s.user_id)
    .execute(app.db().pool())
    .await
    .expect("subscription");
    sqlx::query(
        "INSERT INTO usage_daily (user_id, day, messages_forwarded) \
         VALUES ($1::uuid, (now() AT TIME ZONE 'UTC')::date, 17)",
    )
    .bind(&s.user_id)
    .execute(app.db().pool())
    .await
    .expect("usage");
    let sub: Value = app
        .get_as("/api/v1/subscription", &s.access)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(sub["plan"]["id"], "pro");
    assert_eq!(sub["status"], "active");
    assert!(sub["current_period_end"].is_string());
    assert_eq!(
        sub["usage"]["messages_today"],
        serde_json::json!({"used": 17, "limit": 20000})
    );

    let res = app.get("/api/v1/subscription").await;
    assert_eq!(res.status(), 401);
}
