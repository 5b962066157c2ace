//! Connecting Discord bots and webhooks through the API, against the fake Discord.

use crate::helpers::*;
use reqwest::Method;
use serde_json::{Value, json};

async fn add(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    app.call(Method::POST, "/api/v1/accounts/discord", token, Some(&body))
        .await
}

#[tokio::test]
async fn a_bot_is_validated_stored_sealed_and_listed_with_its_channels() {
    let app = spawn_app().await;
    let s = app.signed_in("alice@example.com").await;
    let discord = &app.discord.as_ref().expect("fake").fake;
    let bot = discord.add_bot("secret-bot-token", "forwarder");
    let guild = discord.add_guild("Guild", &[bot]);
    let general = discord.add_channel(guild, "general");
    let news = discord.add_channel(guild, "news");

    let res = add(
        &app,
        &s.access,
        json!({"kind": "bot", "token": "secret-bot-token"}),
    )
    .await;
    assert_eq!(res.status(), 201);
    let text = res.text().await.expect("body");
    assert!(
        !text.contains("secret-bot-token"),
        "the token is never returned: {text}"
    );
    let account: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(account["kind"], "discord_bot");
    assert_eq!(account["display_name"], "forwarder");
    assert_eq!(account["external_id"], bot.to_string());
    assert_eq!(account["state"], "connected");
    let id = account["id"].as_str().expect("id").to_owned();

    let raw: Vec<u8> =
        sqlx::query_scalar("SELECT secret_ciphertext FROM platform_accounts WHERE id = $1::uuid")
            .bind(&id)
            .fetch_one(app.db().pool())
            .await
            .expect("row");
    assert!(
        !raw.windows(16).any(|w| w == b"secret-bot-token"),
        "sealed at rest"
    );

    let list: Value = app
        .get_as("/api/v1/accounts", &s.access)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(list.as_array().expect("array").len(), 1);
    let one = app
        .get_as(&format!("/api/v1/accounts/{id}"), &s.access)
        .await;
    assert_eq!(one.status(), 200);
    let chats: Value = app
        .get_as(&format!("/api/v1/accounts/{id}/chats"), &s.access)
        .await
        .json()
        .await
        .expect("json");
    let names: Vec<&str> = chats
        .as_array()
        .expect("array")
        .iter()
        .map(|c| c["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, vec!["general", "news"]);
    assert_eq!(chats[0]["id"], general.to_string());
    assert_eq!(chats[1]["id"], news.to_string());
    assert_eq!(chats[0]["guild_name"], "Guild");

    let again = add(
        &app,
        &s.access,
        json!({"kind": "bot", "token": "secret-bot-token"}),
    )
    .await;
    assert_eq!(again.status(), 409);

    assert_eq!(
        app.call(
            Method::DELETE,
            &format!("/api/v1/accounts/{id}"),
            &s.access,
            None
        )
        .await
        .status(),
        204
    );
    assert_eq!(
        app.get_as(&format!("/api/v1/accounts/{id}"), &s.access)
            .await
            .status(),
        404
    );
}

#[tokio::test]
async fn an_invalid_token_is_a_422_with_a_clear_message() {
    let app = spawn_app().await;
    let s = app.signed_in("bob@example.com").await;
    let res = add(&app, &s.access, json!({"kind": "bot", "token": "made-up"})).await;
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.expect("json");
    assert_eq!(
        body["error"]["fields"]["token"][0],
        "Discord did not accept this bot token"
    );
    assert!(
        app.db()
            .accounts(s.user_id.parse().expect("id"))
            .await
            .expect("list")
            .is_empty(),
        "nothing stored"
    );
}

#[tokio::test]
async fn webhooks_must_be_discord_urls_and_are_checked() {
    let app = spawn_app().await;
    let s = app.signed_in("carol@example.com").await;
    let discord = &app.discord.as_ref().expect("fake").fake;
    let bot = discord.add_bot("t", "b");
    let guild = discord.add_guild("G", &[bot]);
    let channel = discord.add_channel(guild, "c");
    let (id, token) = discord.add_webhook(channel, "announcements hook");

    let good = format!("https://discord.com/api/webhooks/{id}/{token}");
    let res = add(&app, &s.access, json!({"kind": "webhook", "url": good})).await;
    assert_eq!(res.status(), 201);
    let text = res.text().await.expect("body");
    assert!(!text.contains(&token), "{text}");
    let account: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(account["kind"], "discord_webhook");
    assert_eq!(account["display_name"], "announcements hook");
    let chats: Value = app
        .get_as(
            &format!(
                "/api/v1/accounts/{}/chats",
                account["id"].as_str().expect("id")
            ),
            &s.access,
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(chats[0]["id"], channel.to_string());

    for (url, expect) in [
        (
            format!("https://evil.example/api/webhooks/{id}/{token}"),
            "is not Discord",
        ),
        (
            format!("http://discord.com/api/webhooks/{id}/{token}"),
            "https://",
        ),
        (
            format!(
                "https://127.0.0.1:{}/api/webhooks/{id}/{token}",
                app.addr.port()
            ),
            "is not Discord",
        ),
        (
            "https://discord.com/api/webhooks/123/unknown".to_owned(),
            "Discord does not know this webhook",
        ),
        ("not a url".to_owned(), "https://"),
    ] {
        let res = add(&app, &s.access, json!({"kind": "webhook", "url": url})).await;
        assert_eq!(res.status(), 422, "{url}");
        let body: Value = res.json().await.expect("json");
        let message = body["error"]["fields"]["url"][0]
            .as_str()
            .expect("url error");
        assert!(message.contains(expect), "{url}: {message}");
    }
}

#[tokio::test]
async fn malformed_requests_get_field_errors() {
    let app = spawn_app().await;
    let s = app.signed_in("dan@example.com").await;
    for (body, field) in [
        (json!({}), "kind"),
        (json!({"kind": "pigeon"}), "kind"),
        (json!({"kind": "bot"}), "token"),
        (json!({"kind": "bot", "token": "has spaces in it"}), "token"),
        (json!({"kind": "webhook"}), "url"),
    ] {
        let res = add(&app, &s.access, body.clone()).await;
        assert_eq!(res.status(), 422, "{body}");
        let err: Value = res.json().await.expect("json");
        assert!(err["error"]["fields"][field].is_array(), "{body}: {err}");
    }
    assert_eq!(
        app.get_as("/api/v1/accounts/not-a-uuid", &s.access)
            .await
            .status(),
        404
    );
}

#[tokio::test]
async fn a_telegram_bot_is_checked_with_get_me_and_stored_sealed() {
    let app = spawn_app().await;
    let s = app.signed_in("erin@example.com").await;
    let telegram = &app.telegram.as_ref().expect("fake").fake;
    let bot_id = telegram.add_bot("4242:relay-bot-secret", "relay_test_bot");
    let add = |body: Value| {
        let app = &app;
        let token = s.access.clone();
        async move {
            app.call(
                Method::POST,
                "/api/v1/accounts/telegram",
                &token,
                Some(&body),
            )
            .await
        }
    };
    let res = add(json!({"kind": "bot", "token": "4242:relay-bot-secret"})).await;
    assert_eq!(res.status(), 201);
    let text = res.text().await.expect("body");
    assert!(!text.contains("relay-bot-secret"), "{text}");
    let account: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(account["kind"], "telegram_bot");
    assert_eq!(account["display_name"], "relay_test_bot");
    assert_eq!(account["external_id"], bot_id.to_string());
    assert_eq!(
        add(json!({"kind": "bot", "token": "4242:relay-bot-secret"}))
            .await
            .status(),
        409
    );

    for (body, field, expect) in [
        (
            json!({"kind": "bot", "token": "4242:not-the-token"}),
            "token",
            "Telegram did not accept this bot token",
        ),
        (
            json!({"kind": "bot", "token": "no colon here"}),
            "token",
            "is not a Telegram bot token",
        ),
        (json!({"kind": "bot"}), "token", "is required"),
        (json!({"kind": "user"}), "kind", "login flow"),
        (json!({"kind": "pigeon"}), "kind", "must be bot"),
    ] {
        let res = add(body.clone()).await;
        assert_eq!(res.status(), 422, "{body}");
        let err: Value = res.json().await.expect("json");
        let message = err["error"]["fields"][field][0]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(message.contains(expect), "{body}: {err}");
    }
}
