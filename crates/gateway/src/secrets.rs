//! Keys at rest: token keys and channel keys are sealed (AES-256-GCM) with
//! a key from the environment (`ENCRYPTION_KEY`) before they reach the
//! database, so a database dump hands out no working key. Token lookups
//! never need the plaintext: the relay finds tokens by the SHA-256 of the
//! key (the `key_hash` column and the snapshot's map).
//!
//! Sits under `store`: rows are sealed on write and opened on read. Sealed
//! values read `enc:v1:<base64(nonce ‖ ciphertext ‖ tag)>`; any other value
//! is a plaintext one written without a key (or before one was set) and
//! is read as is — at start-up such rows are sealed once a key is set.
//! The database keeps a sealed check value, so an instance started with a
//! different key refuses to start instead of failing every key later.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use thiserror::Error;

/// Prefix of sealed values.
pub const SEALED_PREFIX: &str = "enc:v1:";

/// The plaintext the database's check value seals.
const CHECK_PLAINTEXT: &str = "switchyard key check";

/// Why a value cannot be sealed or opened.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum SecretError {
    /// The value is sealed but no `ENCRYPTION_KEY` is configured.
    #[error("a key in the database is encrypted but ENCRYPTION_KEY is not set")]
    NoKey,
    /// The value is sealed with another key, or damaged.
    #[error("a key in the database cannot be decrypted: wrong ENCRYPTION_KEY or damaged value")]
    Undecryptable,
    /// The system random generator failed.
    #[error("random generator failed")]
    Random,
}

/// Seals and opens keys; without a configured key, a pass-through.
pub struct Secrets {
    key: Option<LessSafeKey>,
    random: SystemRandom,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secrets")
            .field("sealing", &self.key.is_some())
            .finish()
    }
}

impl Secrets {
    /// Secrets for `passphrase` (any string; the AES key is its SHA-256),
    /// or a pass-through when `None`.
    pub fn new(passphrase: Option<&str>) -> Self {
        let key = passphrase.filter(|p| !p.is_empty()).and_then(|p| {
            let hash = digest(&SHA256, p.as_bytes());
            UnboundKey::new(&AES_256_GCM, hash.as_ref())
                .ok()
                .map(LessSafeKey::new)
        });
        Self {
            key,
            random: SystemRandom::new(),
        }
    }

    /// True when values are sealed.
    pub fn is_sealing(&self) -> bool {
        self.key.is_some()
    }

    /// Seal `plaintext` (unchanged without a key; empty stays empty).
    pub fn seal(&self, plaintext: &str) -> Result<String, SecretError> {
        let Some(key) = &self.key else {
            return Ok(plaintext.to_owned());
        };
        if plaintext.is_empty() {
            return Ok(String::new());
        }
        let mut nonce = [0u8; NONCE_LEN];
        self.random
            .fill(&mut nonce)
            .map_err(|_| SecretError::Random)?;
        let mut data = plaintext.as_bytes().to_vec();
        key.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::empty(), &mut data)
            .map_err(|_| SecretError::Random)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        Ok(format!("{SEALED_PREFIX}{}", STANDARD.encode(out)))
    }

    /// Open a stored value: sealed values are decrypted, others returned as is.
    pub fn open(&self, stored: &str) -> Result<String, SecretError> {
        let Some(sealed) = stored.strip_prefix(SEALED_PREFIX) else {
            return Ok(stored.to_owned());
        };
        let key = self.key.as_ref().ok_or(SecretError::NoKey)?;
        let bytes = STANDARD
            .decode(sealed)
            .map_err(|_| SecretError::Undecryptable)?;
        if bytes.len() < NONCE_LEN {
            return Err(SecretError::Undecryptable);
        }
        let (nonce, data) = bytes.split_at(NONCE_LEN);
        let nonce =
            Nonce::try_assume_unique_for_key(nonce).map_err(|_| SecretError::Undecryptable)?;
        let mut data = data.to_vec();
        let plain = key
            .open_in_place(nonce, Aad::empty(), &mut data)
            .map_err(|_| SecretError::Undecryptable)?;
        String::from_utf8(plain.to_vec()).map_err(|_| SecretError::Undecryptable)
    }

    /// A sealed check value to keep in the database.
    pub fn check_value(&self) -> Result<String, SecretError> {
        self.seal(CHECK_PLAINTEXT)
    }

    /// Whether a stored check value was sealed with this key.
    pub fn verify(&self, check: &str) -> Result<(), SecretError> {
        match self.open(check)? {
            plain if plain == CHECK_PLAINTEXT => Ok(()),
            _ => Err(SecretError::Undecryptable),
        }
    }
}

