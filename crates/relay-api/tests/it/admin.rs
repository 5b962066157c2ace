//! The admin API's door, route by route: a non-admin token, an admin off the allowlist, an
//! admin behind an untrusted proxy claiming an allowlisted address, and an admin on the
//! allowlist (v4 from the configuration, v6 from the database) — only the last two get in.
//! Every change an admin makes is in the audit log, with where they called from.

use crate::helpers::*;
use reqwest::Method;
use serde_json::{Value, json};

const ALLOWED_V4: &str = "203.0.113.5";
const ALLOWED_V6: &str = "2001:db8::7";
const ELSEWHERE: &str = "198.51.100.1";

struct Door {
    app: TestApp,
    admin: Session,
    user: Session,
    /// Whom the admin routes act on.
    target: Session,
}

async fn door(trust_proxy: bool) -> Door {
    let mut config = test_config();
    config.admin_allowlist = vec!["203.0.113.0/24".parse().expect("net")];
    if trust_proxy {
        config.trusted_proxies = vec!["127.0.0.1/32".parse().expect("net")];
    }
    let app = spawn_configured(test_database().await, test_redis(), config).await;
    let admin = app.signed_in("admin@example.com").await;
    let user = app.signed_in("user@example.com").await;
    let target = app.signed_in("target@example.com").await;
    sqlx::query("UPDATE users SET role = 'admin' WHERE id = $1::uuid")
        .bind(&admin.user_id)
        .execute(app.db().pool())
        .await
        .expect("admin");
    sqlx::query("INSERT INTO ip_allowlist (network, note) VALUES ('2001:db8::/32', 'v6 office')")
        .execute(app.db().pool())
        .await
        .expect("allowlist");
    Door {
        app,
        admin,
        user,
        target,
    }
}

/// Every admin route, with a body and a target where it needs them.
fn routes(target: &str) -> Vec<(Method, String, Option<Value>)> {
    vec![
        (Method::GET, "/api/v1/admin/users?email=user".into(), None),
        (Method::GET, format!("/api/v1/admin/users/{target}"), None),
        (
            Method::POST,
            format!("/api/v1/admin/users/{target}/ban"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/admin/users/{target}/unban"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/admin/users/{target}/plan"),
            Some(json!({"plan": "pro"})),
        ),
        (
            Method::POST,
            format!("/api/v1/admin/users/{target}/logout"),
            None,
        ),
        (Method::GET, "/api/v1/admin/allowlist".into(), None),
        (
            Method::POST,
            "/api/v1/admin/allowlist".into(),
            Some(json!({"network": "192.0.2.0/24", "note": "lab"})),
        ),
        (
            Method::DELETE,
            "/api/v1/admin/allowlist/00000000-0000-0000-0000-000000000000".into(),
            None,
        ),
        (Method::GET, "/api/v1/admin/audit".into(), None),
    ]
}

async fn call_from(
    app: &TestApp,
    token: &str,
    from: &str,
    (method, path, body): &(Method, String, Option<Value>),
) -> u16 {
    let mut req = app
        .client
        .request(method.clone(), app.url(path))
        .bearer_auth(token)
        .header("x-forwarded-for", from);
    if let Some(body) = body {
        req = req.json(body);
    }
    req.send().await.expect("request").status().as_u16()
}

#[tokio::test]
async fn only_an_admin_on_the_allowlist_gets_in_on_every_route() {
    let behind = door(true).await;
    let untrusted = door(false).await;
    for route in routes(&behind.target.user_id) {
        let refused = [
            ("a non-admin", &behind, &behind.user, ALLOWED_V4),
            (
                "an admin off the allowlist",
                &behind,
                &behind.admin,
                ELSEWHERE,
            ),
            (
                "an untrusted proxy's claim",
                &untrusted,
                &untrusted.admin,
                ALLOWED_V4,
            ),
        ];
        for (who, d, session, from) in refused {
            let route = if std::ptr::eq(d, &untrusted) {
                routes(&untrusted.target.user_id)
                    .into_iter()
                    .find(|r| {
                        r.0 == route.0 && r.1.split('/').count() == route.1.split('/').count()
                    })
                    .expect("route")
            } else {
                route.clone()
            };
            assert_eq!(
                call_from(&d.app, &session.access, from, &route).await,
                403,
                "{who}: {} {}",
                route.0,
                route.1
            );
        }
        for from in [ALLOWED_V4, ALLOWED_V6] {
            let status = call_from(&behind.app, &behind.admin.access, from, &route).await;
            assert!(
                !matches!(status, 401 | 403),
                "an allowlisted admin from {from}: {} {} answered {status}",
                route.0,
                route.1
            );
        }
    }
    // The refusals changed nothing in the untrusted app: nobody was banned there.
    let banned: i64 = sqlx::query_scalar("SELECT count(*) FROM users WHERE status = 'banned'")
        .fetch_one(untrusted.app.db().pool())
        .await
        .expect("count");
    assert_eq!(banned, 0);
    let audited: i64 = sqlx::query_scalar("SELECT count(*) FROM admin_audit_log")
        .fetch_one(untrusted.app.db().pool())
        .await
        .expect("count");
    assert_eq!(audited, 0);
}

