//! Forwarding pairs over the API: all four directions with accounts connected against the
//! fakes, every validation error, loops, plan limits, pause/resume, changes, deletion, and
//! the failure and error views.

use crate::helpers::*;
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

/// Alice's connected accounts and the chats they can use.
struct Setup {
    /// A Discord bot in a server with two channels.
    discord_bot: String,
    channel_a: String,
    channel_b: String,
    /// A Discord webhook posting into `channel_b`.
    webhook: String,
    /// Two Telegram bots.
    telegram_bot: String,
    telegram_bot2: String,
}

const TG_CHAT_A: i64 = -1_001_234_567_890;
const TG_CHAT_B: &str = "-1009876543210";
const TG_CHAT_C: i64 = -1_005_555_555_555;

async fn connect(app: &TestApp, s: &Session, path: &str, body: Value) -> String {
    let res = app.call(Method::POST, path, &s.access, Some(&body)).await;
    assert_eq!(res.status(), 201, "{path} {body}");
    let account: Value = res.json().await.expect("json");
    account["id"].as_str().expect("id").to_owned()
}

/// Four accounts of the user's, connected while on Elite (Free connects two) and kept on a
/// downgrade: the pairs under test see the user's own plan.
async fn setup(app: &TestApp, s: &Session, tag: &str) -> Setup {
    let upgraded = sqlx::query(
        "INSERT INTO subscriptions (user_id, plan_id, status) SELECT $1::uuid, 'elite', 'active' \
         WHERE NOT EXISTS (SELECT 1 FROM subscriptions WHERE user_id = $1::uuid \
             AND status IN ('active', 'past_due')) RETURNING id",
    )
    .bind(&s.user_id)
    .fetch_optional(app.db().pool())
    .await
    .expect("subscription");
    let accounts = connect_all(app, s, tag).await;
    if let Some(row) = upgraded {
        let id: uuid::Uuid = sqlx::Row::get(&row, "id");
        sqlx::query("DELETE FROM subscriptions WHERE id = $1")
            .bind(id)
            .execute(app.db().pool())
            .await
            .expect("downgrade");
    }
    accounts
}

async fn connect_all(app: &TestApp, s: &Session, tag: &str) -> Setup {
    let discord = &app.discord.as_ref().expect("fake").fake;
    let bot_token = format!("{tag}-discord-bot-token");
    let bot = discord.add_bot(&bot_token, "forwarder");
    let guild = discord.add_guild("Guild", &[bot]);
    let channel_a = discord.add_channel(guild, "a");
    let channel_b = discord.add_channel(guild, "b");
    let (hook_id, hook_token) = discord.add_webhook(channel_b, "hook");
    let telegram = &app.telegram.as_ref().expect("fake").fake;
    let n = if tag == "alice" { 1 } else { 2 };
    telegram.add_bot(&format!("{n}1:{tag}-tg-bot"), "tg_one_bot");
    telegram.add_bot(&format!("{n}2:{tag}-tg-bot"), "tg_two_bot");
    Setup {
        discord_bot: connect(
            app,
            s,
            "/api/v1/accounts/discord",
            json!({"kind": "bot", "token": bot_token}),
        )
        .await,
        webhook: connect(
            app,
            s,
            "/api/v1/accounts/discord",
            json!({"kind": "webhook", "url": format!("https://discord.com/api/webhooks/{hook_id}/{hook_token}")}),
        )
        .await,
        telegram_bot: connect(
            app,
            s,
            "/api/v1/accounts/telegram",
            json!({"kind": "bot", "token": format!("{n}1:{tag}-tg-bot")}),
        )
        .await,
        telegram_bot2: connect(
            app,
            s,
            "/api/v1/accounts/telegram",
            json!({"kind": "bot", "token": format!("{n}2:{tag}-tg-bot")}),
        )
        .await,
        channel_a: channel_a.to_string(),
        channel_b: channel_b.to_string(),
    }
}

async fn subscribe(app: &TestApp, s: &Session, plan: &str) {
    sqlx::query(
        "INSERT INTO subscriptions (user_id, plan_id, status) VALUES ($1::uuid, $2, 'active')",
    )
    .bind(&s.user_id)
    .bind(plan)
    .execute(app.db().pool())
    .await
    .expect("subscription");
}

async fn create(app: &TestApp, s: &Session, body: &Value) -> reqwest::Response {
    app.call(Method::POST, "/api/v1/pairs", &s.access, Some(body))
        .await
}

async fn created(app: &TestApp, s: &Session, body: Value) -> Value {
    let res = create(app, s, &body).await;
    let status = res.status();
    let text = res.text().await.expect("body");
    assert_eq!(status, 201, "{body}: {text}");
    serde_json::from_str(&text).expect("json")
}

async fn pairs_of(app: &TestApp, s: &Session) -> Vec<Value> {
    let res = app.get_as("/api/v1/pairs", &s.access).await;
    assert_eq!(res.status(), 200);
    let list: Value = res.json().await.expect("json");
    list.as_array().expect("array").clone()
}

/// The field error messages of a 422, or a panic naming what came instead.
async fn field_errors(res: reqwest::Response, what: &str) -> Value {
    let status = res.status();
    let body: Value = res.json().await.expect("json");
    assert_eq!(status, 422, "{what}: {body}");
    assert_eq!(body["error"]["code"], "validation_failed", "{what}: {body}");
    body["error"]["fields"].clone()
}

fn first_message<'a>(fields: &'a Value, field: &str) -> &'a str {
    fields[field][0].as_str().unwrap_or_default()
}

