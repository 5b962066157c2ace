//! The tenancy matrix: every route that reads or changes a user's data, tried without a
//! token (401) and with another user's token and ids (404 for objects, the caller's own
//! data for `/me` routes). Each new user-owned route joins `ROUTES`.

use crate::helpers::*;
use reqwest::Method;
use serde_json::{Value, json};

/// Where a route's object ids come from.
#[derive(Clone, Copy, Debug)]
enum Scope {
    /// Acts on the caller themself: another user must only ever see their own data.
    Caller,
    /// Acts on one of the owner's platform accounts (`{id}`).
    Account,
    /// Acts on one of the owner's Telegram logins in progress (`{login}`).
    Login,
    /// Acts on one of the owner's forwarding pairs (`{pair}`).
    Pair,
}

struct OwnedRoute {
    method: Method,
    path: &'static str,
    /// The request body; it may name the owner's things (Bob trying Alice's account).
    body: fn(&Owned) -> Option<Value>,
    scope: Scope,
}

fn no_body(_: &Owned) -> Option<Value> {
    None
}

fn sample(_: &Owned) -> Option<Value> {
    Some(json!({"text": "a sample"}))
}

fn password_change(_: &Owned) -> Option<Value> {
    Some(json!({"current_password": "not the password", "new_password": "another new password"}))
}

fn discord_bot(_: &Owned) -> Option<Value> {
    Some(json!({"kind": "bot", "token": "bob-has-no-such-bot"}))
}

fn telegram_bot(_: &Owned) -> Option<Value> {
    Some(json!({"kind": "bot", "token": "1:bob-has-no-such-bot"}))
}

fn phone(_: &Owned) -> Option<Value> {
    Some(json!({"phone": "+15550177"}))
}

fn login_code(_: &Owned) -> Option<Value> {
    Some(json!({"code": "12345"}))
}

fn login_password(_: &Owned) -> Option<Value> {
    Some(json!({"password": "bob guesses"}))
}

/// A pair from the owner's account into one of the owner's channels.
fn pair_with_owners_account(owned: &Owned) -> Option<Value> {
    Some(json!({
        "source": {"account_id": owned.account, "chat_id": "100000000000000001"},
        "destinations": [{"account_id": owned.account, "chat_id": "100000000000000002"}],
    }))
}

fn pair_patch(owned: &Owned) -> Option<Value> {
    Some(json!({
        "name": "Bob was here",
        "destinations": [{"account_id": owned.account, "chat_id": "100000000000000003"}],
    }))
}

fn forward_text(_: &Owned) -> Option<Value> {
    Some(json!({"text": "bob forwards into alice's pair"}))
}