#[tokio::test]
async fn every_admin_change_is_audited_with_before_after_and_address() {
    let d = door(true).await;
    let target = d.target.user_id.clone();
    let admin = |method: Method, path: String, body: Option<Value>| {
        let d = &d;
        async move {
            let mut req = d
                .app
                .client
                .request(method, d.app.url(&path))
                .bearer_auth(&d.admin.access)
                .header("x-forwarded-for", ALLOWED_V4);
            if let Some(body) = body {
                req = req.json(&body);
            }
            let res = req.send().await.expect("request");
            let status = res.status().as_u16();
            (status, res.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (status, banned) = admin(
        Method::POST,
        format!("/api/v1/admin/users/{target}/ban"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{banned}");
    assert_eq!(banned["status"], "banned");
    // The banned user's session ended; the others' did not.
    assert_eq!(
        d.app.get_as("/api/v1/me", &d.user.access).await.status(),
        200
    );
    assert_eq!(
        d.app.get_as("/api/v1/me", &d.target.access).await.status(),
        403
    );
    assert_eq!(
        admin(
            Method::POST,
            format!("/api/v1/admin/users/{target}/unban"),
            None
        )
        .await
        .0,
        200
    );
    let (status, plan) = admin(
        Method::POST,
        format!("/api/v1/admin/users/{target}/plan"),
        Some(json!({"plan": "elite"})),
    )
    .await;
    assert_eq!((status, plan["id"].as_str()), (200, Some("elite")));
    let (status, bad) = admin(
        Method::POST,
        format!("/api/v1/admin/users/{target}/plan"),
        Some(json!({"plan": "gold"})),
    )
    .await;
    assert_eq!(status, 422, "{bad}");
    let (status, entry) = admin(
        Method::POST,
        "/api/v1/admin/allowlist".into(),
        Some(json!({"network": "192.0.2.9", "note": "lab"})),
    )
    .await;
    assert_eq!(status, 201, "{entry}");
    assert_eq!(entry["network"], "192.0.2.9/32");
    assert_eq!(
        admin(
            Method::POST,
            "/api/v1/admin/allowlist".into(),
            Some(json!({"network": "192.0.2.9"}))
        )
        .await
        .0,
        409
    );
    assert_eq!(
        admin(
            Method::POST,
            "/api/v1/admin/allowlist".into(),
            Some(json!({"network": "not a net"}))
        )
        .await
        .0,
        422
    );
    let id = entry["id"].as_str().expect("id");
    assert_eq!(
        admin(
            Method::DELETE,
            format!("/api/v1/admin/allowlist/{id}"),
            None
        )
        .await
        .0,
        204
    );
    let (_, list) = admin(Method::GET, "/api/v1/admin/allowlist".into(), None).await;
    let sources: Vec<&str> = list
        .as_array()
        .expect("list")
        .iter()
        .map(|e| e["source"].as_str().expect("source"))
        .collect();
    assert_eq!(
        sources,
        ["config", "database"],
        "the configuration's entry is shown, the removed one gone"
    );

    let (_, log) = admin(Method::GET, "/api/v1/admin/audit".into(), None).await;
    let actions: Vec<&str> = log
        .as_array()
        .expect("log")
        .iter()
        .map(|e| e["action"].as_str().expect("action"))
        .collect();
    assert_eq!(
        actions,
        [
            "allowlist.remove",
            "allowlist.add",
            "user.plan",
            "user.unban",
            "user.ban"
        ]
    );
    let ban = &log[4];
    assert_eq!(ban["details"]["before"]["status"], "active");
    assert_eq!(ban["details"]["after"]["status"], "banned");
    assert_eq!(ban["ip"], ALLOWED_V4);
    assert_eq!(ban["admin_id"], d.admin.user_id.as_str());
    assert_eq!(log[2]["details"]["before"]["plan"], "free");
    assert_eq!(log[2]["details"]["after"]["plan"], "elite");
    // The log cannot be changed through the API: there is no route for it.
    let res = d
        .app
        .call(Method::DELETE, "/api/v1/admin/audit", &d.admin.access, None)
        .await;
    assert_eq!(res.status(), 405);
}
