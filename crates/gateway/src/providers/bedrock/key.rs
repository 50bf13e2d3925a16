//! The Bedrock channel key: `region|access_key_id|secret_access_key[|session_token]`
//! (SigV4) or `region|api_key` (a Bedrock API key sent as a bearer token).

use std::fmt;
use std::time::SystemTime;

use http::{HeaderName, HeaderValue};

use super::{BedrockError, SIGNING_SERVICE, SignRequest, sign_sigv4};

/// Long-term or temporary AWS credentials for SigV4.
#[derive(Clone, PartialEq, Eq)]
pub struct SigV4Credentials {
    /// Access key id (`AKIA…` / `ASIA…`).
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: String,
    /// Session token of temporary (STS) credentials.
    pub session_token: Option<String>,
}

impl fmt::Debug for SigV4Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigV4Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// How requests of a Bedrock channel authenticate.
#[derive(Clone, PartialEq, Eq)]
pub enum BedrockAuth {
    /// Sign every request with AWS SigV4.
    SigV4(SigV4Credentials),
    /// Send `Authorization: Bearer <api key>` (Bedrock API keys), no signing.
    ApiKey(String),
}

impl fmt::Debug for BedrockAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SigV4(c) => f.debug_tuple("SigV4").field(c).finish(),
            Self::ApiKey(_) => f.write_str("ApiKey(<redacted>)"),
        }
    }
}

/// A parsed Bedrock channel key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BedrockKey {
    /// AWS region, e.g. `us-east-1`.
    pub region: String,
    /// Credentials.
    pub auth: BedrockAuth,
}

const SHAPES: &str =
    "expected `region|access_key_id|secret_access_key[|session_token]` or `region|api_key`";

fn field<'a>(value: &'a str, what: &str) -> Result<&'a str, BedrockError> {
    if value.is_empty() {
        return Err(BedrockError::Key(format!("the {what} is empty ({SHAPES})")));
    }
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(BedrockError::Key(format!("the {what} contains whitespace")));
    }
    Ok(value)
}

fn region(value: &str) -> Result<String, BedrockError> {
    let value = field(value, "region")?;
    let valid = value
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && value.contains('-');
    if !valid {
        return Err(BedrockError::Key(format!(
            "`{value}` is not an AWS region (like `us-east-1`); {SHAPES}"
        )));
    }
    Ok(value.to_owned())
}

impl BedrockKey {
    /// Parse a channel key. Fields are separated by `|` and trimmed; error
    /// messages never repeat a secret.
    pub fn parse(key: &str) -> Result<Self, BedrockError> {
        let parts: Vec<&str> = key.trim().split('|').map(str::trim).collect();
        let auth = match parts.as_slice() {
            [_, api_key] => BedrockAuth::ApiKey(field(api_key, "API key")?.to_owned()),
            [_, ak, sk] | [_, ak, sk, ""] => BedrockAuth::SigV4(SigV4Credentials {
                access_key_id: field(ak, "access key id")?.to_owned(),
                secret_access_key: field(sk, "secret access key")?.to_owned(),
                session_token: None,
            }),
            [_, ak, sk, token] => BedrockAuth::SigV4(SigV4Credentials {
                access_key_id: field(ak, "access key id")?.to_owned(),
                secret_access_key: field(sk, "secret access key")?.to_owned(),
                session_token: Some(field(token, "session token")?.to_owned()),
            }),
            _ => {
                return Err(BedrockError::Key(format!(
                    "{} `|`-separated field(s); {SHAPES}",
                    parts.len()
                )));
            }
        };
        Ok(Self {
            region: region(parts[0])?,
            auth,
        })
    }

    /// The headers that authenticate one request: `Authorization: Bearer …`
    /// for an API key, else the SigV4 headers from [`sign_sigv4`] for service
    /// `bedrock` in this key's region. `request.headers` must be exactly the
    /// headers (besides `host`) the caller will send and wants signed.
    pub fn auth_headers(
        &self,
        request: &SignRequest<'_>,
        time: SystemTime,
    ) -> Result<Vec<(HeaderName, HeaderValue)>, BedrockError> {
        match &self.auth {
            BedrockAuth::ApiKey(key) => {
                let mut value = HeaderValue::try_from(format!("Bearer {key}")).map_err(|_| {
                    BedrockError::Key("the API key is not a valid header value".into())
                })?;
                value.set_sensitive(true);
                Ok(vec![(http::header::AUTHORIZATION, value)])
            }
            BedrockAuth::SigV4(credentials) => {
                sign_sigv4(request, credentials, &self.region, SIGNING_SERVICE, time)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(key: &str) -> String {
        BedrockKey::parse(key).unwrap_err().to_string()
    }

    #[test]
    fn parses_all_shapes() {
        let k = BedrockKey::parse(" us-east-1|AKIDEXAMPLE|secret ").unwrap();
        assert_eq!(k.region, "us-east-1");
        let BedrockAuth::SigV4(c) = &k.auth else {
            panic!("{k:?}")
        };
        assert_eq!(
            (c.access_key_id.as_str(), c.session_token.as_deref()),
            ("AKIDEXAMPLE", None)
        );
        let k = BedrockKey::parse("eu-west-3|ASIA1|sk|tok").unwrap();
        let BedrockAuth::SigV4(c) = &k.auth else {
            panic!("{k:?}")
        };
        assert_eq!(c.session_token.as_deref(), Some("tok"));
        let k = BedrockKey::parse("us-west-2|ABSKbedrockapikey").unwrap();
        assert_eq!(k.auth, BedrockAuth::ApiKey("ABSKbedrockapikey".into()));
        assert_eq!(
            BedrockKey::parse("us-east-1|a|b|").unwrap().auth,
            BedrockKey::parse("us-east-1|a|b").unwrap().auth
        );
    }

    #[test]
    fn rejects_bad_keys_without_leaking_secrets() {
        assert!(err("us-east-1").contains("1 `|`-separated field(s)"));
        assert!(err("a|b|c|d|e").contains("5 `|`-separated"));
        assert!(err("|ak|sk").contains("region is empty"));
        assert!(err("US_EAST|ak|sk").contains("not an AWS region"));
        assert!(err("us-east-1||topsecret").contains("access key id is empty"));
        let e = err("us-east-1|ak|top secret");
        assert!(e.contains("secret access key contains whitespace") && !e.contains("top secret"));
        assert!(err("us-east-1| ").contains("API key is empty"));
    }

    #[test]
    fn debug_redacts() {
        let k = BedrockKey::parse("us-east-1|AKID|s3cr3t|t0k3n").unwrap();
        let s = format!("{k:?}");
        assert!(s.contains("AKID") && !s.contains("s3cr3t") && !s.contains("t0k3n"));
        let s = format!("{:?}", BedrockKey::parse("us-east-1|apik3y").unwrap());
        assert!(!s.contains("apik3y"));
    }

    #[test]
    fn api_key_is_a_bearer_token() {
        let k = BedrockKey::parse("us-east-1|abc").unwrap();
        let req = SignRequest {
            method: "POST",
            url: "https://x.example/model/m/invoke",
            headers: &[],
            body: b"{}",
        };
        let h = k.auth_headers(&req, SystemTime::UNIX_EPOCH).unwrap();
        assert_eq!(h.len(), 1);
        assert_eq!(
            (h[0].0.as_str(), h[0].1.to_str().unwrap()),
            ("authorization", "Bearer abc")
        );
        assert!(h[0].1.is_sensitive());
    }
}
