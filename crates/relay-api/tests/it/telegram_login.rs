//! Connecting Telegram user accounts through the API, against the fake MTProto DC with the
//! unmodified grammers client: with and without two-step verification, across API nodes,
//! and every way a step can be refused.

use crate::helpers::*;
use relay_fakes::telegram_dc::DEFAULT_KEY_HALF_HEX;
use reqwest::Method;
use serde_json::{Value, json};

async fn post(
    app: &TestApp,
    who: &Session,
    path: &str,
    body: Value,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let res = app.call(Method::POST, path, &who.access, Some(&body)).await;
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let body = res.json().await.unwrap_or(Value::Null);
    (status, body, headers)
}

async fn start_login(app: &TestApp, who: &Session, phone: &str) -> String {
    let (status, body, _) = post(
        app,
        who,
        "/api/v1/accounts/telegram/login",
        json!({"phone": phone}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["next"], "code");
    body["login_id"].as_str().expect("login id").to_owned()
}

fn code_path(login: &str) -> String {
    format!("/api/v1/accounts/telegram/login/{login}/code")
}

fn password_path(login: &str) -> String {
    format!("/api/v1/accounts/telegram/login/{login}/password")
}

#[tokio::test]
async fn a_user_without_two_step_verification_connects_with_the_code() {
    let app = spawn_app().await;
    let alice = app.signed_in("alice@example.com").await;
    let telegram_id = app.dc().add_user("+15550100", "Alice Liddell", None);

    let login = start_login(&app, &alice, "+1 555-0100").await;
    let code = app.dc().last_code("+15550100").expect("code sent");
    let (status, account, _) = post(&app, &alice, &code_path(&login), json!({"code": code})).await;
    assert_eq!(status, 201, "{account}");
    assert_eq!(account["kind"], "telegram_user");
    assert_eq!(account["external_id"], telegram_id.to_string());
    assert_eq!(account["display_name"], "Alice Liddell");

    let listed: Value = app
        .get_as("/api/v1/accounts", &alice.access)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(listed.as_array().expect("list").len(), 1);

    // The session is stored sealed: the device key (whose first half is public here) is in
    // no column in clear, hex or raw.
    let key_half = hex_bytes(DEFAULT_KEY_HALF_HEX);
    let rows: Vec<(Vec<u8>,)> = sqlx::query_as("SELECT data_ciphertext FROM telegram_sessions")
        .fetch_all(app.db().pool())
        .await
        .expect("rows");
    assert_eq!(rows.len(), 1);
    let stored = &rows[0].0;
    assert!(!stored.windows(16).any(|w| w == &key_half[..16]));
    assert!(!String::from_utf8_lossy(stored).contains(&DEFAULT_KEY_HALF_HEX[..32]));
    let (logins,): (Vec<u8>,) = sqlx::query_as("SELECT state_ciphertext FROM telegram_logins")
        .fetch_one(app.db().pool())
        .await
        .expect("login row");
    assert!(logins.is_empty(), "a finished login keeps no key");

    // Disconnecting the account ends Relay's session at Telegram too.
    let res = app
        .call(
            Method::DELETE,
            &format!("/api/v1/accounts/{}", account["id"].as_str().expect("id")),
            &alice.access,
            None,
        )
        .await;
    assert_eq!(res.status(), 204);
    assert!(
        app.dc().calls().iter().any(|c| c == "auth.logOut"),
        "{:?}",
        app.dc().calls()
    );
    let (sessions,): (i64,) = sqlx::query_as("SELECT count(*) FROM telegram_sessions")
        .fetch_one(app.db().pool())
        .await
        .expect("count");
    assert_eq!(sessions, 0);

    // The login is over: its code cannot be used again.
    let (status, body, _) = post(&app, &alice, &code_path(&login), json!({"code": "12345"})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("login_step_mismatch"))
    );
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(&hex[i * 2..i * 2 + 2], 16).expect("hex"))
        .collect()
}

#[tokio::test]
async fn two_step_verification_across_two_api_nodes() {
    let first = spawn_app().await;
    let second = spawn_sharing_dc(
        first.db().clone(),
        test_redis(),
        test_config(),
        first.telegram_dc.clone().expect("dc"),
    )
    .await;
    let alice = first.signed_in("alice@example.com").await;
    first
        .dc()
        .add_user("+447700900123", "Alice", Some("correct password"));

    // Node one asks for the code, node two takes it, each node serves one password attempt.
    let login = start_login(&first, &alice, "+44 7700 900123").await;
    let code = first.dc().last_code("+447700900123").expect("code");
    let (status, body, _) = post(&second, &alice, &code_path(&login), json!({"code": code})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["next"], "password");
    assert_eq!(body["login_id"], login.as_str());

    let (status, body, _) = post(
        &first,
        &alice,
        &password_path(&login),
        json!({"password": "wrong"}),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("password_invalid")),
        "{body}"
    );
    let (status, account, _) = post(
        &second,
        &alice,
        &password_path(&login),
        json!({"password": "correct password"}),
    )
    .await;
    assert_eq!(status, 201, "{account}");
    assert_eq!(account["kind"], "telegram_user");

    // Signing in again later replaces the session of the same account.
    let login = start_login(&second, &alice, "+447700900123").await;
    let code = first.dc().last_code("+447700900123").expect("code");
    let (status, body, _) = post(&first, &alice, &code_path(&login), json!({"code": code})).await;
    assert_eq!(status, 200, "{body}");
    let (status, again, _) = post(
        &first,
        &alice,
        &password_path(&login),
        json!({"password": "correct password"}),
    )
    .await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["id"], account["id"]);
}