#[tokio::test]
async fn pairs_in_all_four_directions_are_created_listed_and_read() {
    let app = spawn_app().await;
    let s = app.signed_in("alice@example.com").await;
    subscribe(&app, &s, "pro").await;
    let a = setup(&app, &s, "alice").await;

    // Telegram → Discord, through a bot and a webhook; the chat id as a JSON number.
    let tg_dc = created(
        &app,
        &s,
        json!({
            "name": "  Announcements  ",
            "source": {"account_id": a.telegram_bot, "chat_id": TG_CHAT_A},
            "destinations": [
                {"account_id": a.discord_bot, "chat_id": a.channel_a},
                {"account_id": a.webhook},
            ],
        }),
    )
    .await;
    assert_eq!(tg_dc["name"], "Announcements");
    assert_eq!(tg_dc["source"]["account_id"], a.telegram_bot.as_str());
    assert_eq!(tg_dc["source"]["account_kind"], "telegram_bot");
    assert_eq!(tg_dc["source"]["chat_id"], TG_CHAT_A.to_string());
    assert_eq!(tg_dc["destinations"][0]["account_kind"], "discord_bot");
    assert_eq!(tg_dc["destinations"][0]["chat_id"], a.channel_a.as_str());
    assert_eq!(tg_dc["destinations"][1]["account_kind"], "discord_webhook");
    assert_eq!(tg_dc["destinations"][1]["chat_id"], Value::Null);
    assert!(tg_dc["destinations"][0]["id"].is_string());
    assert_eq!(tg_dc["enabled"], true);
    assert_eq!(tg_dc["paused"], false);
    assert_eq!(tg_dc["paused_at"], Value::Null);
    assert!(tg_dc["created_at"].is_string() && tg_dc["updated_at"].is_string());

    // Discord → Telegram.
    let dc_tg = created(
        &app,
        &s,
        json!({
            "source": {"account_id": a.discord_bot, "chat_id": a.channel_a},
            "destinations": [{"account_id": a.telegram_bot, "chat_id": TG_CHAT_B}],
        }),
    )
    .await;
    assert_eq!(dc_tg["name"], "");
    assert_eq!(dc_tg["source"]["account_kind"], "discord_bot");
    assert_eq!(dc_tg["destinations"][0]["account_kind"], "telegram_bot");
    assert_eq!(dc_tg["destinations"][0]["chat_id"], TG_CHAT_B);

    // Telegram → Telegram: other chats, through either bot (not back to A: with the pairs
    // above that would be a loop, A → Discord a → B → A).
    let tg_tg = created(
        &app,
        &s,
        json!({
            "source": {"account_id": a.telegram_bot, "chat_id": TG_CHAT_B},
            "destinations": [
                {"account_id": a.telegram_bot2, "chat_id": TG_CHAT_C},
                {"account_id": a.telegram_bot, "chat_id": "777000"},
            ],
        }),
    )
    .await;
    assert_eq!(tg_tg["destinations"][0]["chat_id"], TG_CHAT_C.to_string());

    // Discord → Discord: another channel, and a webhook into it.
    let dc_dc = created(
        &app,
        &s,
        json!({
            "source": {"account_id": a.discord_bot, "chat_id": a.channel_a},
            "destinations": [
                {"account_id": a.discord_bot, "chat_id": a.channel_b},
                {"account_id": a.webhook},
            ],
        }),
    )
    .await;
    assert_eq!(dc_dc["destinations"].as_array().expect("array").len(), 2);

    let list = pairs_of(&app, &s).await;
    let ids: Vec<&str> = list.iter().map(|p| p["id"].as_str().expect("id")).collect();
    let expected: Vec<&str> = [&tg_dc, &dc_tg, &tg_tg, &dc_dc]
        .iter()
        .map(|p| p["id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, expected, "oldest first");
    let one: Value = app
        .get_as(
            &format!("/api/v1/pairs/{}", tg_dc["id"].as_str().expect("id")),
            &s.access,
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(one, tg_dc);

    // The listener finds the Telegram → Discord pair.
    let routes = app
        .db()
        .routes_for_source(a.telegram_bot.parse().expect("id"), &TG_CHAT_A.to_string())
        .await
        .expect("routes");
    assert_eq!(routes.len(), 1);
    assert_eq!(routes[0].destinations.len(), 2);
    assert_eq!(routes[0].priority, relay_core::Priority::Medium);

    assert_eq!(
        app.get_as("/api/v1/pairs/not-a-uuid", &s.access)
            .await
            .status(),
        404
    );
    assert_eq!(
        app.get_as(
            &format!("/api/v1/pairs/{}", uuid::Uuid::new_v4()),
            &s.access
        )
        .await
        .status(),
        404
    );
}

#[tokio::test]
async fn invalid_pairs_get_field_errors_and_nothing_is_stored() {
    let app = spawn_app().await;
    let s = app.signed_in("alice@example.com").await;
    let a = setup(&app, &s, "alice").await;
    let bob = app.signed_in("bob@example.com").await;
    let b = setup(&app, &bob, "bob").await;
    let good_source = json!({"account_id": a.telegram_bot, "chat_id": TG_CHAT_A});
    let good_dest = json!({"account_id": a.discord_bot, "chat_id": a.channel_a});
    let nobody = uuid::Uuid::new_v4().to_string();

    let cases: Vec<(Value, &str, &str)> = vec![
        (json!({}), "source", "is required"),
        (
            json!({"source": good_source}),
            "destinations",
            "is required",
        ),
        (
            json!({"source": {"chat_id": TG_CHAT_A}, "destinations": [good_dest]}),
            "source.account_id",
            "is required",
        ),
        (
            json!({"source": {"account_id": nobody, "chat_id": TG_CHAT_A}, "destinations": [good_dest]}),
            "source.account_id",
            "is not one of your accounts",
        ),
        (
            json!({"source": {"account_id": "not-a-uuid", "chat_id": TG_CHAT_A}, "destinations": [good_dest]}),
            "source.account_id",
            "is not one of your accounts",
        ),
        (
            json!({"source": {"account_id": b.telegram_bot, "chat_id": TG_CHAT_A}, "destinations": [good_dest]}),
            "source.account_id",
            "is not one of your accounts",
        ),
        (
            json!({"source": {"account_id": a.webhook, "chat_id": a.channel_a}, "destinations": [{"account_id": a.telegram_bot, "chat_id": TG_CHAT_A}]}),
            "source.account_id",
            "webhook, which can only send",
        ),
        (
            json!({"source": {"account_id": a.telegram_bot}, "destinations": [good_dest]}),
            "source.chat_id",
            "is required",
        ),
        (
            json!({"source": {"account_id": a.telegram_bot, "chat_id": 0}, "destinations": [good_dest]}),
            "source.chat_id",
            "is not a Telegram chat id",
        ),
        (
            json!({"source": {"account_id": a.telegram_bot, "chat_id": "@channel"}, "destinations": [good_dest]}),
            "source.chat_id",
            "is not a Telegram chat id",
        ),
        (
            json!({"source": {"account_id": a.telegram_bot, "chat_id": "99999999999999999999"}, "destinations": [good_dest]}),
            "source.chat_id",
            "is not a Telegram chat id",
        ),
        (
            json!({"source": {"account_id": a.telegram_bot, "chat_id": true}, "destinations": [good_dest]}),
            "source.chat_id",
            "must be a string or an integer",
        ),
        (
            json!({"source": {"account_id": a.discord_bot, "chat_id": "12345"}, "destinations": [{"account_id": a.telegram_bot, "chat_id": TG_CHAT_A}]}),
            "source.chat_id",
            "is not a Discord channel id",
        ),
        (
            json!({"source": {"account_id": a.discord_bot, "chat_id": "-100000000000000000"}, "destinations": [{"account_id": a.telegram_bot, "chat_id": TG_CHAT_A}]}),
            "source.chat_id",
            "is not a Discord channel id",
        ),
        (
            json!({"source": good_source, "destinations": []}),
            "destinations",
            "at least one destination",
        ),
        (
            json!({"source": good_source, "destinations": [good_dest, {"account_id": a.webhook}]}),
            "destinations",
            "the Free plan allows at most 1 destination per pair",
        ),
        (
            json!({"source": good_source, "destinations": [{"chat_id": a.channel_a}]}),
            "destinations[0].account_id",
            "is required",
        ),
        (
            json!({"source": good_source, "destinations": [{"account_id": b.discord_bot, "chat_id": a.channel_a}]}),
            "destinations[0].account_id",
            "is not one of your accounts",
        ),
        (
            json!({"source": good_source, "destinations": [{"account_id": a.webhook, "chat_id": TG_CHAT_A}]}),
            "destinations[0].chat_id",
            "must be left out (a Discord webhook posts to its own channel) or be the id of a thread",
        ),
        (
            json!({"source": good_source, "destinations": [{"account_id": a.discord_bot}]}),
            "destinations[0].chat_id",
            "is required",
        ),
        (
            json!({"source": good_source, "destinations": [{"account_id": a.discord_bot, "chat_id": TG_CHAT_A}]}),
            "destinations[0].chat_id",
            "is not a Discord channel id",
        ),
        (
            json!({"source": good_source, "destinations": [{"account_id": a.telegram_bot2, "chat_id": a.channel_a.clone() + "x"}]}),
            "destinations[0].chat_id",
            "is not a Telegram chat id",
        ),
        (
            json!({"name": "x".repeat(201), "source": good_source, "destinations": [good_dest]}),
            "name",
            "at most 200 characters",
        ),
    ];
    for (body, field, expect) in &cases {
        let fields = field_errors(create(&app, &s, body).await, &body.to_string()).await;
        let message = first_message(&fields, field);
        assert!(
            message.contains(expect),
            "{body}: expected {field} to say '{expect}', got {fields}"
        );
    }

    // On Pro, more destinations are allowed, and a destination twice is named.
    subscribe(&app, &s, "pro").await;
    let fields = field_errors(
        create(
            &app,
            &s,
            &json!({"source": good_source, "destinations": [
                good_dest,
                {"account_id": a.webhook},
                {"account_id": a.discord_bot, "chat_id": a.channel_a},
            ]}),
        )
        .await,
        "twice",
    )
    .await;
    assert_eq!(
        first_message(&fields, "destinations[2]"),
        "is the same as destinations[0]"
    );
    let six: Vec<Value> = (0..6)
        .map(|i| json!({"account_id": a.telegram_bot2, "chat_id": format!("-10{i}")}))
        .collect();
    let fields = field_errors(
        create(
            &app,
            &s,
            &json!({"source": good_source, "destinations": six}),
        )
        .await,
        "six",
    )
    .await;
    assert_eq!(
        first_message(&fields, "destinations"),
        "the Pro plan allows at most 5 destinations per pair"
    );
    // Several problems at once are all reported.
    let fields = field_errors(
        create(
            &app,
            &s,
            &json!({"name": "x".repeat(300), "source": {"account_id": a.telegram_bot, "chat_id": "x"},
                    "destinations": [{"account_id": a.discord_bot}]}),
        )
        .await,
        "several",
    )
    .await;
    for field in ["name", "source.chat_id", "destinations[0].chat_id"] {
        assert!(fields[field].is_array(), "{field}: {fields}");
    }

    assert!(pairs_of(&app, &s).await.is_empty(), "nothing stored");
    assert!(pairs_of(&app, &bob).await.is_empty());
}

#[tokio::test]
async fn a_destination_that_is_the_source_chat_is_refused() {
    let app = spawn_app().await;
    let s = app.signed_in("alice@example.com").await;
    subscribe(&app, &s, "pro").await;
    let a = setup(&app, &s, "alice").await;

    // Telegram: the same chat, through another bot and written differently.
    let fields = field_errors(
        create(
            &app,
            &s,
            &json!({"source": {"account_id": a.telegram_bot, "chat_id": TG_CHAT_A},
            "destinations": [
                {"account_id": a.discord_bot, "chat_id": a.channel_a},
                {"account_id": a.telegram_bot2, "chat_id": format!(" {TG_CHAT_A} ")},
            ]}),
        )
        .await,
        "telegram loop",
    )
    .await;
    assert_eq!(
        first_message(&fields, "destinations[1].chat_id"),
        "would send back into the source chat"
    );
    assert!(fields["destinations[0].chat_id"].is_null(), "{fields}");

    // Discord: the same channel through the bot.
    let fields = field_errors(
        create(
            &app,
            &s,
            &json!({"source": {"account_id": a.discord_bot, "chat_id": a.channel_a},
                    "destinations": [{"account_id": a.discord_bot, "chat_id": a.channel_a}]}),
        )
        .await,
        "discord loop",
    )
    .await;
    assert_eq!(
        first_message(&fields, "destinations[0].chat_id"),
        "would send back into the source chat"
    );

    // Discord: a webhook that posts into the source channel (Discord is asked which).
    let fields = field_errors(
        create(
            &app,
            &s,
            &json!({"source": {"account_id": a.discord_bot, "chat_id": a.channel_b},
                    "destinations": [{"account_id": a.webhook}]}),
        )
        .await,
        "webhook loop",
    )
    .await;
    assert!(
        first_message(&fields, "destinations[0].account_id")
            .starts_with("would send back into the source chat"),
        "{fields}"
    );

    // The same chat id on the other platform is no loop.
    let pair = created(
        &app,
        &s,
        json!({"source": {"account_id": a.discord_bot, "chat_id": a.channel_a},
               "destinations": [{"account_id": a.telegram_bot, "chat_id": a.channel_a}]}),
    )
    .await;
    let id = pair["id"].as_str().expect("id");

    // A change that makes a loop is refused and changes nothing.
    let patch = |body: Value| {
        let app = &app;
        let token = s.access.clone();
        let path = format!("/api/v1/pairs/{id}");
        async move { app.call(Method::PATCH, &path, &token, Some(&body)).await }
    };
    let fields = field_errors(
        patch(json!({"destinations": [{"account_id": a.discord_bot, "chat_id": a.channel_a}]}))
            .await,
        "patch destinations",
    )
    .await;
    assert_eq!(
        first_message(&fields, "destinations[0].chat_id"),
        "would send back into the source chat"
    );
    let with_webhook = created(
        &app,
        &s,
        json!({"source": {"account_id": a.discord_bot, "chat_id": a.channel_a},
               "destinations": [{"account_id": a.webhook}]}),
    )
    .await;
    let fields = field_errors(
        app.call(
            Method::PATCH,
            &format!("/api/v1/pairs/{}", with_webhook["id"].as_str().expect("id")),
            &s.access,
            Some(&json!({"source_chat_id": a.channel_b})),
        )
        .await,
        "patch source onto the webhook's channel",
    )
    .await;
    assert!(
        first_message(&fields, "source_chat_id")
            .starts_with("would send back into the source chat"),
        "{fields}"
    );
    let unchanged: Value = app
        .get_as(&format!("/api/v1/pairs/{id}"), &s.access)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(unchanged, pair);
}

#[tokio::test]
async fn the_plans_pair_limit_is_a_403() {
    let app = spawn_app().await;
    let s = app.signed_in("alice@example.com").await;
    let a = setup(&app, &s, "alice").await;
    let body = |chat: &str| {
        json!({"source": {"account_id": a.telegram_bot, "chat_id": chat},
               "destinations": [{"account_id": a.webhook}]})
    };
    created(&app, &s, body("-1001")).await;
    created(&app, &s, body("-1002")).await;
    let res = create(&app, &s, &body("-1003")).await;
    assert_eq!(res.status(), 403);
    let err: Value = res.json().await.expect("json");
    assert_eq!(err["error"]["code"], "plan_limit");
    let message = err["error"]["message"].as_str().expect("message");
    assert!(
        message.contains("Free") && message.contains('2'),
        "{message}"
    );
    assert_eq!(pairs_of(&app, &s).await.len(), 2);

    subscribe(&app, &s, "pro").await;
    created(&app, &s, body("-1003")).await;
}

#[tokio::test]
async fn pairs_pause_resume_change_and_delete() {
    let app = spawn_app().await;
    let s = app.signed_in("alice@example.com").await;
    subscribe(&app, &s, "pro").await;
    let a = setup(&app, &s, "alice").await;
    let pair = created(
        &app,
        &s,
        json!({"name": "first",
        "source": {"account_id": a.telegram_bot, "chat_id": TG_CHAT_A},
        "destinations": [
            {"account_id": a.discord_bot, "chat_id": a.channel_a},
            {"account_id": a.webhook},
            {"account_id": a.telegram_bot2, "chat_id": TG_CHAT_B},
        ]}),
    )
    .await;
    let id = pair["id"].as_str().expect("id").to_owned();
    let path = format!("/api/v1/pairs/{id}");
    let source = a.telegram_bot.parse().expect("id");
    let routes = |chat: String| {
        let db = app.db().clone();
        async move { db.routes_for_source(source, &chat).await.expect("routes") }
    };
    assert_eq!(routes(TG_CHAT_A.to_string()).await.len(), 1);

    // Pause and resume.
    let res = app
        .call(Method::POST, &format!("{path}/pause"), &s.access, None)
        .await;
    assert_eq!(res.status(), 200);
    let paused: Value = res.json().await.expect("json");
    assert_eq!(paused["paused"], true);
    assert!(paused["paused_at"].is_string());
    assert!(routes(TG_CHAT_A.to_string()).await.is_empty());
    let again: Value = app
        .call(Method::POST, &format!("{path}/pause"), &s.access, None)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        again["paused_at"], paused["paused_at"],
        "the first pause's time stays"
    );
    let resumed: Value = app
        .call(Method::POST, &format!("{path}/resume"), &s.access, None)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(resumed["paused"], false);
    assert_eq!(resumed["paused_at"], Value::Null);
    assert_eq!(routes(TG_CHAT_A.to_string()).await.len(), 1);

    // Replace the destinations: those that stay keep their ids.
    let res = app
        .call(
            Method::PATCH,
            &path,
            &s.access,
            Some(&json!({
                "name": "renamed",
                "source_chat_id": "-1005",
                "destinations": [
                    {"account_id": a.telegram_bot2, "chat_id": TG_CHAT_B},
                    {"account_id": a.discord_bot, "chat_id": a.channel_b},
                    {"account_id": a.discord_bot, "chat_id": a.channel_a},
                ],
            })),
        )
        .await;
    assert_eq!(res.status(), 200);
    let changed: Value = res.json().await.expect("json");
    assert_eq!(changed["name"], "renamed");
    assert_eq!(changed["source"]["chat_id"], "-1005");
    let chats: Vec<&Value> = changed["destinations"]
        .as_array()
        .expect("array")
        .iter()
        .map(|d| &d["chat_id"])
        .collect();
    assert_eq!(
        chats,
        vec![TG_CHAT_B, a.channel_b.as_str(), a.channel_a.as_str()]
    );
    assert_eq!(
        changed["destinations"][0]["id"],
        pair["destinations"][2]["id"]
    );
    assert_eq!(
        changed["destinations"][2]["id"],
        pair["destinations"][0]["id"]
    );
    assert!(
        pair["destinations"]
            .as_array()
            .expect("array")
            .iter()
            .all(|d| d["id"] != changed["destinations"][1]["id"]),
        "the new destination has a new id"
    );
    assert!(routes(TG_CHAT_A.to_string()).await.is_empty());
    assert_eq!(routes("-1005".into()).await.len(), 1);

    // Disable; an empty change is the pair as it is; a bad change changes nothing.
    let disabled: Value = app
        .call(
            Method::PATCH,
            &path,
            &s.access,
            Some(&json!({"enabled": false})),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(disabled["enabled"], false);
    assert!(routes("-1005".into()).await.is_empty());
    let same: Value = app
        .call(Method::PATCH, &path, &s.access, Some(&json!({})))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(same, disabled);
    for (body, field) in [
        (json!({"source_chat_id": "abc"}), "source_chat_id"),
        (json!({"destinations": []}), "destinations"),
        (json!({"name": "y".repeat(201)}), "name"),
        (
            json!({"destinations": [{"account_id": a.webhook, "chat_id": "1"}]}),
            "destinations[0].chat_id",
        ),
    ] {
        let fields = field_errors(
            app.call(Method::PATCH, &path, &s.access, Some(&body)).await,
            &body.to_string(),
        )
        .await;
        assert!(fields[field].is_array(), "{body}: {fields}");
    }
    let after: Value = app
        .get_as(&path, &s.access)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(after, disabled);

    // Delete.
    assert_eq!(
        app.call(Method::DELETE, &path, &s.access, None)
            .await
            .status(),
        204
    );
    assert_eq!(app.get_as(&path, &s.access).await.status(), 404);
    assert_eq!(
        app.call(Method::DELETE, &path, &s.access, None)
            .await
            .status(),
        404
    );
    for action in ["pause", "resume"] {
        assert_eq!(
            app.call(Method::POST, &format!("{path}/{action}"), &s.access, None)
                .await
                .status(),
            404
        );
    }
    assert!(pairs_of(&app, &s).await.is_empty());
}

#[tokio::test]
async fn deleting_the_account_of_a_pairs_last_destination_pauses_the_pair_with_a_reason() {
    let app = spawn_app().await;
    let s = app.signed_in("alice@example.com").await;
    subscribe(&app, &s, "pro").await;
    let a = setup(&app, &s, "alice").await;
    let lone = created(
        &app,
        &s,
        json!({"source": {"account_id": a.telegram_bot, "chat_id": TG_CHAT_A},
        "destinations": [{"account_id": a.webhook}]}),
    )
    .await;
    let shared = created(
        &app,
        &s,
        json!({"source": {"account_id": a.telegram_bot, "chat_id": TG_CHAT_B},
        "destinations": [{"account_id": a.webhook}, {"account_id": a.discord_bot, "chat_id": a.channel_a}]}),
    )
    .await;
    let res = app
        .call(
            Method::DELETE,
            &format!("/api/v1/accounts/{}", a.webhook),
            &s.access,
            None,
        )
        .await;
    assert_eq!(res.status(), 204);

    let path = format!("/api/v1/pairs/{}", lone["id"].as_str().expect("id"));
    let pair: Value = app
        .get_as(&path, &s.access)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(pair["destinations"], json!([]));
    assert_eq!(pair["paused"], true, "{pair}");
    assert_eq!(
        pair["paused_reason"],
        "its last destination's account was deleted"
    );
    let source = a.telegram_bot.parse().expect("id");
    let routes = app
        .db()
        .routes_for_source(source, &TG_CHAT_A.to_string())
        .await
        .expect("routes");
    assert!(routes.is_empty(), "a paused pair forwards nothing");
    // The other pair keeps its other destination and runs on.
    let other_path = format!("/api/v1/pairs/{}", shared["id"].as_str().expect("id"));
    let other: Value = app
        .get_as(&other_path, &s.access)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(other["paused"], false);
    assert_eq!(other["destinations"].as_array().map(Vec::len), Some(1));

    // Resuming without a destination is a 409 that says what to do; with one, it runs.
    let res = app
        .call(Method::POST, &format!("{path}/resume"), &s.access, None)
        .await;
    assert_eq!(res.status(), 409);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["error"]["code"], "conflict");
    assert!(
        body["error"]["fields"]["destinations"][0]
            .as_str()
            .is_some_and(|m| m.contains("add one")),
        "{body}"
    );
    let res = app
        .call(
            Method::PATCH,
            &path,
            &s.access,
            Some(&json!({"destinations": [{"account_id": a.discord_bot, "chat_id": a.channel_b}]})),
        )
        .await;
    assert_eq!(
        res.status(),
        200,
        "{}",
        res.text().await.unwrap_or_default()
    );
    let resumed: Value = app
        .call(Method::POST, &format!("{path}/resume"), &s.access, None)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(resumed["paused"], false, "{resumed}");
    assert_eq!(resumed["paused_reason"], Value::Null);
}

#[tokio::test]
async fn a_manual_forward_with_no_blank_or_too_long_text_is_a_422_and_queues_nothing() {
    let app = spawn_app().await;
    let s = app.signed_in("alice@example.com").await;
    let a = setup(&app, &s, "alice").await;
    let pair = created(
        &app,
        &s,
        json!({"source": {"account_id": a.telegram_bot, "chat_id": TG_CHAT_A},
        "destinations": [{"account_id": a.webhook}]}),
    )
    .await;
    let path = format!("/api/v1/pairs/{}/forward", pair["id"].as_str().expect("id"));
    for (body, message) in [
        (json!({}), "is required"),
        (json!({"text": ""}), "is required"),
        (json!({"text": "   \n\t "}), "must not be blank"),
        (
            json!({"text": "x".repeat(20_001)}),
            "is longer than 20000 characters",
        ),
    ] {
        let res = app.call(Method::POST, &path, &s.access, Some(&body)).await;
        let fields = field_errors(res, &body.to_string()).await;
        assert_eq!(first_message(&fields, "text"), message, "{body}");
    }
    let queued: i64 = sqlx::query_scalar("SELECT count(*) FROM deliveries")
        .fetch_one(app.db().pool())
        .await
        .expect("count");
    assert_eq!(queued, 0);
}

#[tokio::test]
async fn a_pair_that_closes_a_loop_with_other_pairs_is_a_409_naming_it() {
    let app = spawn_app().await;
    let s = app.signed_in("alice@example.com").await;
    subscribe(&app, &s, "pro").await;
    let a = setup(&app, &s, "alice").await;
    created(
        &app,
        &s,
        json!({"source": {"account_id": a.telegram_bot, "chat_id": TG_CHAT_A},
        "destinations": [{"account_id": a.discord_bot, "chat_id": a.channel_a}]}),
    )
    .await;
    // Discord a → Telegram A closes telegram A → discord a → telegram A.
    let res = create(
        &app,
        &s,
        &json!({"source": {"account_id": a.discord_bot, "chat_id": a.channel_a},
        "destinations": [{"account_id": a.telegram_bot2, "chat_id": TG_CHAT_A.to_string()}]}),
    )
    .await;
    assert_eq!(res.status(), 409);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["error"]["code"], "conflict");
    let expected = format!(
        "discord:{} → telegram:{TG_CHAT_A} → discord:{}",
        a.channel_a, a.channel_a
    );
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains(&expected), "{message}");
    assert_eq!(pairs_of(&app, &s).await.len(), 1, "nothing was stored");

    // A chain is no loop; changing it into one is refused and changes nothing.
    let chain = created(
        &app,
        &s,
        json!({"source": {"account_id": a.discord_bot, "chat_id": a.channel_a},
        "destinations": [{"account_id": a.telegram_bot2, "chat_id": TG_CHAT_B}]}),
    )
    .await;
    let path = format!("/api/v1/pairs/{}", chain["id"].as_str().expect("id"));
    let res = app
        .call(
            Method::PATCH,
            &path,
            &s.access,
            Some(&json!({"destinations": [{"account_id": a.telegram_bot2, "chat_id": TG_CHAT_A.to_string()}]})),
        )
        .await;
    assert_eq!(res.status(), 409);
    let unchanged: Value = app
        .get_as(&path, &s.access)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(unchanged["destinations"][0]["chat_id"], TG_CHAT_B);
}

