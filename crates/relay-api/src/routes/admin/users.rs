//! Users, for admins: search, one user's whole picture, ban and unban, a change of plan,
//! and a forced logout. Every change is audited with its before and after.

use super::guard::AdminUser;
use crate::routes::accounts::AccountView;
use crate::routes::plans::PlanView;
use crate::routes::views::UserView;
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::{Path, Query, State};
use chrono::{DateTime, Utc};
use relay_core::{UserId, UserStatus};
use relay_store::admin::UserSearch;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, IntoParams)]
pub struct SearchQuery {
    /// A part of the email, any case.
    pub email: Option<String>,
    /// `free`, `pro` or `elite`.
    pub plan: Option<String>,
    /// `active` or `banned`.
    pub status: Option<String>,
    /// Created at or after (RFC 3339).
    pub created_after: Option<String>,
    /// Created before (RFC 3339).
    pub created_before: Option<String>,
    /// 1 to 500 (default 50).
    pub limit: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserRowView {
    pub id: String,
    pub email: String,
    pub role: String,
    pub status: String,
    pub plan: String,
    pub created_at: DateTime<Utc>,
}

fn time(field: &str, raw: Option<&str>) -> Result<Option<DateTime<Utc>>, ApiError> {
    raw.map(|t| {
        DateTime::parse_from_rfc3339(t)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| {
                ApiError::field(field, "must be a time in RFC 3339 (2026-12-01T00:00:00Z)")
            })
    })
    .transpose()
}

/// Search users, newest first.
#[utoipa::path(get, path = "/api/v1/admin/users", tag = "admin", security(("bearer" = [])),
    params(SearchQuery), responses(
    (status = 200, description = "Matching users", body = Vec<UserRowView>),
    (status = 403, description = "Not an admin, or not from an allowlisted address", body = crate::ErrorBody),
    (status = 422, description = "A bad filter", body = crate::ErrorBody)))]
pub async fn search(
    State(state): State<AppState>,
    _admin: AdminUser,
    Query(q): Query<SearchQuery>,
) -> Result<Json<Vec<UserRowView>>, ApiError> {
    if let Some(plan) = q.plan.as_deref()
        && !matches!(plan, "free" | "pro" | "elite")
    {
        return Err(ApiError::field("plan", "must be free, pro or elite"));
    }
    if let Some(status) = q.status.as_deref()
        && status.parse::<UserStatus>().is_err()
    {
        return Err(ApiError::field("status", "must be active or banned"));
    }
    let search = UserSearch {
        email: q.email.filter(|e| !e.is_empty()),
        plan: q.plan,
        status: q.status,
        created_after: time("created_after", q.created_after.as_deref())?,
        created_before: time("created_before", q.created_before.as_deref())?,
        limit: super::limit(q.limit.as_deref())?,
    };
    let rows = state.db.search_users(&search).await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| UserRowView {
                id: r.id.to_string(),
                email: r.email,
                role: r.role,
                status: r.status,
                plan: r.plan,
                created_at: r.created_at,
            })
            .collect(),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserDetail {
    pub user: UserView,
    pub plan: PlanView,
    /// `active`, `past_due` or `free`.
    pub subscription_status: String,
    pub current_period_end: Option<DateTime<Utc>>,
    pub accounts: Vec<AccountView>,
    pub pairs: i64,
    pub messages_today: i64,
}

fn user_id(raw: &str) -> Result<UserId, ApiError> {
    raw.parse().map_err(|_| ApiError::NotFound)
}

/// One user: their plan, accounts, pairs and today's usage.
#[utoipa::path(get, path = "/api/v1/admin/users/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)), responses(
    (status = 200, description = "The user", body = UserDetail),
    (status = 403, description = "Not an admin, or not from an allowlisted address", body = crate::ErrorBody),
    (status = 404, description = "No such user", body = crate::ErrorBody)))]
pub async fn get_one(
    State(state): State<AppState>,
    _admin: AdminUser,
    Path(id): Path<String>,
) -> Result<Json<UserDetail>, ApiError> {
    let id = user_id(&id)?;
    let user = state.db.user(id).await?;
    let sub = state.db.subscription(id).await?;
    let usage = state.db.usage(id, Utc::now().date_naive()).await?;
    let accounts = state.db.accounts(id).await?;
    Ok(Json(UserDetail {
        user: user.into(),
        plan: sub.plan.into(),
        subscription_status: sub.status,
        current_period_end: sub.current_period_end,
        accounts: accounts.into_iter().map(AccountView::from).collect(),
        pairs: usage.pairs,
        messages_today: usage.messages_today,
    }))
}