/// `sk-ab…yz`-style masking for keys in process logs and errors.
pub fn mask(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() <= 8 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail}")
}

/// `text` with every secret part of `key` (the whole key, and each
/// `|`-separated part of at least 8 characters, as multi-part keys are
/// written) masked; `None` when nothing had to change. Upstreams sometimes
/// echo the key they were sent in their error bodies, which end up in logs.
pub fn redact(text: &str, key: &str) -> Option<String> {
    let mut out: Option<String> = None;
    let parts = std::iter::once(key).chain(key.split('|'));
    for part in parts.filter(|p| p.chars().count() >= 8) {
        let current = out.as_deref().unwrap_or(text);
        if current.contains(part) {
            out = Some(current.replace(part, &mask(part)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_and_open_round_trip_with_fresh_nonces() {
        let s = Secrets::new(Some("correct horse"));
        let a = s.seal("sk-secret").unwrap();
        let b = s.seal("sk-secret").unwrap();
        assert!(a.starts_with(SEALED_PREFIX));
        assert_ne!(a, b, "a fresh nonce each time");
        assert!(!a.contains("sk-secret"));
        assert_eq!(s.open(&a).unwrap(), "sk-secret");
        assert_eq!(s.open("plain-legacy").unwrap(), "plain-legacy");
        assert_eq!(s.seal("").unwrap(), "");
    }

    #[test]
    fn wrong_or_missing_keys_are_refused() {
        let sealed = Secrets::new(Some("one")).seal("sk-secret").unwrap();
        assert_eq!(
            Secrets::new(Some("two")).open(&sealed),
            Err(SecretError::Undecryptable)
        );
        assert_eq!(Secrets::new(None).open(&sealed), Err(SecretError::NoKey));
        let check = Secrets::new(Some("one")).check_value().unwrap();
        assert!(Secrets::new(Some("one")).verify(&check).is_ok());
        assert!(Secrets::new(Some("two")).verify(&check).is_err());
        let mut damaged = sealed.clone();
        damaged.pop();
        assert!(Secrets::new(Some("one")).open(&damaged).is_err());
    }

    #[test]
    fn pass_through_without_a_key_and_masking() {
        let s = Secrets::new(None);
        assert!(!s.is_sealing());
        assert_eq!(s.seal("sk-x").unwrap(), "sk-x");
        assert_eq!(mask("sk-abcdefghijkl"), "sk-a…ijkl");
        assert_eq!(mask("short"), "*****");
    }

    #[test]
    fn redaction_masks_whole_keys_and_their_parts() {
        let body = r#"{"error":"Incorrect API key provided: sk-live-0123456789"}"#;
        let redacted = redact(body, "sk-live-0123456789").unwrap();
        assert!(!redacted.contains("0123456789"), "{redacted}");
        assert!(redacted.contains("sk-l…6789"));
        let multi = redact(
            "bad secret AKIAEXAMPLE1234 and SECRETxyz987654",
            "AKIAEXAMPLE1234|SECRETxyz987654|us-east-1",
        )
        .unwrap();
        assert!(
            !multi.contains("EXAMPLE1") && !multi.contains("xyz98"),
            "{multi}"
        );
        assert_eq!(redact("nothing to see", "sk-live-0123456789"), None);
        assert_eq!(redact("short k", "k"), None, "short keys are not searched");
    }
}