#[tokio::test]
async fn each_refusal_has_its_own_answer() {
    let app = spawn_app().await;
    let alice = app.signed_in("alice@example.com").await;
    let bob = app.signed_in("bob@example.com").await;
    app.dc().add_user("+15550100", "Alice", None);
    let code_of = |app: &TestApp| app.dc().last_code("+15550100").expect("code");

    // A malformed number never reaches Telegram; one Telegram refuses is told apart.
    let (status, body, _) = post(
        &app,
        &alice,
        "/api/v1/accounts/telegram/login",
        json!({"phone": "call me"}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"]["fields"]["phone"].is_array());
    app.dc()
        .force_error("auth.sendCode", 400, "PHONE_NUMBER_INVALID", 1);
    let (status, body, _) = post(
        &app,
        &alice,
        "/api/v1/accounts/telegram/login",
        json!({"phone": "+15550100"}),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("phone_invalid")),
        "{body}"
    );

    // FLOOD_WAIT: a 429 with Telegram's wait, at once (no sleeping inside the request).
    app.dc()
        .force_error("auth.sendCode", 420, "FLOOD_WAIT_300", 1);
    let started = std::time::Instant::now();
    let (status, body, headers) = post(
        &app,
        &alice,
        "/api/v1/accounts/telegram/login",
        json!({"phone": "+15550100"}),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (429, Some("flood_wait")),
        "{body}"
    );
    assert_eq!(headers["retry-after"], "300");
    assert!(started.elapsed() < std::time::Duration::from_secs(30));

    // A wrong code, then a step out of order, then another user's login, then the right code.
    let login = start_login(&app, &alice, "+15550100").await;
    let (status, body, _) = post(&app, &alice, &code_path(&login), json!({"code": "00000"})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("code_invalid")),
        "{body}"
    );
    let (status, body, _) = post(
        &app,
        &alice,
        &password_path(&login),
        json!({"password": "x"}),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("login_step_mismatch")),
        "{body}"
    );
    let (status, _, _) = post(
        &app,
        &bob,
        &code_path(&login),
        json!({"code": code_of(&app)}),
    )
    .await;
    assert_eq!(status, 404, "another user's login is not found");
    let (status, body, _) = post(
        &app,
        &alice,
        &code_path(&login),
        json!({"code": code_of(&app)}),
    )
    .await;
    assert_eq!(status, 201, "{body}");

    // An expired code ends the login with 410; it cannot be continued.
    let login = start_login(&app, &alice, "+15550100").await;
    let code = code_of(&app);
    app.dc().expire_codes();
    let (status, body, _) = post(&app, &alice, &code_path(&login), json!({"code": code})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (410, Some("code_expired")),
        "{body}"
    );
    let (status, _, _) = post(&app, &alice, &code_path(&login), json!({"code": code})).await;
    assert_eq!(status, 409);

    // A number with no Telegram account.
    let login = start_login(&app, &alice, "+15550199").await;
    let code = app.dc().last_code("+15550199").expect("code");
    let (status, body, _) = post(&app, &alice, &code_path(&login), json!({"code": code})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("phone_not_registered")),
        "{body}"
    );

    // Five wrong codes give the login up.
    let login = start_login(&app, &alice, "+15550100").await;
    for _ in 0..4 {
        let (status, _, _) = post(&app, &alice, &code_path(&login), json!({"code": "00000"})).await;
        assert_eq!(status, 400);
    }
    let (status, body, _) = post(&app, &alice, &code_path(&login), json!({"code": "00000"})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (429, Some("too_many_attempts")),
        "{body}"
    );
    let (status, _, _) = post(
        &app,
        &alice,
        &code_path(&login),
        json!({"code": code_of(&app)}),
    )
    .await;
    assert_eq!(status, 409);
    let (status, _, _) = post(
        &app,
        &alice,
        &code_path("not-a-login"),
        json!({"code": "1"}),
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn without_api_credentials_the_login_says_what_is_missing() {
    // Declared before the app, so they outlive it.
    let (db, redis) = (test_database().await, test_redis());
    let app = spawn_router(relay_api::router(relay_api::AppState::new(
        db.database().clone(),
        redis.conn.clone(),
        test_config(),
        relay_store::crypto::Keyring::development(),
    )))
    .await;
    let alice = app.signed_in("alice@example.com").await;
    let (status, body, _) = post(
        &app,
        &alice,
        "/api/v1/accounts/telegram/login",
        json!({"phone": "+15550100"}),
    )
    .await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "telegram_users_disabled");
    assert!(
        body["error"]["message"]
            .as_str()
            .expect("message")
            .contains("RELAY_TELEGRAM_API_ID")
    );
}

#[tokio::test]
async fn a_phone_gets_at_most_five_codes_an_hour_whoever_asks() {
    let app = spawn_app().await;
    let alice = app.signed_in("alice@example.com").await;
    let mallory = app.signed_in("mallory@example.com").await;
    app.dc().add_user("+15550100", "Alice Liddell", None);
    for who in [&alice, &mallory, &alice, &mallory, &alice] {
        start_login(&app, who, "+15550100").await;
    }
    let (status, body, headers) = post(
        &app,
        &mallory,
        "/api/v1/accounts/telegram/login",
        json!({"phone": "+1 555 0100"}),
    )
    .await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"]["code"], "rate_limited");
    assert!(headers.contains_key("retry-after"));
    // Another number is not held back by it.
    app.dc().add_user("+15550111", "Bob", None);
    start_login(&app, &mallory, "+15550111").await;
}
