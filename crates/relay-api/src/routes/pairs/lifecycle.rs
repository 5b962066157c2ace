//! Deleting, pausing and resuming a pair.

use super::parse_id;
use super::views::{PairView, accounts_of, present};
use crate::auth::AuthUser;
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;

/// Delete a pair, with its pending deliveries and its message map.
#[utoipa::path(delete, path = "/api/v1/pairs/{id}", tag = "pairs", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 204, description = "Deleted"),
    (status = 404, description = "No such pair", body = crate::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(&id)?;
    state.db.delete_pair(auth.id(), id).await?;
    tracing::info!(user = %auth.id(), pair = %id, "pair deleted");
    Ok(StatusCode::NO_CONTENT)
}

async fn set_paused(
    state: &AppState,
    auth: &AuthUser,
    id: &str,
    paused: bool,
) -> Result<Json<PairView>, ApiError> {
    let id = parse_id(id)?;
    let accounts = accounts_of(state, auth.id()).await?;
    let pair = state.db.set_pair_paused(auth.id(), id, paused).await?;
    tracing::info!(user = %auth.id(), pair = %id, paused, "pair paused or resumed");
    Ok(Json(present(state, auth.id(), pair, &accounts).await?))
}

/// Pause a pair: nothing is forwarded until it is resumed. Pausing a paused pair keeps
/// its `paused_at`.
#[utoipa::path(post, path = "/api/v1/pairs/{id}/pause", tag = "pairs", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, description = "The paused pair", body = PairView),
    (status = 404, description = "No such pair", body = crate::ErrorBody)))]
pub async fn pause(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<PairView>, ApiError> {
    set_paused(&state, &auth, &id, true).await
}

/// Resume a paused pair (it needs at least one destination).
#[utoipa::path(post, path = "/api/v1/pairs/{id}/resume", tag = "pairs", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, description = "The running pair", body = PairView),
    (status = 404, description = "No such pair", body = crate::ErrorBody),
    (status = 409, description = "The pair has no destinations (`conflict`); add one first", body = crate::ErrorBody)))]
pub async fn resume(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<PairView>, ApiError> {
    set_paused(&state, &auth, &id, false).await
}