const ROUTES: &[OwnedRoute] = &[
    OwnedRoute {
        method: Method::GET,
        path: "/api/v1/accounts",
        body: no_body,
        scope: Scope::Caller,
    },
    OwnedRoute {
        method: Method::POST,
        path: "/api/v1/accounts/discord",
        body: discord_bot,
        scope: Scope::Caller,
    },
    OwnedRoute {
        method: Method::POST,
        path: "/api/v1/accounts/telegram",
        body: telegram_bot,
        scope: Scope::Caller,
    },
    OwnedRoute {
        method: Method::POST,
        path: "/api/v1/accounts/telegram/login",
        body: phone,
        scope: Scope::Caller,
    },
    OwnedRoute {
        method: Method::POST,
        path: "/api/v1/accounts/telegram/login/{login}/code",
        body: login_code,
        scope: Scope::Login,
    },
    OwnedRoute {
        method: Method::POST,
        path: "/api/v1/accounts/telegram/login/{login}/password",
        body: login_password,
        scope: Scope::Login,
    },
    OwnedRoute {
        method: Method::GET,
        path: "/api/v1/accounts/{id}",
        body: no_body,
        scope: Scope::Account,
    },
    OwnedRoute {
        method: Method::GET,
        path: "/api/v1/accounts/{id}/chats",
        body: no_body,
        scope: Scope::Account,
    },
    OwnedRoute {
        method: Method::DELETE,
        path: "/api/v1/accounts/{id}",
        body: no_body,
        scope: Scope::Account,
    },
    OwnedRoute {
        method: Method::GET,
        path: "/api/v1/me",
        body: no_body,
        scope: Scope::Caller,
    },
    OwnedRoute {
        method: Method::POST,
        path: "/api/v1/me/password",
        body: password_change,
        scope: Scope::Caller,
    },
    OwnedRoute {
        method: Method::GET,
        path: "/api/v1/pairs",
        body: no_body,
        scope: Scope::Caller,
    },
    OwnedRoute {
        method: Method::POST,
        path: "/api/v1/pairs",
        body: pair_with_owners_account,
        scope: Scope::Caller,
    },
    OwnedRoute {
        method: Method::GET,
        path: "/api/v1/pairs/{pair}",
        body: no_body,
        scope: Scope::Pair,
    },
    OwnedRoute {
        method: Method::PATCH,
        path: "/api/v1/pairs/{pair}",
        body: pair_patch,
        scope: Scope::Pair,
    },
    OwnedRoute {
        method: Method::POST,
        path: "/api/v1/pairs/{pair}/forward",
        body: forward_text,
        scope: Scope::Pair,
    },
    OwnedRoute {
        method: Method::POST,
        path: "/api/v1/pairs/{pair}/pause",
        body: no_body,
        scope: Scope::Pair,
    },
    OwnedRoute {
        method: Method::POST,
        path: "/api/v1/pairs/{pair}/resume",
        body: no_body,
        scope: Scope::Pair,
    },
    OwnedRoute {
        method: Method::GET,
        path: "/api/v1/pairs/{pair}/failures",
        body: no_body,
        scope: Scope::Pair,
    },
    OwnedRoute {
        method: Method::GET,
        path: "/api/v1/pairs/{pair}/outcomes",
        body: no_body,
        scope: Scope::Pair,
    },
    OwnedRoute {
        method: Method::POST,
        path: "/api/v1/pairs/{pair}/preview",
        body: sample,
        scope: Scope::Pair,
    },
    OwnedRoute {
        method: Method::DELETE,
        path: "/api/v1/pairs/{pair}",
        body: no_body,
        scope: Scope::Pair,
    },
    OwnedRoute {
        method: Method::GET,
        path: "/api/v1/errors",
        body: no_body,
        scope: Scope::Caller,
    },
];

/// What Alice owns, for Bob to try.
struct Owned {
    account: String,
    login: String,
    pair: String,
}

fn path_for(route: &OwnedRoute, owned: &Owned) -> String {
    match route.scope {
        Scope::Caller => route.path.to_owned(),
        Scope::Account => route.path.replace("{id}", &owned.account),
        Scope::Login => route.path.replace("{login}", &owned.login),
        Scope::Pair => route.path.replace("{pair}", &owned.pair),
    }
}

async fn alices_things(app: &TestApp, alice: &Session) -> Owned {
    let discord = &app.discord.as_ref().expect("fake").fake;
    let bot = discord.add_bot("alices-bot-token", "alices bot");
    let guild = discord.add_guild("Alice's server", &[bot]);
    let news = discord.add_channel(guild, "news");
    let copies = discord.add_channel(guild, "copies");
    let res = app
        .call(
            Method::POST,
            "/api/v1/accounts/discord",
            &alice.access,
            Some(&json!({"kind": "bot", "token": "alices-bot-token"})),
        )
        .await;
    assert_eq!(res.status(), 201);
    let account: Value = res.json().await.expect("json");
    app.dc().add_user("+15550123", "Alice", None);
    let res = app
        .call(
            Method::POST,
            "/api/v1/accounts/telegram/login",
            &alice.access,
            Some(&json!({"phone": "+15550123"})),
        )
        .await;
    assert_eq!(res.status(), 201);
    let login: Value = res.json().await.expect("json");
    let res = app
        .call(
            Method::POST,
            "/api/v1/pairs",
            &alice.access,
            Some(&json!({
                "source": {"account_id": account["id"], "chat_id": news.to_string()},
                "destinations": [{"account_id": account["id"], "chat_id": copies.to_string()}],
            })),
        )
        .await;
    assert_eq!(res.status(), 201);
    let pair: Value = res.json().await.expect("json");
    // A delivery given up on: a failure of the pair and an entry in Alice's error log.
    let db = app.db();
    let queued = db
        .insert_deliveries(&[relay_store::NewDelivery {
            owner_id: alice.user_id.parse().expect("id"),
            pair_id: pair["id"].as_str().expect("id").parse().expect("id"),
            destination_id: pair["destinations"][0]["id"]
                .as_str()
                .expect("id")
                .parse()
                .expect("id"),
            sender_account_id: account["id"].as_str().expect("id").parse().expect("id"),
            source_chat_id: news.to_string(),
            source_message_id: "1".into(),
            action: relay_store::DeliveryAction::Create,
            revision: 0,
            part: 0,
            priority: relay_core::Priority::Low,
            payload: json!({"text": "alice's secret"}),
            source_at: chrono::Utc::now(),
            decision: relay_store::RowDecision::Send,
        }])
        .await
        .expect("delivery");
    db.claim_delivery(queued[0].id, 1, std::time::Duration::from_secs(30))
        .await
        .expect("claim");
    assert!(
        db.kill_delivery(queued[0].id, 1, "test_failure", "alice's failure")
            .await
            .expect("kill")
    );
    Owned {
        account: account["id"].as_str().expect("id").to_owned(),
        login: login["login_id"].as_str().expect("login").to_owned(),
        pair: pair["id"].as_str().expect("id").to_owned(),
    }
}

