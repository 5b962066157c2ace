//! Reading pairs: the caller's list, one pair, a pair's failed deliveries, and what its
//! rules decided.

use super::views::{FailureView, PairView, accounts_of, present};
use super::{LimitQuery, parse_id, parse_limit};
use crate::auth::AuthUser;
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::{Path, Query, State};

/// The signed-in user's pairs, oldest first.
#[utoipa::path(get, path = "/api/v1/pairs", tag = "pairs", security(("bearer" = [])),
    responses((status = 200, description = "Pairs", body = [PairView])))]
pub async fn list(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<Json<Vec<PairView>>, ApiError> {
    let accounts = accounts_of(&state, auth.id()).await?;
    let pairs = state.db.pairs(auth.id()).await?;
    let mut views = Vec::with_capacity(pairs.len());
    for pair in pairs {
        match present(&state, auth.id(), pair, &accounts).await {
            Ok(v) => views.push(v),
            // Deleted with its account meanwhile.
            Err(ApiError::NotFound) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(Json(views))
}

/// One pair.
#[utoipa::path(get, path = "/api/v1/pairs/{id}", tag = "pairs", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, description = "The pair", body = PairView),
    (status = 404, description = "No such pair", body = crate::ErrorBody)))]
pub async fn get_one(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<PairView>, ApiError> {
    let id = parse_id(&id)?;
    let accounts = accounts_of(&state, auth.id()).await?;
    let pair = state.db.pair(auth.id(), id).await?;
    Ok(Json(present(&state, auth.id(), pair, &accounts).await?))
}

/// The pair's deliveries that were given up on after their retries, newest first.
#[utoipa::path(get, path = "/api/v1/pairs/{id}/failures", tag = "pairs", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid),
        ("limit" = Option<i64>, Query, description = "1 to 500, default 100")),
    responses((status = 200, description = "Failed deliveries", body = [FailureView]),
    (status = 404, description = "No such pair", body = crate::ErrorBody),
    (status = 422, description = "Invalid limit", body = crate::ErrorBody)))]
pub async fn failures(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
    Query(query): Query<LimitQuery>,
) -> Result<Json<Vec<FailureView>>, ApiError> {
    let id = parse_id(&id)?;
    let limit = parse_limit(&query)?;
    // 404 for another user's pair, not an empty list.
    state.db.pair(auth.id(), id).await?;
    let failed = state
        .db
        .failed_deliveries(auth.id(), Some(id), limit)
        .await?;
    Ok(Json(failed.into_iter().map(FailureView::from).collect()))
}

/// What decided some of a pair's deliveries, counted.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct OutcomeView {
    /// The rule (`filters[2]`, `destination.filters[0]`, `rules.delay`), or `paused` (a
    /// holding pause), or `plan.edits` / `plan.deletes` (the plan does not include them).
    pub decided_by: String,
    /// `skipped`: not sent; `pending`: held, sent when its time comes (or on resume).
    pub state: String,
    pub deliveries: i64,
}

/// What the pair's rules, its pause and the plan decided, per rule: answers "does my
/// rule match anything?".
#[utoipa::path(get, path = "/api/v1/pairs/{id}/outcomes", tag = "pairs", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, description = "Counts per rule and state", body = [OutcomeView]),
    (status = 404, description = "No such pair", body = crate::ErrorBody)))]
pub async fn outcomes(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<Vec<OutcomeView>>, ApiError> {
    let id = parse_id(&id)?;
    state.db.pair(auth.id(), id).await?;
    let outcomes = state.db.pair_outcomes(auth.id(), id).await?;
    Ok(Json(
        outcomes
            .into_iter()
            .map(|o| OutcomeView {
                decided_by: o.decided_by,
                state: o.state,
                deliveries: o.deliveries,
            })
            .collect(),
    ))
}