async fn set_status(
    state: &AppState,
    admin: &AdminUser,
    id: &str,
    status: UserStatus,
) -> Result<Json<UserView>, ApiError> {
    let id = user_id(id)?;
    if id == admin.user.id {
        return Err(ApiError::refused(
            axum::http::StatusCode::CONFLICT,
            "conflict",
            "an admin cannot ban or unban themselves",
        ));
    }
    let before = state.db.user(id).await?;
    state.db.set_user_status(id, status).await?;
    let mut ended = 0;
    if status == UserStatus::Banned {
        // A banned user's sessions end now; their listeners stop with the route change
        // the status change makes.
        ended = state.db.end_all_sessions(id).await?;
        state.auth.sessions.forget_user(id, None);
    }
    let action = if status == UserStatus::Banned {
        "user.ban"
    } else {
        "user.unban"
    };
    admin
        .audit(
            state,
            action,
            ("user", Some(&id.to_string())),
            json!({"before": {"status": before.status.as_str()},
                   "after": {"status": status.as_str()}, "sessions_ended": ended}),
        )
        .await?;
    tracing::info!(admin = %admin.user.id, user = %id, action, "admin changed a user's status");
    Ok(Json(state.db.user(id).await?.into()))
}

/// Ban a user: their sessions end, their pairs stop forwarding.
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/ban", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)), responses(
    (status = 200, description = "Banned", body = UserView),
    (status = 403, description = "Not an admin, or not from an allowlisted address", body = crate::ErrorBody),
    (status = 404, description = "No such user", body = crate::ErrorBody),
    (status = 409, description = "An admin cannot ban themselves", body = crate::ErrorBody)))]
pub async fn ban(
    State(state): State<AppState>,
    admin: AdminUser,
    Path(id): Path<String>,
) -> Result<Json<UserView>, ApiError> {
    set_status(&state, &admin, &id, UserStatus::Banned).await
}

/// Unban a user: their pairs forward again.
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/unban", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)), responses(
    (status = 200, description = "Active again", body = UserView),
    (status = 403, description = "Not an admin, or not from an allowlisted address", body = crate::ErrorBody),
    (status = 404, description = "No such user", body = crate::ErrorBody),
    (status = 409, description = "An admin cannot unban themselves", body = crate::ErrorBody)))]
pub async fn unban(
    State(state): State<AppState>,
    admin: AdminUser,
    Path(id): Path<String>,
) -> Result<Json<UserView>, ApiError> {
    set_status(&state, &admin, &id, UserStatus::Active).await
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PlanChange {
    /// `free`, `pro` or `elite`.
    pub plan: Option<String>,
    /// Until when (RFC 3339); open-ended when left out. Not for `free`.
    pub until: Option<String>,
}

/// Put a user on a plan (or back on Free), effective at once.
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/plan", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)), request_body = PlanChange, responses(
    (status = 200, description = "The user's plan now", body = PlanView),
    (status = 403, description = "Not an admin, or not from an allowlisted address", body = crate::ErrorBody),
    (status = 404, description = "No such user", body = crate::ErrorBody),
    (status = 422, description = "A bad plan or time", body = crate::ErrorBody)))]
pub async fn change_plan(
    State(state): State<AppState>,
    admin: AdminUser,
    Path(id): Path<String>,
    Json(body): Json<PlanChange>,
) -> Result<Json<PlanView>, ApiError> {
    let id = user_id(&id)?;
    let plan = body.plan.as_deref().unwrap_or_default();
    if !matches!(plan, "free" | "pro" | "elite") {
        return Err(ApiError::field("plan", "must be free, pro or elite"));
    }
    let until = time("until", body.until.as_deref())?;
    if until.is_some_and(|t| t <= Utc::now()) {
        return Err(ApiError::field("until", "must be in the future"));
    }
    state.db.user(id).await?;
    let before = state.db.set_plan(id, plan, until).await?;
    // A smaller plan pauses the pairs over its limit (with the reason); a bigger one
    // releases what the daily quota held, within seconds.
    let paused = state.db.pause_pairs_over_limit(Some(id)).await?;
    admin
        .audit(
            &state,
            "user.plan",
            ("user", Some(&id.to_string())),
            json!({"before": {"plan": before}, "after": {"plan": plan, "until": until},
                   "pairs_paused": paused.len()}),
        )
        .await?;
    Ok(Json(state.db.subscription(id).await?.plan.into()))
}

/// End every session of a user (they sign in again).
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/logout", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)), responses(
    (status = 204, description = "Signed out everywhere"),
    (status = 403, description = "Not an admin, or not from an allowlisted address", body = crate::ErrorBody),
    (status = 404, description = "No such user", body = crate::ErrorBody)))]
pub async fn logout(
    State(state): State<AppState>,
    admin: AdminUser,
    Path(id): Path<String>,
) -> Result<axum::http::StatusCode, ApiError> {
    let id = user_id(&id)?;
    state.db.user(id).await?;
    let ended = state.db.end_all_sessions(id).await?;
    state.auth.sessions.forget_user(id, None);
    admin
        .audit(
            &state,
            "user.logout",
            ("user", Some(&id.to_string())),
            json!({"sessions_ended": ended}),
        )
        .await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}
