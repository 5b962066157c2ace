//! The one error type of the HTTP API. Every error leaves as
//! `{"error": {"code", "message", "fields"}}` with its proper status; a 5xx logs its cause
//! and shows none of it.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;
use utoipa::ToSchema;

/// Per-field messages of a validation error, e.g. `{"password": ["is too short"]}`.
pub type FieldErrors = BTreeMap<String, Vec<String>>;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(&'static str),
    #[error("{0}")]
    Forbidden(String),
    #[error("not found")]
    NotFound,
    #[error("{message}")]
    Conflict {
        message: String,
        fields: FieldErrors,
    },
    #[error("the request is invalid")]
    Validation(FieldErrors),
    #[error("too many requests")]
    TooManyRequests { retry_after: Duration },
    #[error("{0}")]
    Unavailable(String),
    /// A refusal with its own code, for answers a client must tell apart (a wrong code from
    /// an expired one, say).
    #[error("{message}")]
    Refused {
        status: StatusCode,
        code: &'static str,
        message: String,
        retry_after: Option<Duration>,
    },
    /// 403: the plan does not allow it (`plan_limit` or `plan_feature`), naming what and
    /// the cheapest plan that does.
    #[error("{message}")]
    Plan {
        code: &'static str,
        message: String,
        limit: Option<String>,
        feature: Option<String>,
        upgrade_to: Option<String>,
    },
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The JSON body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable code, such as `not_found` or `validation_failed`.
    pub code: String,
    /// A sentence for people.
    pub message: String,
    /// Messages per request field, for validation errors.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    #[schema(value_type = Object)]
    pub fields: FieldErrors,
    /// For `plan_limit`: the limit reached (`max_accounts`, `max_pairs`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
    /// For `plan_feature`: the feature the plan lacks (`filters`, `regex`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feature: Option<String>,
    /// For `plan_limit` and `plan_feature`: the cheapest plan that allows it, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upgrade_to: Option<String>,
}

impl ErrorBody {
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Self {
            error: ErrorDetail {
                code: code.to_owned(),
                message: message.into(),
                fields: FieldErrors::new(),
                limit: None,
                feature: None,
                upgrade_to: None,
            },
        }
    }
}

impl ApiError {
    /// One field error, the common case.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        ApiError::Validation(FieldErrors::from([(
            field.to_owned(),
            vec![message.into()],
        )]))
    }

    pub fn refused(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError::Refused {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn internal(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        ApiError::Internal(Box::new(err))
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Refused { status, .. } => *status,
            ApiError::Plan { .. } => StatusCode::FORBIDDEN,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad_request",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound => "not_found",
            ApiError::Conflict { .. } => "conflict",
            ApiError::Validation(_) => "validation_failed",
            ApiError::TooManyRequests { .. } => "rate_limited",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Refused { code, .. } | ApiError::Plan { code, .. } => code,
            ApiError::Internal(_) => "internal",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(cause) = &self {
            tracing::error!(error = %cause, "request failed");
        }
        let status = self.status();
        let mut body = ErrorBody::new(self.code(), self.to_string());
        let mut retry_after = None;
        let challenge = matches!(self, ApiError::Unauthorized(_));
        match self {
            ApiError::Validation(fields) | ApiError::Conflict { fields, .. } => {
                body.error.fields = fields
            }
            ApiError::Plan {
                limit,
                feature,
                upgrade_to,
                ..
            } => {
                body.error.limit = limit;
                body.error.feature = feature;
                body.error.upgrade_to = upgrade_to;
            }
            ApiError::TooManyRequests { retry_after: wait }
            | ApiError::Refused {
                retry_after: Some(wait),
                ..
            } => retry_after = Some(wait),
            _ => {}
        }
        let mut response = (status, axum::Json(body)).into_response();
        if challenge {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"relay\""),
            );
        }
        if let Some(wait) = retry_after {
            // Whole seconds, rounded up, never 0.
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            if let Ok(value) = HeaderValue::from_str(&secs.max(1).to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        response
    }
}

impl From<relay_store::StoreError> for ApiError {
    fn from(err: relay_store::StoreError) -> Self {
        match err {
            relay_store::StoreError::NotFound => ApiError::NotFound,
            relay_store::StoreError::Sqlx(sqlx::Error::PoolTimedOut) => {
                ApiError::Unavailable("the database is not reachable; try again shortly".into())
            }
            relay_store::StoreError::Duplicate(field) => ApiError::Conflict {
                message: format!("{field} is already taken"),
                fields: FieldErrors::from([(
                    field.to_owned(),
                    vec!["is already taken".to_owned()],
                )]),
            },
            relay_store::StoreError::NotOwned(what) => ApiError::Validation(FieldErrors::from([(
                what.replace(' ', "_"),
                vec!["is not one of your accounts".to_owned()],
            )])),
            relay_store::StoreError::Conflict { field, message } => ApiError::Conflict {
                fields: FieldErrors::from([(field.to_owned(), vec![message.clone()])]),
                message,
            },
            err @ relay_store::StoreError::PlanLimit { .. } => ApiError::Refused {
                status: StatusCode::FORBIDDEN,
                code: "plan_limit",
                message: err.to_string(),
                retry_after: None,
            },
            other => ApiError::internal(other),
        }
    }
}

impl From<relay_queue::QueueError> for ApiError {
    fn from(err: relay_queue::QueueError) -> Self {
        tracing::warn!(error = %err, "redis unavailable");
        ApiError::Unavailable("a backing service is not reachable; try again shortly".into())
    }
}
