//! Health, readiness, metrics, OpenAPI, Swagger UI and the JSON error format.

use crate::helpers::*;
use serde_json::Value;
use std::time::Duration;

#[tokio::test]
async fn healthz_answers_with_a_request_id() {
    let app = spawn_app().await;
    let res = app.get("/healthz").await;
    assert_eq!(res.status(), 200);
    let id = res
        .headers()
        .get("x-request-id")
        .expect("request id")
        .to_str()
        .expect("ascii");
    assert_eq!(id.len(), 36, "a UUID: {id}");
    assert_eq!(res.json::<Value>().await.expect("json")["status"], "ok");

    let res = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .expect("send");
    assert_eq!(
        res.headers()["x-request-id"],
        "abc-123",
        "a caller's id is kept"
    );
}

#[tokio::test]
async fn readyz_is_200_when_postgres_and_redis_answer() {
    let app = spawn_app().await;
    let res = app.get("/readyz").await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["status"], "ready");
    assert_eq!(body["checks"]["postgres"], "ok");
    assert_eq!(body["checks"]["redis"], "ok");
}

#[tokio::test]
async fn readyz_names_redis_while_it_is_down_and_recovers_when_it_is_back() {
    let proxy = FlakyProxy::start("127.0.0.1:6379").await.expect("proxy");
    let app = spawn_with(test_database().await, redis(&proxy.url())).await;
    assert_eq!(app.get("/readyz").await.status(), 200);

    proxy.take_down();
    let res = app.get("/readyz").await;
    assert_eq!(res.status(), 503);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["checks"]["redis"], "unreachable");
    assert_eq!(body["checks"]["postgres"], "ok");
    assert_eq!(body["error"]["code"], "not_ready");
    assert_eq!(body["error"]["message"], "redis not reachable");

    proxy.bring_back();
    let mut status = 0;
    for _ in 0..50 {
        status = app.get("/readyz").await.status().as_u16();
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, 200, "readiness recovers once Redis is back");
}

#[tokio::test]
async fn readyz_names_postgres_when_it_does_not_answer() {
    let app = spawn_with(unreachable_database(), test_redis()).await;
    let res = app.get("/readyz").await;
    assert_eq!(res.status(), 503);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["checks"]["postgres"], "unreachable");
    assert_eq!(body["checks"]["redis"], "ok");
    assert_eq!(body["error"]["message"], "postgres not reachable");
}

#[tokio::test]
async fn readyz_names_a_dead_worker_task() {
    use relay_core::tasks::{TaskBoard, TaskStatus};
    let board = TaskBoard::default();
    board.set("router", TaskStatus::Running);
    let (db, redis) = (test_database().await, test_redis());
    let state = relay_api::AppState::new(
        db.database().clone(),
        redis.conn.clone(),
        test_config(),
        relay_store::crypto::Keyring::development(),
    )
    .with_tasks(board.clone());
    let app = spawn_router(relay_api::router(state)).await;
    let res = app.get("/readyz").await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["checks"]["worker"], "ok");

    board.set(
        "claimer",
        TaskStatus::Dead {
            error: "panicked: boom".into(),
        },
    );
    let res = app.get("/readyz").await;
    assert_eq!(res.status(), 503);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["checks"]["worker"], "failed");
    assert_eq!(body["checks"]["postgres"], "ok");
    let message = body["error"]["message"].as_str().expect("message");
    assert!(
        message.contains("claimer") && message.contains("boom"),
        "{message}"
    );
}

#[tokio::test]
async fn unknown_paths_and_wrong_methods_get_json_errors() {
    let app = spawn_app().await;
    let res = app.get("/api/v1/nothing-here").await;
    assert_eq!(res.status(), 404);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("application/json")
    );
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["error"]["code"], "not_found");

    let res = app
        .client
        .delete(app.url("/healthz"))
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), 405);
    assert!(
        res.headers().get("allow").is_some(),
        "405 keeps its Allow header"
    );
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["error"]["code"], "method_not_allowed");
}

#[tokio::test]
async fn oversized_bodies_get_a_json_413() {
    let app = spawn_app().await;
    let big = vec![b'x'; 65 * 1024];
    let res = app
        .client
        .post(app.url("/healthz"))
        .body(big)
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), 413);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["error"]["code"], "payload_too_large");
}

