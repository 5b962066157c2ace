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
}

struct OwnedRoute {
    method: Method,
    path: &'static str,
    body: fn() -> Option<Value>,
    scope: Scope,
}

fn no_body() -> Option<Value> {
    None
}

fn password_change() -> Option<Value> {
    Some(json!({"current_password": "not the password", "new_password": "another new password"}))
}

const ROUTES: &[OwnedRoute] = &[
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
];

#[tokio::test]
async fn every_owned_route_needs_a_token() {
    let app = spawn_app().await;
    for route in ROUTES {
        let mut req = app
            .client
            .request(route.method.clone(), app.url(route.path));
        if let Some(body) = (route.body)() {
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
    for route in ROUTES {
        match route.scope {
            Scope::Caller => {
                let res = app
                    .call(
                        route.method.clone(),
                        route.path,
                        &bob.access,
                        (route.body)().as_ref(),
                    )
                    .await;
                let status = res.status();
                let text = res.text().await.expect("body");
                assert!(
                    !text.contains(&alice.user_id) && !text.contains(&alice.email),
                    "{} {}: {text}",
                    route.method,
                    route.path
                );
                assert!(
                    status.is_success() || status.is_client_error(),
                    "{} {}: {status}",
                    route.method,
                    route.path
                );
            }
        }
    }
    // Bob's failed password change touched only Bob: Alice still signs in as before.
    assert_eq!(app.login(&alice.email, PASSWORD).await.status(), 200);
    let me: Value = app
        .get_as("/api/v1/me", &bob.access)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(me["id"], bob.user_id.as_str());
}
