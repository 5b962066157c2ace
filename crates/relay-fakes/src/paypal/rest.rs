//! The fake PayPal's HTTP side: `/v1/oauth2/token` (Basic auth, 401 `invalid_client`),
//! products, plans, subscriptions (bearer token, 401 `AUTHENTICATION_FAILURE`), the
//! certificate and the verify-webhook-signature postback.

use super::{FakePayPal, Subscription, TEST_CERT_PEM};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use serde_json::{Value, json};
use std::collections::HashMap;

type Reply = Result<Response, Response>;

pub fn router(fake: FakePayPal) -> Router {
    Router::new()
        .route("/v1/oauth2/token", post(token))
        .route("/v1/catalogs/products", post(create_product))
        .route("/v1/billing/plans", post(create_plan).get(list_plans))
        .route("/v1/billing/subscriptions", post(create_subscription))
        .route("/v1/billing/subscriptions/{id}", get(get_subscription))
        .route("/v1/billing/subscriptions/{id}/cancel", post(cancel))
        .route("/v1/notifications/certs/{id}", get(cert))
        .route("/v1/notifications/verify-webhook-signature", post(verify))
        .route("/webapps/billing/subscriptions", get(approve_page))
        .route("/_fake/subscriptions/{id}/{lever}", post(lever))
        .with_state(fake)
}

fn error(status: StatusCode, name: &str, message: &str) -> Response {
    (status, Json(json!({"name": name, "message": message, "debug_id": "fake0001", "details": [], "links": []})))
        .into_response()
}

fn authorized(fake: &FakePayPal, headers: &HeaderMap) -> Result<(), Response> {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match token {
        Some(t) if fake.state().tokens.iter().any(|k| k == t) => Ok(()),
        _ => Err(error(
            StatusCode::UNAUTHORIZED,
            "AUTHENTICATION_FAILURE",
            "Authentication failed due to invalid authentication credentials or a missing Authorization header.",
        )),
    }
}

fn json_body(body: &Bytes) -> Result<Value, Response> {
    serde_json::from_slice(body).map_err(|_| {
        error(
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
            "Request is not well-formed, syntactically incorrect, or violates schema.",
        )
    })
}

fn unprocessable(field: &str, issue: &str) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(json!({"name": "UNPROCESSABLE_ENTITY", "message": "The requested action could not be performed.",
            "debug_id": "fake0002", "details": [{"field": field, "issue": issue}]})),
    )
        .into_response()
}

async fn token(State(fake): State<FakePayPal>, headers: HeaderMap, body: String) -> Reply {
    let expected = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        fake.inner.client_id, fake.inner.client_secret
    ));
    let basic = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "));
    if basic != Some(expected.as_str()) {
        return Err((
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "invalid_client", "error_description": "Client Authentication failed"})),
        )
            .into_response());
    }
    if body.trim() != "grant_type=client_credentials" {
        return Err((
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "unsupported_grant_type", "error_description": "Grant Type is NULL"})),
        )
            .into_response());
    }
    let token = fake.next_id("A21AA");
    fake.state().tokens.push(token.clone());
    Ok(Json(
        json!({"scope": "https://uri.paypal.com/services/subscriptions", "access_token": token,
        "token_type": "Bearer", "app_id": "APP-FAKE", "expires_in": 32400, "nonce": "fake"}),
    )
    .into_response())
}

async fn create_product(State(fake): State<FakePayPal>, headers: HeaderMap, body: Bytes) -> Reply {
    authorized(&fake, &headers)?;
    let body = json_body(&body)?;
    let Some(name) = body["name"].as_str() else {
        return Err(unprocessable("/name", "MISSING_REQUIRED_PARAMETER"));
    };
    if !matches!(
        body["type"].as_str(),
        Some("PHYSICAL" | "DIGITAL" | "SERVICE")
    ) {
        return Err(unprocessable("/type", "INVALID_PARAMETER_VALUE"));
    }
    let product = json!({"id": fake.next_id("PROD-"), "name": name, "type": body["type"]});
    fake.state().products.push(product.clone());
    Ok((StatusCode::CREATED, Json(product)).into_response())
}

