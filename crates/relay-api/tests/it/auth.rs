//! Registration, sign-in, refresh rotation with reuse detection, logout, password change,
//! token verification and brute-force limits, over HTTP.

use crate::helpers::*;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use relay_core::{UserId, UserStatus};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

async fn json(res: reqwest::Response) -> Value {
    res.json().await.expect("json body")
}

#[tokio::test]
async fn register_normalises_the_email_and_returns_the_user() {
    let app = spawn_app().await;
    let res = app.register("  Alice@Example.COM ", PASSWORD).await;
    assert_eq!(res.status(), 201);
    let user = json(res).await;
    assert_eq!(user["email"], "alice@example.com");
    assert_eq!(user["role"], "user");
    assert_eq!(user["status"], "active");
    assert!(user.get("password_hash").is_none() && !user.to_string().contains("argon2"));

    let res = app.register("alice@example.com", PASSWORD).await;
    assert_eq!(res.status(), 409);
    let body = json(res).await;
    assert_eq!(body["error"]["code"], "conflict");
    assert_eq!(body["error"]["fields"]["email"][0], "is already taken");
}

#[tokio::test]
async fn the_public_api_never_makes_an_admin() {
    let app = spawn_app().await;
    let res = app
        .post_json(
            "/api/v1/auth/register",
            &json!({"email": "eve@example.com", "password": PASSWORD, "role": "admin"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    assert_eq!(json(res).await["role"], "user");
}

#[tokio::test]
async fn bad_registrations_get_field_errors_and_change_nothing() {
    let app = spawn_app().await;
    let cases = [
        (
            json!({"email": "bob@example.com", "password": "short"}),
            "password",
            "must be at least 10 characters",
        ),
        (
            json!({"email": "bob.builder@example.com", "password": "Bob.Builder@example.com"}),
            "password",
            "must not be your email address",
        ),
        (
            json!({"email": "not-an-email", "password": PASSWORD}),
            "email",
            "must be an email address like name@example.com",
        ),
        (json!({"password": PASSWORD}), "email", "is required"),
        (
            json!({"email": "bob@example.com"}),
            "password",
            "is required",
        ),
    ];
    for (body, field, message) in cases {
        let res = app.post_json("/api/v1/auth/register", &body).await;
        assert_eq!(res.status(), 422, "{body}");
        let err = json(res).await;
        assert_eq!(err["error"]["code"], "validation_failed");
        assert_eq!(err["error"]["fields"][field][0], message, "{err}");
    }
    let res = app
        .post_json(
            "/api/v1/auth/register",
            &json!({"email": 5, "password": []}),
        )
        .await;
    assert_eq!(res.status(), 422, "wrong JSON types are a 422 too");
    let res = app
        .client
        .post(app.url("/api/v1/auth/register"))
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), 400);
    // None of these created a user: the address is still free.
    assert_eq!(
        app.register("bob@example.com", PASSWORD).await.status(),
        201
    );
}

#[tokio::test]
async fn login_returns_a_bearer_pair_that_opens_me() {
    let app = spawn_app().await;
    app.register("carol@example.com", PASSWORD).await;
    let res = app.login(" CAROL@example.com", PASSWORD).await;
    assert_eq!(res.status(), 200);
    let tokens = json(res).await;
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 900);
    let access = tokens["access_token"].as_str().expect("access");
    let res = app.get_as("/api/v1/me", access).await;
    assert_eq!(res.status(), 200);
    assert_eq!(json(res).await["email"], "carol@example.com");
}

#[tokio::test]
async fn wrong_email_and_wrong_password_look_and_take_the_same() {
    let app = spawn_app().await;
    app.register("dave@example.com", PASSWORD).await;
    let mut wrong_password = Duration::MAX;
    let mut unknown_email = Duration::MAX;
    let mut bodies = Vec::new();
    for i in 0..3 {
        let started = Instant::now();
        let res = app
            .login("dave@example.com", &format!("wrong password {i}"))
            .await;
        wrong_password = wrong_password.min(started.elapsed());
        assert_eq!(res.status(), 401);
        bodies.push(json(res).await);
        let started = Instant::now();
        let res = app
            .login(&format!("nobody{i}@example.com"), "wrong password")
            .await;
        unknown_email = unknown_email.min(started.elapsed());
        assert_eq!(res.status(), 401);
        bodies.push(json(res).await);
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "{bodies:?}");
    assert_eq!(bodies[0]["error"]["message"], "wrong email or password");
    // An unknown email still pays for a full argon2 check (the dummy hash): without it,
    // it would answer in a few milliseconds instead of tens.
    assert!(
        unknown_email * 3 > wrong_password,
        "unknown {unknown_email:?} vs wrong {wrong_password:?}"
    );
}

