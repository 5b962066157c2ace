//! The admin address allowlist: the configuration's networks (shown, not removable here)
//! and the database's (added and removed by admins, each change audited).

use super::guard::AdminUser;
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct AllowView {
    /// The entry's id; `null` for a network of the configuration.
    pub id: Option<String>,
    /// A CIDR (`203.0.113.0/24`, `2001:db8::/32`).
    pub network: String,
    pub note: String,
    /// `config` (cannot be removed through the API) or `database`.
    pub source: &'static str,
    pub created_at: Option<DateTime<Utc>>,
}

/// Every allowlisted network.
#[utoipa::path(get, path = "/api/v1/admin/allowlist", tag = "admin", security(("bearer" = [])), responses(
    (status = 200, description = "The allowlist", body = Vec<AllowView>),
    (status = 401, description = "Not signed in", body = crate::ErrorBody),
    (status = 403, description = "Not an admin, or not from an allowlisted address", body = crate::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    _admin: AdminUser,
) -> Result<Json<Vec<AllowView>>, ApiError> {
    let mut views: Vec<AllowView> = state
        .config
        .admin_allowlist
        .iter()
        .map(|net| AllowView {
            id: None,
            network: net.to_string(),
            note: "from the configuration".into(),
            source: "config",
            created_at: None,
        })
        .collect();
    views.extend(state.db.allowlist().await?.into_iter().map(|e| AllowView {
        id: Some(e.id.to_string()),
        network: e.network.to_string(),
        note: e.note,
        source: "database",
        created_at: Some(e.created_at),
    }));
    Ok(Json(views))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewAllow {
    /// An IP address or a CIDR network, v4 or v6.
    pub network: Option<String>,
    /// Why (up to 200 characters).
    pub note: Option<String>,
}

/// Allow a network.
#[utoipa::path(post, path = "/api/v1/admin/allowlist", tag = "admin", security(("bearer" = [])),
    request_body = NewAllow, responses(
    (status = 201, description = "Added", body = AllowView),
    (status = 403, description = "Not an admin, or not from an allowlisted address", body = crate::ErrorBody),
    (status = 409, description = "Already allowlisted", body = crate::ErrorBody),
    (status = 422, description = "Not an address or network", body = crate::ErrorBody)))]
pub async fn add(
    State(state): State<AppState>,
    admin: AdminUser,
    Json(body): Json<NewAllow>,
) -> Result<(StatusCode, Json<AllowView>), ApiError> {
    let text = body.network.as_deref().unwrap_or_default().trim();
    let network: ipnet::IpNet = text
        .parse()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| {
            ApiError::field(
                "network",
                "must be an IP address or a CIDR network (203.0.113.0/24, 2001:db8::/32)",
            )
        })?;
    let note = body.note.unwrap_or_default();
    if note.chars().count() > 200 {
        return Err(ApiError::field("note", "must be at most 200 characters"));
    }
    let entry = state.db.add_allowed(network, &note, admin.user.id).await?;
    let id = entry.id.to_string();
    admin
        .audit(
            &state,
            "allowlist.add",
            ("allowlist", Some(&id)),
            json!({"before": null, "after": {"network": entry.network.to_string(), "note": entry.note}}),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(AllowView {
            id: Some(id),
            network: entry.network.to_string(),
            note: entry.note,
            source: "database",
            created_at: Some(entry.created_at),
        }),
    ))
}

/// Remove a database entry (the configuration's cannot be removed here).
#[utoipa::path(delete, path = "/api/v1/admin/allowlist/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)), responses(
    (status = 204, description = "Removed"),
    (status = 403, description = "Not an admin, or not from an allowlisted address", body = crate::ErrorBody),
    (status = 404, description = "No such entry", body = crate::ErrorBody)))]
pub async fn remove(
    State(state): State<AppState>,
    admin: AdminUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id: uuid::Uuid = id.parse().map_err(|_| ApiError::NotFound)?;
    let entry = state.db.remove_allowed(id).await?;
    admin
        .audit(
            &state,
            "allowlist.remove",
            ("allowlist", Some(&id.to_string())),
            json!({"before": {"network": entry.network.to_string(), "note": entry.note}, "after": null}),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