#[tokio::test]
async fn dead_deliveries_show_as_failures_and_in_the_error_log() {
    let app = spawn_app().await;
    let s = app.signed_in("alice@example.com").await;
    let a = setup(&app, &s, "alice").await;
    let pair = created(
        &app,
        &s,
        json!({"source": {"account_id": a.telegram_bot, "chat_id": TG_CHAT_A},
               "destinations": [{"account_id": a.discord_bot, "chat_id": a.channel_a}]}),
    )
    .await;
    let id = pair["id"].as_str().expect("id");
    let db = app.db();
    let queued = db
        .insert_deliveries(&[relay_store::NewDelivery {
            owner_id: s.user_id.parse().expect("id"),
            pair_id: id.parse().expect("id"),
            destination_id: pair["destinations"][0]["id"]
                .as_str()
                .expect("id")
                .parse()
                .expect("id"),
            sender_account_id: a.discord_bot.parse().expect("id"),
            source_chat_id: TG_CHAT_A.to_string(),
            source_message_id: "42".into(),
            action: relay_store::DeliveryAction::Create,
            revision: 0,
            part: 0,
            priority: relay_core::Priority::Low,
            payload: json!({"text": "hello"}),
            source_at: chrono::Utc::now(),
            decision: relay_store::RowDecision::Send,
        }])
        .await
        .expect("insert");
    let delivery = queued[0].id;
    db.claim_delivery(delivery, 1, Duration::from_secs(30))
        .await
        .expect("claim")
        .expect("claimed");
    assert!(
        db.kill_delivery(delivery, 1, "discord_forbidden", "Missing Access")
            .await
            .expect("kill")
    );

    let failures: Value = app
        .get_as(&format!("/api/v1/pairs/{id}/failures"), &s.access)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(failures.as_array().expect("array").len(), 1);
    assert_eq!(failures[0]["id"], delivery);
    assert_eq!(failures[0]["source_message_id"], "42");
    assert_eq!(failures[0]["action"], "create");
    assert_eq!(failures[0]["attempts"], 1);
    assert_eq!(failures[0]["last_error"], "Missing Access");
    assert!(failures[0]["failed_at"].is_string());

    let errors: Value = app
        .get_as("/api/v1/errors", &s.access)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(errors.as_array().expect("array").len(), 1);
    assert_eq!(errors[0]["severity"], "error");
    assert_eq!(errors[0]["component"], "delivery");
    assert_eq!(errors[0]["code"], "discord_forbidden");
    assert_eq!(errors[0]["message"], "Missing Access");
    assert_eq!(errors[0]["pair_id"], id);
    assert_eq!(errors[0]["account_id"], a.discord_bot.as_str());
    assert_eq!(errors[0]["delivery_id"], delivery);

    for query in ["?limit=0", "?limit=501", "?limit=abc", "?limit=-1"] {
        let fields = field_errors(
            app.get_as(&format!("/api/v1/errors{query}"), &s.access)
                .await,
            query,
        )
        .await;
        assert!(fields["limit"].is_array(), "{query}");
        let fields = field_errors(
            app.get_as(&format!("/api/v1/pairs/{id}/failures{query}"), &s.access)
                .await,
            query,
        )
        .await;
        assert!(fields["limit"].is_array(), "{query}");
    }
    let limited = app.get_as("/api/v1/errors?limit=500", &s.access).await;
    assert_eq!(limited.status(), 200);

    // Bob sees none of it.
    let bob = app.signed_in("bob@example.com").await;
    let theirs: Value = app
        .get_as("/api/v1/errors", &bob.access)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(theirs, json!([]));
    assert_eq!(
        app.get_as(&format!("/api/v1/pairs/{id}/failures"), &bob.access)
            .await
            .status(),
        404
    );
}

