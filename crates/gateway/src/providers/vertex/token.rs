//! The token endpoint's answer: `{"access_token","expires_in","token_type"}`
//! on success, `{"error","error_description"}` otherwise.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;

use super::VertexError;

/// Lifetime assumed when the endpoint does not say (Google's tokens last an hour).
const DEFAULT_LIFETIME: Duration = Duration::from_secs(3600);

/// Longest upstream text copied into an error message.
const MAX_MESSAGE: usize = 300;

/// An OAuth access token and how long it is valid from when it was issued.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken {
    /// The bearer token.
    pub token: String,
    /// Validity from the moment of the answer.
    pub lifetime: Duration,
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("token", &"<redacted>")
            .field("lifetime", &self.lifetime)
            .finish()
    }
}

#[derive(Deserialize)]
struct Answer {
    access_token: Option<String>,
    expires_in: Option<u64>,
    token_type: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    match text.char_indices().nth(MAX_MESSAGE) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// The token in a token endpoint's answer of HTTP `status`, or why there is none.
pub fn parse_token_response(status: u16, body: &[u8]) -> Result<AccessToken, VertexError> {
    let answer = serde_json::from_slice::<Answer>(body).ok();
    if !(200..300).contains(&status) {
        let reason = answer
            .and_then(|a| match (a.error, a.error_description) {
                (Some(e), Some(d)) => Some(format!("{e}: {d}")),
                (e, d) => e.or(d),
            })
            .unwrap_or_else(|| excerpt(body));
        return Err(VertexError::Token(format!("HTTP {status}: {reason}")));
    }
    let answer = answer.ok_or_else(|| VertexError::Token("the answer is not JSON".into()))?;
    if let Some(kind) = answer.token_type.as_deref()
        && !kind.eq_ignore_ascii_case("bearer")
    {
        return Err(VertexError::Token(format!(
            "unexpected token type `{kind}`"
        )));
    }
    let token = answer
        .access_token
        .filter(|t| !t.is_empty())
        .ok_or_else(|| VertexError::Token("the answer has no access_token".into()))?;
    if token.chars().any(|c| c.is_control() || c == ' ') {
        return Err(VertexError::Token(
            "the access_token is not a header-safe string".into(),
        ));
    }
    Ok(AccessToken {
        token,
        lifetime: answer
            .expires_in
            .map_or(DEFAULT_LIFETIME, Duration::from_secs),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success() {
        let t = parse_token_response(
            200,
            br#"{"access_token":"ya29.x","expires_in":3599,"token_type":"Bearer"}"#,
        )
        .unwrap();
        assert_eq!(t.token, "ya29.x");
        assert_eq!(t.lifetime, Duration::from_secs(3599));
        assert!(!format!("{t:?}").contains("ya29"));
        let t = parse_token_response(200, br#"{"access_token":"t"}"#).unwrap();
        assert_eq!(t.lifetime, DEFAULT_LIFETIME);
    }

    #[test]
    fn failures_explain_themselves() {
        let e = parse_token_response(
            400,
            br#"{"error":"invalid_grant","error_description":"Invalid JWT Signature."}"#,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "token endpoint: HTTP 400: invalid_grant: Invalid JWT Signature."
        );
        let e = parse_token_response(503, b"<html>down</html>").unwrap_err();
        assert!(e.to_string().contains("HTTP 503: <html>down</html>"));
        assert!(
            parse_token_response(200, b"nope")
                .unwrap_err()
                .to_string()
                .contains("not JSON")
        );
        assert!(
            parse_token_response(200, br#"{"expires_in":5}"#)
                .unwrap_err()
                .to_string()
                .contains("no access_token")
        );
        assert!(parse_token_response(200, br#"{"access_token":"a","token_type":"mac"}"#).is_err());
        assert!(parse_token_response(200, b"{\"access_token\":\"a\\nb\"}").is_err());
    }
}