#[tokio::test]
async fn every_owned_route_needs_a_token() {
    let app = spawn_app().await;
    let owned = Owned {
        account: uuid::Uuid::new_v4().to_string(),
        login: uuid::Uuid::new_v4().to_string(),
        pair: uuid::Uuid::new_v4().to_string(),
    };
    for route in ROUTES {
        let mut req = app
            .client
            .request(route.method.clone(), app.url(&path_for(route, &owned)));
        if let Some(body) = (route.body)(&owned) {
            req = req.json(&body);
        }
        let res = req.send().await.expect("send");
        assert_eq!(res.status(), 401, "{} {}", route.method, route.path);
    }
}

#[tokio::test]
async fn another_users_token_never_reaches_the_owners_data() {
    let app = spawn_app().await;
    let alice = app.signed_in("alice@example.com").await;
    let bob = app.signed_in("bob@example.com").await;
    let owned = alices_things(&app, &alice).await;
    for route in ROUTES {
        let path = path_for(route, &owned);
        let res = app
            .call(
                route.method.clone(),
                &path,
                &bob.access,
                (route.body)(&owned).as_ref(),
            )
            .await;
        let status = res.status();
        let text = res.text().await.expect("body");
        let what = format!("{} {path}: {status} {text}", route.method);
        match route.scope {
            Scope::Caller => {
                assert!(status.is_success() || status.is_client_error(), "{what}");
                for secret in [
                    &alice.user_id,
                    &alice.email,
                    &owned.account,
                    &owned.login,
                    &owned.pair,
                ] {
                    assert!(!text.contains(secret.as_str()), "{what}");
                }
                assert!(!text.contains("alice's"), "{what}");
            }
            Scope::Account | Scope::Login | Scope::Pair => assert_eq!(status, 404, "{what}"),
        }
    }
    // Nothing Bob did touched Alice: her account is there and she still signs in as before.
    assert_eq!(
        app.get_as(
            &format!("/api/v1/accounts/{}", owned.account),
            &alice.access
        )
        .await
        .status(),
        200
    );
    assert_eq!(app.login(&alice.email, PASSWORD).await.status(), 200);
    let pair: Value = app
        .get_as(&format!("/api/v1/pairs/{}", owned.pair), &alice.access)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(pair["name"], "", "Bob's change did not land");
    assert_eq!(pair["paused"], false);
    assert_eq!(pair["destinations"].as_array().expect("array").len(), 1);
    let failures: Value = app
        .get_as(
            &format!("/api/v1/pairs/{}/failures", owned.pair),
            &alice.access,
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(failures.as_array().expect("array").len(), 1);
    let errors: Value = app
        .get_as("/api/v1/errors", &alice.access)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(errors.as_array().expect("array").len(), 1);
    let bobs: Value = app
        .get_as("/api/v1/pairs", &bob.access)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        bobs,
        json!([]),
        "Bob could not build a pair from Alice's account"
    );
    let me: Value = app
        .get_as("/api/v1/me", &bob.access)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(me["id"], bob.user_id.as_str());
}