#[tokio::test]
async fn the_openapi_document_describes_the_pair_routes() {
    let app = spawn_app().await;
    let spec: Value = app.get("/openapi.json").await.json().await.expect("json");
    let paths = &spec["paths"];
    for (path, method) in [
        ("/api/v1/pairs", "get"),
        ("/api/v1/pairs", "post"),
        ("/api/v1/pairs/{id}", "get"),
        ("/api/v1/pairs/{id}", "patch"),
        ("/api/v1/pairs/{id}", "delete"),
        ("/api/v1/pairs/{id}/pause", "post"),
        ("/api/v1/pairs/{id}/resume", "post"),
        ("/api/v1/pairs/{id}/failures", "get"),
        ("/api/v1/errors", "get"),
    ] {
        assert!(paths[path][method].is_object(), "{method} {path}");
    }
    assert!(paths["/api/v1/pairs"]["post"]["responses"]["403"].is_object());
}

#[tokio::test]
async fn a_loop_of_pairs_all_marked_as_bridges_is_allowed() {
    let app = spawn_app().await;
    let s = app.signed_in("alice@example.com").await;
    subscribe(&app, &s, "pro").await;
    let a = setup(&app, &s, "alice").await;
    let there = created(
        &app,
        &s,
        json!({"source": {"account_id": a.telegram_bot, "chat_id": TG_CHAT_A},
        "destinations": [{"account_id": a.discord_bot, "chat_id": a.channel_a}]}),
    )
    .await;
    assert_eq!(there["bridge"], false);
    assert_eq!(there["destinations"][0]["show_author"], true);
    let back = json!({"source": {"account_id": a.discord_bot, "chat_id": a.channel_a},
        "destinations": [{"account_id": a.telegram_bot2, "chat_id": TG_CHAT_A.to_string(),
                          "show_author": false}],
        "bridge": true});
    // Only the new pair is a bridge: the loop is still refused, naming it and the way out.
    let res = create(&app, &s, &back).await;
    assert_eq!(res.status(), 409);
    let body: Value = res.json().await.expect("json");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    let expected = format!(
        "discord:{} → telegram:{TG_CHAT_A} → discord:{}",
        a.channel_a, a.channel_a
    );
    assert!(message.contains(&expected), "{message}");
    assert!(message.contains("\"bridge\": true"), "{message}");

    // A flag that is not a boolean is a 422 naming it.
    let path = format!("/api/v1/pairs/{}", there["id"].as_str().expect("id"));
    let res = app
        .call(
            Method::PATCH,
            &path,
            &s.access,
            Some(&json!({"bridge": "yes"})),
        )
        .await;
    let fields = field_errors(res, "bridge: \"yes\"").await;
    assert_eq!(first_message(&fields, "bridge"), "must be true or false");
    let mut bad = back.clone();
    bad["destinations"][0]["show_author"] = json!(1);
    let res = create(&app, &s, &bad).await;
    let fields = field_errors(res, "show_author: 1").await;
    assert_eq!(
        first_message(&fields, "destinations[0].show_author"),
        "must be true or false"
    );

    // Both sides bridges: stored, and shown.
    let res = app
        .call(
            Method::PATCH,
            &path,
            &s.access,
            Some(&json!({"bridge": true})),
        )
        .await;
    assert_eq!(res.status(), 200);
    let back = created(&app, &s, back).await;
    assert_eq!(back["bridge"], true);
    assert_eq!(back["destinations"][0]["show_author"], false);
    let shown: Value = app
        .get_as(&path, &s.access)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(shown["bridge"], true);

    // Turning one side back into a plain pair would reopen the loop: refused, unchanged.
    let res = app
        .call(
            Method::PATCH,
            &path,
            &s.access,
            Some(&json!({"bridge": false})),
        )
        .await;
    assert_eq!(res.status(), 409);
    let shown: Value = app
        .get_as(&path, &s.access)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(shown["bridge"], true);
}

