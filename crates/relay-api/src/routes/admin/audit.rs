//! The audit log, read only: there is no route that changes or removes an entry.

use super::guard::AdminUser;
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::{Query, State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditView {
    pub id: i64,
    /// The admin who acted (`null` once that user is deleted).
    pub admin_id: Option<String>,
    /// `user.ban`, `user.plan`, `allowlist.add`, …
    pub action: String,
    pub target_type: String,
    pub target_id: Option<String>,
    /// `before` and `after`, and what else the action records.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    /// Where the admin called from.
    pub ip: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct AuditQuery {
    /// 1 to 500 (default 50).
    pub limit: Option<String>,
    /// Entries older than this id (for the next page).
    pub before: Option<String>,
}

/// The audit log, newest first.
#[utoipa::path(get, path = "/api/v1/admin/audit", tag = "admin", security(("bearer" = [])),
    params(AuditQuery), responses(
    (status = 200, description = "Entries, newest first", body = Vec<AuditView>),
    (status = 403, description = "Not an admin, or not from an allowlisted address", body = crate::ErrorBody),
    (status = 422, description = "A bad limit or before", body = crate::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    _admin: AdminUser,
    Query(q): Query<AuditQuery>,
) -> Result<Json<Vec<AuditView>>, ApiError> {
    let limit = super::limit(q.limit.as_deref())?;
    let before = match q.before.as_deref() {
        None => None,
        Some(text) => Some(
            text.parse::<i64>()
                .map_err(|_| ApiError::field("before", "must be an entry id"))?,
        ),
    };
    let entries = state.db.audit_log(before, limit).await?;
    Ok(Json(
        entries
            .into_iter()
            .map(|e| AuditView {
                id: e.id,
                admin_id: e.admin_id.map(|id| id.to_string()),
                action: e.action,
                target_type: e.target_type,
                target_id: e.target_id,
                details: e.details,
                ip: e.ip.map(|ip| ip.addr().to_string()),
                created_at: e.created_at,
            })
            .collect(),
    ))
}