#[tokio::test]
async fn a_banned_user_gets_403_on_login_refresh_and_every_request() {
    let app = spawn_app().await;
    let s = app.signed_in("erin@example.com").await;
    let id: UserId = s.user_id.parse().expect("id");
    app.db()
        .set_user_status(id, UserStatus::Banned)
        .await
        .expect("ban");
    assert_eq!(app.login(&s.email, PASSWORD).await.status(), 403);
    assert_eq!(app.refresh(&s.refresh).await.status(), 403);
    let res = app.get_as("/api/v1/me", &s.access).await;
    assert_eq!(res.status(), 403);
    assert_eq!(json(res).await["error"]["code"], "forbidden");
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_whole_family() {
    let app = spawn_app().await;
    let s = app.signed_in("frank@example.com").await;
    let res = app.refresh(&s.refresh).await;
    assert_eq!(res.status(), 200);
    let second = json(res).await;
    let newest_refresh = second["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_owned();
    let newest_access = second["access_token"].as_str().expect("access").to_owned();
    assert_ne!(newest_refresh, s.refresh);
    assert_eq!(app.get_as("/api/v1/me", &newest_access).await.status(), 200);

    // The first token again: it leaked. The family ends, the newest token included.
    let res = app.refresh(&s.refresh).await;
    assert_eq!(res.status(), 401);
    assert!(
        json(res).await["error"]["message"]
            .as_str()
            .expect("msg")
            .contains("already used")
    );
    assert_eq!(app.refresh(&newest_refresh).await.status(), 401);
    assert_eq!(
        app.get_as("/api/v1/me", &newest_access).await.status(),
        401,
        "its access tokens too"
    );

    assert_eq!(app.refresh("rt_made-up").await.status(), 401);
    assert_eq!(
        app.post_json("/api/v1/auth/refresh", &json!({}))
            .await
            .status(),
        422
    );
}

#[tokio::test]
async fn logout_ends_the_session_by_access_token_or_refresh_token() {
    let app = spawn_app().await;
    let s = app.signed_in("grace@example.com").await;
    let other = app.sign_in(&s.email, &s.user_id).await;

    let res = app
        .call(
            reqwest::Method::POST,
            "/api/v1/auth/logout",
            &s.access,
            None,
        )
        .await;
    assert_eq!(res.status(), 204);
    assert_eq!(app.refresh(&s.refresh).await.status(), 401);
    assert_eq!(app.get_as("/api/v1/me", &s.access).await.status(), 401);
    assert_eq!(
        app.get_as("/api/v1/me", &other.access).await.status(),
        200,
        "other sessions go on"
    );

    let res = app
        .post_json(
            "/api/v1/auth/logout",
            &json!({"refresh_token": other.refresh}),
        )
        .await;
    assert_eq!(res.status(), 204);
    assert_eq!(app.get_as("/api/v1/me", &other.access).await.status(), 401);
    assert_eq!(
        app.post_json("/api/v1/auth/logout", &json!({}))
            .await
            .status(),
        401
    );
}

#[tokio::test]
async fn changing_the_password_rechecks_it_and_ends_other_sessions() {
    let app = spawn_app().await;
    let s = app.signed_in("heidi@example.com").await;
    let other = app.sign_in(&s.email, &s.user_id).await;
    let change =
        |current: &str, new: &str| json!({"current_password": current, "new_password": new});
    let post = |body: Value| {
        let app = &app;
        let token = s.access.clone();
        async move {
            app.call(
                reqwest::Method::POST,
                "/api/v1/me/password",
                &token,
                Some(&body),
            )
            .await
        }
    };

    let res = post(change("not my password", "a brand new password")).await;
    assert_eq!(res.status(), 422);
    assert_eq!(
        json(res).await["error"]["fields"]["current_password"][0],
        "is incorrect"
    );
    let res = post(change(PASSWORD, "short")).await;
    assert_eq!(res.status(), 422);
    assert_eq!(
        json(res).await["error"]["fields"]["new_password"][0],
        "must be at least 10 characters"
    );
    assert_eq!(post(change(PASSWORD, PASSWORD)).await.status(), 422);

    assert_eq!(
        post(change(PASSWORD, "a brand new password"))
            .await
            .status(),
        204
    );
    assert_eq!(
        app.refresh(&other.refresh).await.status(),
        401,
        "other sessions end"
    );
    assert_eq!(app.get_as("/api/v1/me", &other.access).await.status(), 401);
    assert_eq!(
        app.get_as("/api/v1/me", &s.access).await.status(),
        200,
        "this one goes on"
    );
    assert_eq!(app.refresh(&s.refresh).await.status(), 200);
    assert_eq!(app.login(&s.email, PASSWORD).await.status(), 401);
    assert_eq!(
        app.login(&s.email, "a brand new password").await.status(),
        200
    );
}

fn claims(sub: &str, exp_offset: i64, aud: &str) -> Value {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("time")
        .as_secs() as i64;
    json!({"iss": "relay", "aud": aud, "sub": sub, "exp": now + exp_offset, "iat": now,
           "jti": uuid::Uuid::new_v4(), "role": "admin", "fid": uuid::Uuid::new_v4()})
}

#[tokio::test]
async fn forged_expired_and_foreign_tokens_get_401_json() {
    let app = spawn_app().await;
    let s = app.signed_in("ivan@example.com").await;
    let key = EncodingKey::from_secret(TEST_JWT_SECRET.as_bytes());
    let sign = |alg: Algorithm, claims: &Value| {
        jsonwebtoken::encode(&Header::new(alg), claims, &key).expect("sign")
    };
    let body = URL_SAFE_NO_PAD.encode(claims(&s.user_id, 600, "relay-api").to_string());
    let mut tampered = s.access.clone();
    let last = tampered.pop().expect("char");
    tampered.push(if last == 'A' { 'B' } else { 'A' });

    let tokens = [
        (
            "alg none",
            format!(
                "{}.{body}.",
                URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#)
            ),
        ),
        (
            "HS512",
            sign(Algorithm::HS512, &claims(&s.user_id, 600, "relay-api")),
        ),
        ("bad signature", tampered),
        (
            "other secret",
            jsonwebtoken::encode(
                &Header::default(),
                &claims(&s.user_id, 600, "relay-api"),
                &EncodingKey::from_secret(b"some-other-secret-some-other-secret"),
            )
            .expect("sign"),
        ),
        (
            "expired",
            sign(Algorithm::HS256, &claims(&s.user_id, -120, "relay-api")),
        ),
        (
            "wrong audience",
            sign(Algorithm::HS256, &claims(&s.user_id, 600, "another-api")),
        ),
        ("garbage", "not.a.token".to_owned()),
    ];
    for (what, token) in tokens {
        let res = app.get_as("/api/v1/me", &token).await;
        assert_eq!(res.status(), 401, "{what}");
        assert!(res.headers().get("www-authenticate").is_some(), "{what}");
        assert_eq!(json(res).await["error"]["code"], "unauthorized", "{what}");
    }
    let res = app.get("/api/v1/me").await;
    assert_eq!(res.status(), 401);
    assert_eq!(
        json(res).await["error"]["message"],
        "a bearer access token is required"
    );
}

#[tokio::test]
async fn repeated_failures_lock_the_account_for_a_while_even_with_the_right_password() {
    let app = spawn_app().await;
    app.register("judy@example.com", PASSWORD).await;
    for _ in 0..5 {
        assert_eq!(
            app.login("judy@example.com", "wrong password!")
                .await
                .status(),
            401
        );
    }
    let res = app.login("judy@example.com", PASSWORD).await;
    assert_eq!(res.status(), 429);
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=900).contains(&retry), "{retry}");
    assert_eq!(json(res).await["error"]["code"], "rate_limited");
    // Another account from the same address is not affected.
    app.register("kim@example.com", PASSWORD).await;
    assert_eq!(app.login("kim@example.com", PASSWORD).await.status(), 200);
}

