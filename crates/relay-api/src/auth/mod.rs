//! Authentication: password hashing, access and refresh tokens, the extractor that hands
//! handlers the signed-in user, and sign-in rate limits.

mod extract;
pub mod password;
mod session_cache;
pub mod tokens;

pub use extract::{AuthUser, authenticate};
pub use session_cache::SessionCache;

use relay_queue::{LimitRule, RateLimiter};
use std::time::Duration;
use tokens::TokenKeys;

/// Authentication settings.
#[derive(Clone)]
pub struct AuthConfig {
    /// HMAC secret for access tokens.
    pub jwt_secret: String,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    /// Sign-in attempts per client address.
    pub login_per_ip: LimitRule,
    /// Failed sign-ins per account.
    pub login_per_account: LimitRule,
    /// How long a node may reuse an access-token lookup; zero looks up every request.
    pub session_cache_ttl: Duration,
}

impl std::fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthConfig")
            .field("jwt_secret", &"[redacted]")
            .field("access_token_ttl", &self.access_token_ttl)
            .field("refresh_token_ttl", &self.refresh_token_ttl)
            .field("login_per_ip", &self.login_per_ip)
            .field("login_per_account", &self.login_per_account)
            .field("session_cache_ttl", &self.session_cache_ttl)
            .finish()
    }
}

/// What the auth handlers share: keys, TTLs and limiters.
#[derive(Debug)]
pub struct Auth {
    pub keys: TokenKeys,
    pub refresh_ttl: Duration,
    pub limiter: RateLimiter,
    pub login_per_ip: LimitRule,
    pub login_per_account: LimitRule,
    pub sessions: SessionCache,
}

impl Auth {
    /// Counts a hit on `key`; over the rule's limit it is a 429 with `Retry-After`.
    pub async fn enforce(&self, key: &str, rule: LimitRule) -> Result<(), crate::ApiError> {
        self.limiter
            .hit(key, rule)
            .await?
            .map_err(|wait| crate::ApiError::TooManyRequests { retry_after: wait })
    }

    pub fn new(config: &AuthConfig, limiter: RateLimiter) -> Self {
        Self {
            keys: TokenKeys::new(config.jwt_secret.as_bytes(), config.access_token_ttl),
            refresh_ttl: config.refresh_token_ttl,
            limiter,
            login_per_ip: config.login_per_ip,
            login_per_account: config.login_per_account,
            sessions: SessionCache::new(config.session_cache_ttl),
        }
    }
}

/// The address a client is counted under: IPv4-mapped IPv6 as IPv4, and IPv6 by its /64
/// (one subscriber's whole network), so rotating addresses within it does not help.
pub fn client_key(ip: std::net::IpAddr) -> String {
    match ip.to_canonical() {
        std::net::IpAddr::V4(v4) => v4.to_string(),
        std::net::IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

/// The rate-limit key of sign-in attempts for an account, from the email as typed. Hashed,
/// so an attacker's 1 MB "email" cannot become a 1 MB Redis key.
pub fn account_limit_key(email_input: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(email_input.trim().to_lowercase().as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("login:account:{hex}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn clients_are_counted_by_ipv4_or_ipv6_slash_64() {
        let key = |s: &str| super::client_key(s.parse().expect("ip"));
        assert_eq!(key("203.0.113.7"), "203.0.113.7");
        assert_eq!(key("::ffff:203.0.113.7"), "203.0.113.7");
        assert_eq!(key("2001:db8:1:2:aaaa::1"), key("2001:db8:1:2:ffff::9"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
    }

    #[test]
    fn account_keys_are_short_and_follow_normalisation() {
        let a = super::account_limit_key(" Alice@Example.com ");
        assert_eq!(a, super::account_limit_key("alice@example.com"));
        assert_ne!(a, super::account_limit_key("bob@example.com"));
        assert_eq!(
            super::account_limit_key(&"x".repeat(1_000_000)).len(),
            a.len()
        );
    }
}