async fn create_plan(State(fake): State<FakePayPal>, headers: HeaderMap, body: Bytes) -> Reply {
    authorized(&fake, &headers)?;
    let body = json_body(&body)?;
    let product = body["product_id"].as_str().unwrap_or_default().to_owned();
    if !fake
        .state()
        .products
        .iter()
        .any(|p| p["id"] == product.as_str())
    {
        return Err(unprocessable("/product_id", "INVALID_PARAMETER_VALUE"));
    }
    if body["name"].as_str().is_none() || !body["billing_cycles"].is_array() {
        return Err(unprocessable(
            "/billing_cycles",
            "MISSING_REQUIRED_PARAMETER",
        ));
    }
    let mut plan = body.clone();
    plan["id"] = json!(fake.next_id("P-"));
    plan["status"] = json!(body["status"].as_str().unwrap_or("ACTIVE"));
    fake.state().plans.push(plan.clone());
    Ok((StatusCode::CREATED, Json(plan)).into_response())
}

async fn list_plans(
    State(fake): State<FakePayPal>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Reply {
    authorized(&fake, &headers)?;
    let plans: Vec<Value> = fake
        .state()
        .plans
        .iter()
        .filter(|p| q.get("product_id").is_none_or(|id| p["product_id"] == id.as_str()))
        .map(|p| json!({"id": p["id"], "product_id": p["product_id"], "name": p["name"], "status": p["status"]}))
        .collect();
    Ok(Json(json!({"plans": plans})).into_response())
}

fn view(fake: &FakePayPal, s: &Subscription) -> Value {
    let base = fake.state().base_url.clone();
    json!({"id": s.id, "status": s.status, "plan_id": s.plan_id, "custom_id": s.custom_id,
    "billing_info": {"failed_payments_count": s.failed, "outstanding_balance": {"currency_code": "USD", "value": "0.00"}},
    "links": [
        {"href": format!("{base}/webapps/billing/subscriptions?ba_token=BA-{}", s.id.trim_start_matches("I-")), "rel": "approve", "method": "GET"},
        {"href": format!("{base}/v1/billing/subscriptions/{}", s.id), "rel": "self", "method": "GET"}
    ]})
}

async fn create_subscription(
    State(fake): State<FakePayPal>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    authorized(&fake, &headers)?;
    let body = json_body(&body)?;
    let request_id = headers
        .get("paypal-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if let Some(rid) = &request_id {
        let s = fake.state();
        if let Some((_, id)) = s.request_ids.iter().find(|(r, _)| r == rid) {
            let sub = s.subscriptions.iter().find(|x| &x.id == id).map(|x| {
                (
                    x.id.clone(),
                    x.plan_id.clone(),
                    x.custom_id.clone(),
                    x.status.clone(),
                    x.failed,
                )
            });
            drop(s);
            if let Some((id, plan_id, custom_id, status, failed)) = sub {
                let sub = Subscription {
                    id,
                    plan_id,
                    custom_id,
                    status,
                    failed,
                    sales: Vec::new(),
                    refunded: Vec::new(),
                };
                return Ok((StatusCode::CREATED, Json(view(&fake, &sub))).into_response());
            }
        }
    }
    let plan_id = body["plan_id"].as_str().unwrap_or_default().to_owned();
    if !fake
        .state()
        .plans
        .iter()
        .any(|p| p["id"] == plan_id.as_str())
    {
        return Err(unprocessable("/plan_id", "INVALID_RESOURCE_ID"));
    }
    let custom_id = body["custom_id"].as_str().unwrap_or_default().to_owned();
    if custom_id.len() > 127 || !custom_id.is_ascii() {
        return Err(unprocessable("/custom_id", "INVALID_STRING_LENGTH"));
    }
    let sub = Subscription {
        id: fake.next_id("I-"),
        plan_id,
        custom_id,
        status: "APPROVAL_PENDING".into(),
        failed: 0,
        sales: Vec::new(),
        refunded: Vec::new(),
    };
    let body = view(&fake, &sub);
    let mut s = fake.state();
    if let Some(rid) = request_id {
        s.request_ids.push((rid, sub.id.clone()));
    }
    s.subscriptions.push(sub);
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

async fn get_subscription(
    State(fake): State<FakePayPal>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Reply {
    authorized(&fake, &headers)?;
    let s = fake.state();
    let Some(sub) = s.subscriptions.iter().find(|x| x.id == id) else {
        drop(s);
        return Err(error(
            StatusCode::NOT_FOUND,
            "RESOURCE_NOT_FOUND",
            "The specified resource does not exist.",
        ));
    };
    let copy = Subscription {
        id: sub.id.clone(),
        plan_id: sub.plan_id.clone(),
        custom_id: sub.custom_id.clone(),
        status: sub.status.clone(),
        failed: sub.failed,
        sales: Vec::new(),
        refunded: Vec::new(),
    };
    drop(s);
    Ok(Json(view(&fake, &copy)).into_response())
}

async fn cancel(
    State(fake): State<FakePayPal>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Reply {
    authorized(&fake, &headers)?;
    let body = json_body(&body)?;
    if body["reason"].as_str().is_none_or(str::is_empty) {
        return Err(unprocessable("/reason", "MISSING_REQUIRED_PARAMETER"));
    }
    match fake.status(&id) {
        None => Err(error(
            StatusCode::NOT_FOUND,
            "RESOURCE_NOT_FOUND",
            "The specified resource does not exist.",
        )),
        Some(status) if status == "CANCELLED" || status == "EXPIRED" => {
            Err(unprocessable("", "SUBSCRIPTION_STATUS_INVALID"))
        }
        Some(_) => {
            let fake2 = fake.clone();
            // The webhook follows the answer, as at PayPal.
            tokio::spawn(async move {
                fake2.cancel(&id).await;
            });
            Ok(StatusCode::NO_CONTENT.into_response())
        }
    }
}

async fn cert() -> Response {
    ([("content-type", "application/x-pem-file")], TEST_CERT_PEM).into_response()
}

/// SUCCESS only when the transmission is one the fake made, for this webhook id, and
/// `webhook_event` holds the delivered bytes verbatim.
async fn verify(State(fake): State<FakePayPal>, headers: HeaderMap, body: Bytes) -> Reply {
    authorized(&fake, &headers)?;
    let parsed = json_body(&body)?;
    for field in [
        "auth_algo",
        "cert_url",
        "transmission_id",
        "transmission_sig",
        "transmission_time",
        "webhook_id",
    ] {
        if parsed[field].as_str().is_none() {
            return Err(unprocessable(
                &format!("/{field}"),
                "MISSING_REQUIRED_PARAMETER",
            ));
        }
    }
    if parsed["webhook_event"].is_null() {
        return Err(unprocessable(
            "/webhook_event",
            "MISSING_REQUIRED_PARAMETER",
        ));
    }
    let text = String::from_utf8_lossy(&body);
    let ok = parsed["webhook_id"] == fake.inner.webhook_id.as_str()
        && fake.state().deliveries.iter().any(|(tid, time, sig, raw)| {
            parsed["transmission_id"] == tid.as_str()
                && parsed["transmission_time"] == time.as_str()
                && parsed["transmission_sig"] == sig.as_str()
                && (text.contains(&format!("\"webhook_event\":{raw}"))
                    || text.contains(&format!("\"webhook_event\": {raw}")))
        });
    let status = if ok { "SUCCESS" } else { "FAILURE" };
    Ok(Json(json!({"verification_status": status})).into_response())
}

/// The buyer's browser on the approve link: approves, as a buyer clicking through would.
async fn approve_page(
    State(fake): State<FakePayPal>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let token = q.get("ba_token").cloned().unwrap_or_default();
    let id = format!("I-{}", token.trim_start_matches("BA-"));
    if fake.status(&id).as_deref() != Some("APPROVAL_PENDING") {
        return (
            StatusCode::NOT_FOUND,
            "no subscription awaits approval here",
        )
            .into_response();
    }
    let delivered = fake.approve(&id).await;
    format!("fake PayPal: subscription {id} approved; webhooks answered {delivered:?}\n")
        .into_response()
}

/// Levers over HTTP for `relay fake paypal`: renew, fail, cancel, refund, expire.
async fn lever(
    State(fake): State<FakePayPal>,
    Path((id, lever)): Path<(String, String)>,
) -> Response {
    if fake.status(&id).is_none() {
        return (StatusCode::NOT_FOUND, "no such subscription").into_response();
    }
    let delivered = match lever.as_str() {
        "approve" => fake.approve(&id).await,
        "renew" => fake.renew(&id).await,
        "fail" => fake.fail_renewal(&id).await,
        "cancel" => fake.cancel(&id).await,
        "refund" => fake.refund(&id).await,
        "expire" => fake.expire(&id).await,
        _ => {
            return (
                StatusCode::NOT_FOUND,
                "levers: approve, renew, fail, cancel, refund, expire",
            )
                .into_response();
        }
    };
    Json(json!({"subscription": id, "webhooks": delivered})).into_response()
}
