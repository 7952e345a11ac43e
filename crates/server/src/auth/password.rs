//! Password hashing: argon2id with the argon2 crate's default parameters, stored as PHC
//! strings (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`).
//!
//! Hashing and verifying are slow on purpose: call them off the async runtime, inside a
//! `Db` closure or `tokio::task::spawn_blocking`.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::RngCore;

use crate::error::{AppError, AppResult};

/// A hash of a password nobody knows, with the default parameters, so that
/// [`verify_dummy`] costs what a real verification costs.
const DUMMY_PHC: &str = "$argon2id$v=19$m=19456,t=2,p=1$bXVzdGVyLWR1bW15LXNsdA$\
                         8vLR9g7LYQzJpoixcIDaRRILPLvtRTBUAsmLO4pBJgQ";

/// Hashes `password` with argon2id and a fresh random 128-bit salt.
pub fn hash_password(password: &str) -> AppResult<String> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt)
        .map_err(|error| AppError::internal(format_args!("password salt: {error}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| AppError::internal(format_args!("password hash: {error}")))
}

/// Whether `password` matches the PHC string `phc`. A malformed stored hash matches nothing.
pub fn verify_password(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(hash) => Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok(),
        Err(_) => {
            tracing::warn!("a stored password hash is not a valid PHC string");
            false
        }
    }
}

/// Spends as long as a real verification and answers nothing: used when the account is
/// unknown (or has no password), so response times do not reveal which emails exist.
pub fn verify_dummy(password: &str) {
    let _ = verify_password(password, DUMMY_PHC);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn hash_then_verify() {
        let phc = hash_password("correct horse battery staple").unwrap();
        assert!(
            phc.starts_with("$argon2id$"),
            "hashes must be argon2id PHC strings: {phc}"
        );
        assert!(
            verify_password("correct horse battery staple", &phc),
            "the right password"
        );
        assert!(
            !verify_password("Correct horse battery staple", &phc),
            "case matters"
        );
        assert!(
            !verify_password("x", "not a phc string"),
            "garbage hashes match nothing"
        );
    }

    #[test]
    fn dummy_costs_what_a_real_hash_costs() {
        let real = PasswordHash::new(&hash_password("p").unwrap())
            .unwrap()
            .params
            .to_string();
        let dummy = PasswordHash::new(DUMMY_PHC).unwrap().params.to_string();
        assert_eq!(
            real, dummy,
            "the dummy hash must use today's parameters to hide timing"
        );
    }
}
