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

#[tokio::test]
async fn an_account_over_the_plans_limit_is_a_403_naming_the_limit_and_the_upgrade() {
    let app = spawn_app().await;
    let s = app.signed_in("alice@example.com").await;
    let discord = &app.discord.as_ref().expect("fake").fake;
    let bot = discord.add_bot("plans-bot", "bot");
    let guild = discord.add_guild("Guild", &[bot]);
    let channel = discord.add_channel(guild, "c");
    let hooks: Vec<(u64, String)> = (0..3)
        .map(|n| discord.add_webhook(channel, &format!("hook {n}")))
        .collect();
    let add = |n: usize| {
        let (id, token) = &hooks[n];
        let body = serde_json::json!({
            "kind": "webhook",
            "url": format!("https://discord.com/api/webhooks/{id}/{token}")
        });
        let app = &app;
        let token = s.access.clone();
        async move {
            app.call(
                reqwest::Method::POST,
                "/api/v1/accounts/discord",
                &token,
                Some(&body),
            )
            .await
        }
    };
    // Free allows 2 accounts.
    for n in 0..2 {
        let res = add(n).await;
        assert_eq!(
            res.status(),
            201,
            "{}",
            res.text().await.unwrap_or_default()
        );
    }
    let res = add(2).await;
    assert_eq!(res.status(), 403);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["error"]["code"], "plan_limit");
    assert_eq!(body["error"]["limit"], "max_accounts");
    assert_eq!(body["error"]["upgrade_to"], "pro");
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM platform_accounts")
        .fetch_one(app.db().pool())
        .await
        .expect("count");
    assert_eq!(count, 2, "nothing was added");

    // An upgrade lifts it at once.
    sqlx::query(
        "INSERT INTO subscriptions (user_id, plan_id, status) VALUES ($1::uuid, 'pro', 'active')",
    )
    .bind(&s.user_id)
    .execute(app.db().pool())
    .await
    .expect("subscription");
    assert_eq!(add(2).await.status(), 201);
}
