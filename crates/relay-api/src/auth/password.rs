//! Password hashing with argon2id (m = 19456 KiB, t = 2, p = 1, the OWASP minimum), run on
//! the blocking pool so a burst of logins never stalls the async runtime.

use argon2::{Algorithm, Argon2, Params, Version};
use argon2::{PasswordHasher, PasswordVerifier};

const MEMORY_KIB: u32 = 19_456;
const ITERATIONS: u32 = 2;
const PARALLELISM: u32 = 1;

/// A hash of a random password with the same parameters. Checking a password against it
/// costs what a real check costs, so an unknown email takes as long as a wrong password.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$oGvbOyHKQn6jq/0zBVmaoA$ZiioJaS2nX/eYoDscmRLtgDubNY0IK3D8bTR+pUMxm0";

/// At most this many hashes at once: each takes 19 MiB and a core, and a flood of sign-ups
/// or sign-ins must queue here rather than exhaust memory on the blocking pool.
fn permits() -> &'static tokio::sync::Semaphore {
    static PERMITS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    PERMITS.get_or_init(|| {
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        tokio::sync::Semaphore::new(cores * 2)
    })
}

fn argon2() -> Argon2<'static> {
    // The parameters are constants within argon2's bounds.
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("hashing failed: {0}")]
    Hash(String),
    #[error("the blocking pool is gone")]
    Join(#[from] tokio::task::JoinError),
}

/// Hashes a new password (PHC string with a random salt).
pub async fn hash(password: String) -> Result<String, PasswordError> {
    let _permit = permits()
        .acquire()
        .await
        .map_err(|_| PasswordError::Hash("shutting down".into()))?;
    tokio::task::spawn_blocking(move || hash_blocking(&password)).await?
}

pub fn hash_blocking(password: &str) -> Result<String, PasswordError> {
    argon2()
        .hash_password(password.as_bytes())
        .map(|h: argon2::PasswordHash| h.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// Checks a password against a stored hash; `None` checks against the dummy hash, taking
/// the same time, and is always false.
pub async fn verify(password: String, stored: Option<String>) -> Result<bool, PasswordError> {
    let _permit = permits()
        .acquire()
        .await
        .map_err(|_| PasswordError::Hash("shutting down".into()))?;
    tokio::task::spawn_blocking(move || {
        let (hash, real) = match &stored {
            Some(h) => (h.as_str(), true),
            None => (DUMMY_HASH, false),
        };
        argon2().verify_password(password.as_bytes(), hash).is_ok() && real
    })
    .await
    .map_err(PasswordError::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_use_argon2id_with_the_required_cost_and_verify() {
        let hashed = hash("correct horse battery".into()).await.expect("hash");
        assert!(
            hashed.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hashed}"
        );
        assert!(
            verify("correct horse battery".into(), Some(hashed.clone()))
                .await
                .expect("verify")
        );
        assert!(
            !verify("wrong horse battery".into(), Some(hashed))
                .await
                .expect("verify")
        );
    }

    #[tokio::test]
    async fn the_dummy_hash_has_the_same_cost_and_never_matches() {
        assert!(DUMMY_HASH.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        argon2::PasswordHash::new(DUMMY_HASH).expect("a valid PHC string");
        assert!(
            !verify("anything at all".into(), None)
                .await
                .expect("verify")
        );
    }
}
