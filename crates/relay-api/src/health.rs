//! Liveness and readiness. `/healthz` only says the process answers; `/readyz` says whether
//! PostgreSQL and Redis answer too, and whether the core tasks of a worker in the same
//! process still run, and names what does not.

use crate::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use std::future::Future;
use std::time::Duration;
use utoipa::ToSchema;

const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok`.
    pub status: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// `ready`, or `unavailable` when a dependency does not answer.
    pub status: &'static str,
    /// `ok` or `unreachable`, per dependency.
    pub checks: Checks,
    /// Present when not ready: names what failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<crate::error::ErrorDetail>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Checks {
    pub postgres: &'static str,
    pub redis: &'static str,
    /// With a worker in this process: `ok`, or `failed` when one of its core tasks is
    /// dead (named in the error).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worker: Option<&'static str>,
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "health",
    responses((status = 200, description = "Alive", body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// PostgreSQL and Redis both answer, and no core task of a worker in this process is dead.
#[utoipa::path(get, path = "/readyz", tag = "health", responses(
    (status = 200, description = "Ready to serve", body = Readiness),
    (status = 503, description = "A dependency does not answer", body = Readiness)))]
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let (postgres, redis) = tokio::join!(
        check("postgres", state.db.ping()),
        check("redis", state.redis.ping())
    );
    let mut failed: Vec<String> = [("postgres", postgres), ("redis", redis)]
        .iter()
        .filter(|(_, ok)| !ok)
        .map(|(name, _)| format!("{name} not reachable"))
        .collect();
    let dead = state.tasks.dead();
    failed.extend(
        dead.iter()
            .map(|(task, error)| format!("the worker's {task} task is dead ({error})")),
    );
    let worker_runs = !state.tasks.snapshot().is_empty() || !dead.is_empty();
    let checks = Checks {
        postgres: label(postgres),
        redis: label(redis),
        worker: worker_runs.then_some(if dead.is_empty() { "ok" } else { "failed" }),
    };
    if failed.is_empty() {
        return (
            StatusCode::OK,
            Json(Readiness {
                status: "ready",
                checks,
                error: None,
            }),
        );
    }
    let message = failed.join("; ");
    let error = crate::error::ErrorBody::new("not_ready", message).error;
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(Readiness {
            status: "unavailable",
            checks,
            error: Some(error),
        }),
    )
}

fn label(ok: bool) -> &'static str {
    if ok { "ok" } else { "unreachable" }
}

async fn check<E: std::fmt::Display>(
    name: &str,
    probe: impl Future<Output = Result<(), E>>,
) -> bool {
    match tokio::time::timeout(CHECK_TIMEOUT, probe).await {
        Ok(Ok(())) => true,
        Ok(Err(err)) => {
            tracing::warn!(dependency = name, error = %err, "readiness check failed");
            false
        }
        Err(_) => {
            tracing::warn!(dependency = name, "readiness check timed out");
            false
        }
    }
}