#[tokio::test]
async fn one_address_is_limited_across_accounts() {
    let mut config = test_config();
    config.auth.login_per_ip = relay_queue::LimitRule {
        max: 3,
        window: Duration::from_secs(60),
    };
    let app = spawn_configured(test_database().await, test_redis(), config).await;
    for i in 0..3 {
        assert_eq!(
            app.login(&format!("u{i}@example.com"), "whatever pass")
                .await
                .status(),
            401
        );
    }
    let res = app.login("u9@example.com", "whatever pass").await;
    assert_eq!(res.status(), 429);
    assert!(res.headers().get("retry-after").is_some());
}

#[tokio::test]
async fn another_node_sees_a_logout_within_the_session_cache_time() {
    let db = test_database().await;
    let mut config = test_config();
    config.auth.session_cache_ttl = Duration::from_millis(300);
    let node_a = spawn_configured(db.clone(), test_redis(), config.clone()).await;
    let node_b = spawn_configured(db, test_redis(), config).await;
    let s = node_a.signed_in("lena@example.com").await;
    assert_eq!(
        node_b.get_as("/api/v1/me", &s.access).await.status(),
        200,
        "node B caches the session"
    );

    let res = node_a
        .call(
            reqwest::Method::POST,
            "/api/v1/auth/logout",
            &s.access,
            None,
        )
        .await;
    assert_eq!(res.status(), 204);
    assert_eq!(
        node_a.get_as("/api/v1/me", &s.access).await.status(),
        401,
        "at once on the node that ended it"
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        node_b.get_as("/api/v1/me", &s.access).await.status(),
        401,
        "within the cache time elsewhere"
    );
}

