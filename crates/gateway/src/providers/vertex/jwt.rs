//! The OAuth 2.0 JWT-bearer grant of a service account: the assertion's
//! claims, its RS256 signature and the form body posted to the token URI.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};

use super::{ServiceAccount, VertexError};

/// The scope Vertex AI calls need.
pub const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";

/// The grant type of the token request.
pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// How long an assertion is valid (Google's maximum: one hour).
pub const ASSERTION_LIFETIME_SECS: u64 = 3600;

/// The claims of a service account's assertion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssertionClaims {
    /// Issuer: the service account's email.
    pub iss: String,
    /// Space-separated scopes asked for.
    pub scope: String,
    /// Audience: the token URI.
    pub aud: String,
    /// Issued at (Unix seconds).
    pub iat: u64,
    /// Expiry (Unix seconds).
    pub exp: u64,
}

/// The claims for an assertion issued at `now` (Unix seconds).
pub fn assertion_claims(account: &ServiceAccount, now: u64) -> AssertionClaims {
    AssertionClaims {
        iss: account.client_email.clone(),
        scope: SCOPE.to_owned(),
        aud: account.token_uri.clone(),
        iat: now,
        exp: now + ASSERTION_LIFETIME_SECS,
    }
}

/// The signed assertion (`header.claims.signature`, RS256, `kid` set to the
/// key's id when the service account has one).
pub fn sign_assertion(account: &ServiceAccount, now: u64) -> Result<String, VertexError> {
    let mut header = Header::new(Algorithm::RS256);
    header.kid.clone_from(&account.private_key_id);
    let key = EncodingKey::from_rsa_der(&account.private_key_der);
    jsonwebtoken::encode(&header, &assertion_claims(account, now), &key)
        .map_err(|e| VertexError::Sign(e.to_string()))
}

/// The `application/x-www-form-urlencoded` body exchanging `assertion` for a token.
pub fn token_request_body(assertion: &str) -> String {
    format!(
        "grant_type={}&assertion={}",
        urlencoding::encode(GRANT_TYPE),
        urlencoding::encode(assertion)
    )
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{DecodingKey, Validation, decode, decode_header};

    use super::*;
    use crate::providers::vertex::rsa_private_key_der;

    const TEST_PEM: &str = include_str!("../../../tests/fixtures/vertex/test-sa-private.pem");
    const TEST_PUBLIC_PEM: &str = include_str!("../../../tests/fixtures/vertex/test-sa-public.pem");

    fn account() -> ServiceAccount {
        ServiceAccount {
            client_email: "svc@proj.iam.gserviceaccount.com".into(),
            private_key_id: Some("kid-7".into()),
            token_uri: "https://oauth2.googleapis.com/token".into(),
            private_key_der: rsa_private_key_der(TEST_PEM).unwrap(),
        }
    }

    /// The fixture's PKCS#1 public key as DER.
    fn public_der() -> Vec<u8> {
        use base64::Engine;
        let body: String = TEST_PUBLIC_PEM
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        base64::engine::general_purpose::STANDARD
            .decode(body)
            .unwrap()
    }

    #[test]
    fn claims_follow_the_jwt_bearer_grant() {
        let c = assertion_claims(&account(), 1_700_000_000);
        assert_eq!(
            c,
            AssertionClaims {
                iss: "svc@proj.iam.gserviceaccount.com".into(),
                scope: SCOPE.into(),
                aud: "https://oauth2.googleapis.com/token".into(),
                iat: 1_700_000_000,
                exp: 1_700_003_600,
            }
        );
    }

    #[test]
    fn assertion_is_rs256_and_verifies_with_the_public_key() {
        let now = 1_700_000_000;
        let jwt = sign_assertion(&account(), now).unwrap();
        let header = decode_header(&jwt).unwrap();
        assert_eq!(header.alg, Algorithm::RS256);
        assert_eq!(header.kid.as_deref(), Some("kid-7"));
        let mut validation = Validation::new(Algorithm::RS256);
        validation.validate_exp = false;
        validation.set_audience(&["https://oauth2.googleapis.com/token"]);
        validation.set_required_spec_claims(&["exp", "aud"]);
        let data =
            decode::<AssertionClaims>(&jwt, &DecodingKey::from_rsa_der(&public_der()), &validation)
                .unwrap();
        assert_eq!(data.claims, assertion_claims(&account(), now));
        // A tampered payload fails verification.
        let mut parts: Vec<&str> = jwt.split('.').collect();
        let other = sign_assertion(&account(), now + 1).unwrap();
        parts[1] = other.split('.').nth(1).unwrap();
        assert!(
            decode::<AssertionClaims>(
                &parts.join("."),
                &DecodingKey::from_rsa_der(&public_der()),
                &validation
            )
            .is_err()
        );
    }

    #[test]
    fn unusable_key_is_an_error_not_a_panic() {
        let mut a = account();
        a.private_key_der = vec![0x30, 0x00];
        assert!(matches!(sign_assertion(&a, 1), Err(VertexError::Sign(_))));
    }

    #[test]
    fn form_body_is_url_encoded() {
        assert_eq!(
            token_request_body("a.b+c/d="),
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=a.b%2Bc%2Fd%3D"
        );
    }
}
