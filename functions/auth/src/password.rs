//! Password hashing with argon2id (the crate's defaults: 19 MiB, 2 passes, 1 lane,
//! OWASP's recommended minimum), off the async threads.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

#[derive(Debug, thiserror::Error)]
#[error("password hashing: {0}")]
pub struct HashError(String);

pub async fn hash(password: String) -> Result<String, HashError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| HashError(e.to_string()))
    })
    .await
    .map_err(|e| HashError(e.to_string()))?
}

/// True when the password matches; a malformed stored hash is an error. An
/// account made by a social login has no password (empty hash): never a match.
pub async fn verify(password: String, stored: String) -> Result<bool, HashError> {
    if stored.is_empty() {
        return Ok(false);
    }
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&stored).map_err(|e| HashError(e.to_string()))?;
        Ok(Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
    })
    .await
    .map_err(|e| HashError(e.to_string()))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_salted_and_verify() {
        let a = hash("secret12!".into()).await.unwrap();
        let b = hash("secret12!".into()).await.unwrap();
        assert!(a.starts_with("$argon2id$"));
        assert_ne!(a, b, "salted");
        assert!(verify("secret12!".into(), a.clone()).await.unwrap());
        assert!(!verify("secret12?".into(), a).await.unwrap());
        assert!(verify("x".into(), "not a hash".into()).await.is_err());
        assert!(!verify("".into(), "".into()).await.unwrap(), "no password set: nothing matches");
    }
}