#[tokio::test]
async fn parallel_guesses_cannot_slip_under_the_account_limit() {
    let app = spawn_app().await;
    app.register("mallory-target@example.com", PASSWORD).await;
    let passwords: Vec<String> = (0..12).map(|i| format!("guess number {i}")).collect();
    let guesses = passwords
        .iter()
        .map(|p| app.login("mallory-target@example.com", p));
    let statuses: Vec<u16> = futures_util::future::join_all(guesses)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    let checked = statuses.iter().filter(|s| **s == 401).count();
    assert!(
        checked <= 5,
        "at most the limit's 5 attempts reach the password check: {statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        12 - checked,
        "{statuses:?}"
    );
}

#[tokio::test]
async fn sign_ups_are_limited_per_address() {
    let mut config = test_config();
    config.auth.login_per_ip = relay_queue::LimitRule {
        max: 2,
        window: Duration::from_secs(60),
    };
    let app = spawn_configured(test_database().await, test_redis(), config).await;
    assert_eq!(app.register("a1@example.com", PASSWORD).await.status(), 201);
    assert_eq!(app.register("a2@example.com", PASSWORD).await.status(), 201);
    let res = app.register("a3@example.com", PASSWORD).await;
    assert_eq!(res.status(), 429);
    assert!(res.headers().get("retry-after").is_some());
}

async fn login_from(app: &TestApp, forwarded_for: &str) -> u16 {
    app.client
        .post(app.url("/api/v1/auth/login"))
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({"email": "nobody@example.com", "password": "whatever pass"}))
        .send()
        .await
        .expect("send")
        .status()
        .as_u16()
}

#[tokio::test]
async fn behind_a_trusted_proxy_clients_are_counted_by_x_forwarded_for() {
    let mut config = test_config();
    config.auth.login_per_ip = relay_queue::LimitRule {
        max: 1,
        window: Duration::from_secs(60),
    };
    config.auth.login_per_account = relay_queue::LimitRule {
        max: 100,
        window: Duration::from_secs(60),
    };
    config.trusted_proxies = vec!["127.0.0.1/32".parse().expect("net")];
    let app = spawn_configured(test_database().await, test_redis(), config.clone()).await;
    assert_eq!(login_from(&app, "203.0.113.1").await, 401);
    assert_eq!(
        login_from(&app, "203.0.113.2").await,
        401,
        "another client behind the same proxy"
    );
    assert_eq!(login_from(&app, "203.0.113.1").await, 429);

    // Without trust, the header is the client's own word and is ignored.
    config.trusted_proxies = Vec::new();
    let app = spawn_configured(test_database().await, test_redis(), config).await;
    assert_eq!(login_from(&app, "203.0.113.1").await, 401);
    assert_eq!(
        login_from(&app, "203.0.113.2").await,
        429,
        "both came from 127.0.0.1"
    );
}

#[tokio::test]
async fn wrong_passwords_from_one_address_do_not_lock_the_owner_out_from_another() {
    let mut config = test_config();
    config.auth.login_per_account = relay_queue::LimitRule {
        max: 3,
        window: Duration::from_secs(60),
    };
    config.auth.login_per_ip = relay_queue::LimitRule {
        max: 100,
        window: Duration::from_secs(60),
    };
    config.trusted_proxies = vec!["127.0.0.1/32".parse().expect("net")];
    let app = spawn_configured(test_database().await, test_redis(), config).await;
    assert_eq!(
        app.register("owner@example.com", PASSWORD).await.status(),
        201
    );
    let login = |from: &'static str, password: &'static str| {
        let app = &app;
        async move {
            app.client
                .post(app.url("/api/v1/auth/login"))
                .header("x-forwarded-for", from)
                .json(&json!({"email": "owner@example.com", "password": password}))
                .send()
                .await
                .expect("send")
                .status()
                .as_u16()
        }
    };
    for _ in 0..3 {
        assert_eq!(login("198.51.100.66", "wrong guess 123").await, 401);
    }
    assert_eq!(
        login("198.51.100.66", "wrong guess 123").await,
        429,
        "the guesser is held back"
    );
    assert_eq!(
        login("203.0.113.7", PASSWORD).await,
        200,
        "the owner signs in from elsewhere"
    );
}
