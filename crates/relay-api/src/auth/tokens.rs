//! Access tokens (JWT, HS256 pinned, short-lived) and refresh tokens (random, opaque,
//! stored only as SHA-256 hashes).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use relay_core::{RefreshFamilyId, Role, UserId};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub const ISSUER: &str = "relay";
pub const AUDIENCE: &str = "relay-api";
const REFRESH_PREFIX: &str = "rt_";

/// What an access token says.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    pub sub: uuid::Uuid,
    pub exp: u64,
    pub iat: u64,
    pub jti: uuid::Uuid,
    pub role: Role,
    /// The refresh family (the login) this token belongs to.
    pub fid: uuid::Uuid,
}

/// Signs and verifies access tokens with one HMAC secret.
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    access_ttl: Duration,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeys")
            .field("access_ttl", &self.access_ttl)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("token could not be signed: {0}")]
pub struct SignError(#[from] jsonwebtoken::errors::Error);

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

impl TokenKeys {
    pub fn new(secret: &[u8], access_ttl: Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.leeway = 5;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            access_ttl,
        }
    }

    pub fn access_ttl(&self) -> Duration {
        self.access_ttl
    }

    /// A fresh access token for a user within one login.
    pub fn issue(
        &self,
        user: UserId,
        role: Role,
        family: RefreshFamilyId,
    ) -> Result<String, SignError> {
        let iat = now_secs();
        let claims = Claims {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            sub: user.as_uuid(),
            exp: iat + self.access_ttl.as_secs(),
            iat,
            jti: uuid::Uuid::new_v4(),
            role,
            fid: family.as_uuid(),
        };
        self.sign(&claims)
    }

    pub fn sign(&self, claims: &Claims) -> Result<String, SignError> {
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            claims,
            &self.encoding,
        )?)
    }

    /// Verifies signature, algorithm, issuer, audience and expiry.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .ok()
            .map(|data| data.claims)
    }
}

/// A new refresh token: `rt_` and 32 random bytes, URL-safe.
pub fn new_refresh_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(format!("{REFRESH_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)))
}

/// What the database keeps of a refresh token.
pub fn refresh_token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> TokenKeys {
        TokenKeys::new(
            b"0123456789abcdef0123456789abcdef",
            Duration::from_secs(900),
        )
    }

    fn claims(exp_offset: i64) -> Claims {
        let now = now_secs();
        Claims {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            sub: uuid::Uuid::new_v4(),
            exp: now.saturating_add_signed(exp_offset),
            iat: now,
            jti: uuid::Uuid::new_v4(),
            role: Role::User,
            fid: uuid::Uuid::new_v4(),
        }
    }

    #[test]
    fn issued_tokens_verify_and_carry_their_claims() {
        let keys = keys();
        let (user, family) = (UserId::new(), RefreshFamilyId::new());
        let token = keys.issue(user, Role::Admin, family).expect("sign");
        let claims = keys.verify(&token).expect("valid");
        assert_eq!(claims.sub, user.as_uuid());
        assert_eq!(claims.fid, family.as_uuid());
        assert_eq!(claims.role, Role::Admin);
        assert_eq!(claims.exp - claims.iat, 900);
    }

    #[test]
    fn tampered_expired_foreign_and_unsigned_tokens_are_refused() {
        let keys = keys();
        let good = keys.sign(&claims(600)).expect("sign");
        let mut tampered = good.clone();
        tampered.pop();
        tampered.push(if good.ends_with('A') { 'B' } else { 'A' });
        assert!(keys.verify(&tampered).is_none(), "bad signature");
        assert!(
            keys.verify(&keys.sign(&claims(-60)).expect("sign"))
                .is_none(),
            "expired"
        );
        let mut wrong_aud = claims(600);
        wrong_aud.aud = "someone-else".into();
        assert!(
            keys.verify(&keys.sign(&wrong_aud).expect("sign")).is_none(),
            "audience"
        );
        let other = TokenKeys::new(
            b"another-secret-another-secret-xx",
            Duration::from_secs(900),
        );
        assert!(
            keys.verify(&other.sign(&claims(600)).expect("sign"))
                .is_none(),
            "other key"
        );

        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims(600)).expect("json"));
        let none = format!(
            "{}.{body}.",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#)
        );
        assert!(keys.verify(&none).is_none(), "alg none");
        let hs512 = jsonwebtoken::encode(
            &Header::new(Algorithm::HS512),
            &claims(600),
            &EncodingKey::from_secret(b"0123456789abcdef0123456789abcdef"),
        )
        .expect("sign");
        assert!(keys.verify(&hs512).is_none(), "another algorithm");
        assert!(keys.verify("not a token").is_none());
    }

    #[test]
    fn refresh_tokens_are_random_and_hashed() {
        let a = new_refresh_token().expect("random");
        let b = new_refresh_token().expect("random");
        assert_ne!(a, b);
        assert!(a.starts_with("rt_") && a.len() == 3 + 43, "{a}");
        assert_eq!(refresh_token_hash(&a), refresh_token_hash(&a));
        assert_ne!(refresh_token_hash(&a), refresh_token_hash(&b));
    }
}