#[tokio::test]
async fn openapi_json_is_an_openapi_3_document_of_the_routes() {
    let app = spawn_app().await;
    let res = app.get("/openapi.json").await;
    assert_eq!(res.status(), 200);
    let spec: Value = res.json().await.expect("json");
    assert!(
        spec["openapi"].as_str().expect("version").starts_with("3."),
        "{}",
        spec["openapi"]
    );
    assert_eq!(spec["info"]["title"], "Relay API");
    assert!(spec["paths"]["/healthz"]["get"].is_object());
    assert!(spec["paths"]["/readyz"]["get"]["responses"]["503"].is_object());
    assert!(spec["components"]["schemas"]["ErrorBody"].is_object());
}

#[tokio::test]
async fn swagger_ui_is_served_from_the_binary() {
    let app = spawn_app().await;
    let res = app.get("/docs/").await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.expect("html");
    assert!(html.contains("swagger-ui"), "{html}");
    for asset in [
        "/docs/swagger-ui.css",
        "/docs/swagger-ui-bundle.js",
        "/docs/swagger-initializer.js",
    ] {
        let res = app.get(asset).await;
        assert_eq!(res.status(), 200, "{asset}");
        let text = res.text().await.expect("asset");
        assert!(text.len() > 100, "{asset} is served from the binary");
        if asset.ends_with("initializer.js") {
            assert!(
                text.contains("/openapi.json"),
                "the UI loads our spec: {text}"
            );
        }
    }
}

#[tokio::test]
async fn metrics_are_prometheus_text_with_request_counts() {
    let app = spawn_app().await;
    assert_eq!(app.get("/healthz").await.status(), 200);
    let res = app.get("/metrics").await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/plain")
    );
    let text = res.text().await.expect("text");
    assert!(
        text.lines().any(
            |l| l.starts_with("relay_http_requests_total{") && l.contains("route=\"/healthz\"")
        ),
        "{text}"
    );
}

/// The shared layers around routes of the test's own: a slow one and one that panics.
async fn spawn_layers(timeout: Duration) -> TestApp {
    use axum::routing::{get, post};
    let routes = axum::Router::new()
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "late"
            }),
        )
        .route(
            "/panic",
            get(|| async {
                panic!("this handler panics on purpose");
                #[allow(unreachable_code)]
                ""
            }),
        )
        .route(
            "/echo",
            post(|axum::Json(v): axum::Json<Value>| async move { axum::Json(v) }),
        );
    let mut config = test_config();
    config.body_limit_bytes = 1024;
    config.request_timeout = timeout;
    spawn_router(relay_api::with_layers(routes, &config)).await
}

#[tokio::test]
async fn a_request_over_the_time_limit_gets_a_json_timeout_error() {
    let app = spawn_layers(Duration::from_millis(200)).await;
    let res = app.get("/slow").await;
    assert_eq!(res.status(), 503);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["error"]["code"], "timeout");
}

#[tokio::test]
async fn a_panicking_handler_gets_a_json_500_without_details() {
    let app = spawn_layers(Duration::from_secs(5)).await;
    let res = app.get("/panic").await;
    assert_eq!(res.status(), 500);
    let text = res.text().await.expect("body");
    assert!(!text.contains("on purpose"), "{text}");
    let body: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(body["error"]["code"], "internal");
}

#[tokio::test]
async fn malformed_json_and_wrong_content_types_get_json_4xx() {
    let app = spawn_layers(Duration::from_secs(5)).await;
    let res = app
        .client
        .post(app.url("/echo"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["error"]["code"], "bad_request");
    assert!(
        body["error"]["message"]
            .as_str()
            .expect("message")
            .contains("JSON"),
        "{body}"
    );

    let res = app
        .client
        .post(app.url("/echo"))
        .body("{}")
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), 415);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["error"]["code"], "unsupported_media_type");

    let res = app
        .client
        .post(app.url("/echo"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .expect("send");
    assert_eq!(
        res.status(),
        200,
        "well-formed requests pass through untouched"
    );
}

#[tokio::test]
async fn unknown_http_methods_share_one_metrics_label() {
    let app = spawn_app().await;
    let method = reqwest::Method::from_bytes(b"BREW").expect("method");
    let res = app
        .client
        .request(method, app.url("/healthz"))
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), 405);
    let text = app.get("/metrics").await.text().await.expect("text");
    assert!(!text.contains("BREW"), "{text}");
    assert!(text.contains("method=\"OTHER\""), "{text}");
}
