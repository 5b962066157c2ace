//! Who may use the admin API: a signed-in user whose role, read from the database on this
//! request (never from the token), is admin, calling from an allowlisted address — a
//! network of the configuration (`admin_allowlist`) or of the database's `ip_allowlist`.
//! The address is the TCP peer's, or `X-Forwarded-For`'s only behind a trusted proxy.
//! Anything else is a 403, and the refusal is logged.

use crate::auth::authenticate;
use crate::client_ip::client_ip;
use crate::{ApiError, AppState};
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use relay_core::{Role, UserStatus};
use relay_store::User;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// An admin allowed here, and the address they called from (for the audit log).
pub struct AdminUser {
    pub user: User,
    pub ip: IpAddr,
}

const REFUSED: &str = "the admin API is for admins calling from an allowlisted address";

impl FromRequestParts<AppState> for AdminUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
        let ip = client_ip(peer, &parts.headers, &state.config.trusted_proxies).to_canonical();
        let path = parts.uri.path().to_owned();
        let auth = authenticate(state, &parts.headers).await?;
        let user = state.db.user(auth.id()).await?;
        if user.role != Role::Admin || user.status != UserStatus::Active {
            tracing::warn!(user = %user.id, %ip, path, "admin route refused: not an admin");
            return Err(ApiError::Forbidden(REFUSED.into()));
        }
        let configured = state
            .config
            .admin_allowlist
            .iter()
            .any(|net| net.contains(&ip));
        if !configured && !state.db.ip_allowlisted(ip).await? {
            tracing::warn!(user = %user.id, %ip, path, "admin route refused: address not allowlisted");
            return Err(ApiError::Forbidden(REFUSED.into()));
        }
        Ok(AdminUser { user, ip })
    }
}

impl AdminUser {
    /// Appends an action to the audit log.
    pub async fn audit(
        &self,
        state: &AppState,
        action: &str,
        target: (&str, Option<&str>),
        details: serde_json::Value,
    ) -> Result<(), ApiError> {
        state
            .db
            .audit(self.user.id, self.ip, action, target, details)
            .await?;
        Ok(())
    }
}
