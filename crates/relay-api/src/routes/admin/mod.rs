//! The admin API, under `/api/v1/admin`: users (search, view, ban and unban, change plan),
//! the address allowlist, and the audit log. Every route takes an [`guard::AdminUser`]; every
//! change is written to the audit log with who, from where, what, before and after.

pub mod allowlist;
pub mod audit;
pub mod guard;
pub mod users;

use crate::ApiError;

/// `?limit=` between 1 and 500 (default 50).
pub(crate) fn limit(raw: Option<&str>) -> Result<i64, ApiError> {
    match raw {
        None => Ok(50),
        Some(text) => match text.parse::<i64>() {
            Ok(n) if (1..=500).contains(&n) => Ok(n),
            _ => Err(ApiError::field(
                "limit",
                "must be a whole number from 1 to 500",
            )),
        },
    }
}
