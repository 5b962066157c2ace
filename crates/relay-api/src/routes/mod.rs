//! The `/api/v1` handlers, one module per resource.

pub mod accounts;
pub mod admin;
pub mod auth;
pub mod errors;
pub mod forward;
pub mod me;
pub mod pairs;
pub mod payments;
pub mod plans;
pub mod telegram_login;
pub mod views;

use crate::{ApiError, FieldErrors};

/// Collects field errors and turns them into one 422 when there are any.
#[derive(Default)]
pub struct Fields(FieldErrors);

impl Fields {
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0
            .entry(field.to_owned())
            .or_default()
            .push(message.into());
    }

    /// The value of a required string field, or a field error.
    pub fn required<'a>(&mut self, field: &str, value: &'a Option<String>) -> Option<&'a str> {
        match value.as_deref() {
            Some(v) if !v.is_empty() => Some(v),
            _ => {
                self.add(field, "is required");
                None
            }
        }
    }

    pub fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(self.0))
        }
    }
}