#[tokio::test]
async fn rules_are_checked_when_saved_and_held_against_the_plan() {
    let app = spawn_app().await;
    let s = app.signed_in("alice@example.com").await;
    let a = setup(&app, &s, "alice").await;
    let body = |rules: Value| {
        json!({"source": {"account_id": a.telegram_bot, "chat_id": TG_CHAT_A},
            "destinations": [{"account_id": a.webhook}], "rules": rules})
    };
    // Errors point into the JSON, all of them at once, and nothing is stored.
    let bad = body(json!({
        "filters": [{"type": "keywords", "words": ["ok"]}, {"type": "regex", "pattern": "("}],
        "transforms": [{"type": "header", "template": "{sender}"}],
        "time_zone": "Mars/Base"
    }));
    let res = create(&app, &s, &bad).await;
    let fields = field_errors(res, &bad.to_string()).await;
    let mut paths: Vec<&String> = fields.as_object().expect("fields").keys().collect();
    paths.sort();
    assert_eq!(
        paths,
        [
            "rules.filters[1].pattern",
            "rules.time_zone",
            "rules.transforms[0].template"
        ]
    );
    // Free has no filters: a 403 naming the feature and the plan that has it.
    let filtered = body(json!({"filters": [{"type": "keywords", "words": ["ok"]}]}));
    let res = create(&app, &s, &filtered).await;
    assert_eq!(res.status(), 403);
    let refused: Value = res.json().await.expect("json");
    assert_eq!(refused["error"]["code"], "plan_feature");
    assert_eq!(refused["error"]["feature"], "filters");
    assert_eq!(refused["error"]["upgrade_to"], "pro");
    // Pro has filters but not regular expressions.
    subscribe(&app, &s, "pro").await;
    let pair = created(&app, &s, filtered).await;
    assert_eq!(pair["rules"]["filters"][0]["words"], json!(["ok"]));
    let regex = json!({"rules": {"filters": [{"type": "regex", "pattern": "^ok"}]}});
    let path = format!("/api/v1/pairs/{}", pair["id"].as_str().expect("id"));
    let res = app
        .call(Method::PATCH, &path, &s.access, Some(&regex))
        .await;
    assert_eq!(res.status(), 403);
    let refused: Value = res.json().await.expect("json");
    assert_eq!(refused["error"]["feature"], "regex");
    assert_eq!(refused["error"]["upgrade_to"], "elite");
    let kept: Value = app
        .get_as(&path, &s.access)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        kept["rules"]["filters"][0]["type"], "keywords",
        "a refusal changes nothing"
    );
    // A destination's own rules, and a holding pause.
    let change = json!({"pause_mode": "hold", "destinations": [{"account_id": a.webhook,
        "rules": {"mode": "replace", "transforms": [{"type": "footer", "template": "{link}"}]}}]});
    let res = app
        .call(Method::PATCH, &path, &s.access, Some(&change))
        .await;
    assert_eq!(res.status(), 200);
    let changed: Value = res.json().await.expect("json");
    assert_eq!(changed["pause_mode"], "hold");
    assert_eq!(changed["destinations"][0]["rules"]["mode"], "replace");
    let bad_mode = json!({"pause_mode": "later"});
    let res = app
        .call(Method::PATCH, &path, &s.access, Some(&bad_mode))
        .await;
    assert_eq!(res.status(), 422);
}
