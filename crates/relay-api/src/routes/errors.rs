//! The signed-in user's error log: deliveries given up on, sessions that stopped, and other
//! failures Relay wants its users to see, newest first.

use super::pairs::{LimitQuery, parse_limit};
use crate::auth::AuthUser;
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::{Query, State};
use chrono::{DateTime, Utc};
use relay_core::{AccountId, PairId, Severity};
use relay_store::ErrorEntry;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorView {
    pub id: i64,
    /// `info`, `warning`, `error` or `critical`.
    #[schema(value_type = String)]
    pub severity: Severity,
    /// What failed, e.g. `delivery`.
    pub component: String,
    /// A stable code for the failure.
    pub code: String,
    pub message: String,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub pair_id: Option<PairId>,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub account_id: Option<AccountId>,
    pub delivery_id: Option<i64>,
    pub created_at: DateTime<Utc>,
}

impl From<ErrorEntry> for ErrorView {
    fn from(e: ErrorEntry) -> Self {
        Self {
            id: e.id,
            severity: e.severity,
            component: e.component,
            code: e.code,
            message: e.message,
            pair_id: e.pair_id,
            account_id: e.account_id,
            delivery_id: e.delivery_id,
            created_at: e.created_at,
        }
    }
}

/// The signed-in user's error log, newest first.
#[utoipa::path(get, path = "/api/v1/errors", tag = "pairs", security(("bearer" = [])),
    params(("limit" = Option<i64>, Query, description = "1 to 500, default 100")),
    responses((status = 200, description = "Errors, newest first", body = [ErrorView]),
    (status = 422, description = "Invalid limit", body = crate::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    auth: AuthUser,
    Query(query): Query<LimitQuery>,
) -> Result<Json<Vec<ErrorView>>, ApiError> {
    let limit = parse_limit(&query)?;
    let entries = state.db.error_log(auth.id(), limit).await?;
    Ok(Json(entries.into_iter().map(ErrorView::from).collect()))
}
