//! The Vertex AI channel key (AI Proxy's formats): `region|{service account
//! JSON}` (OAuth through the service account), `region|api_key` (express
//! mode: no project in the URL) or `region|project_id|api_key`. An empty
//! region means `global`.

use std::fmt;

use serde::Deserialize;

use super::VertexError;
use super::pem::rsa_private_key_der;

/// Google's OAuth token endpoint, used when the service account names none.
pub const DEFAULT_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";

/// The parts of a service-account JSON key the JWT-bearer grant needs.
#[derive(Clone, PartialEq, Eq)]
pub struct ServiceAccount {
    /// `client_email`: the JWT's issuer.
    pub client_email: String,
    /// `private_key_id`: the JWT header's `kid`, when present.
    pub private_key_id: Option<String>,
    /// `token_uri`: where the assertion is exchanged (also the JWT's audience).
    pub token_uri: String,
    /// The RSA private key as PKCS#1 DER, ready for RS256 signing.
    pub private_key_der: Vec<u8>,
}

impl fmt::Debug for ServiceAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceAccount")
            .field("client_email", &self.client_email)
            .field("private_key_id", &self.private_key_id)
            .field("token_uri", &self.token_uri)
            .field("private_key_der", &"<redacted>")
            .finish()
    }
}

/// How requests of a Vertex channel authenticate.
#[derive(Clone, PartialEq, Eq)]
pub enum VertexAuth {
    /// `Authorization: Bearer <OAuth token>` obtained with the service account.
    ServiceAccount(ServiceAccount),
    /// `x-goog-api-key: <key>`.
    ApiKey(String),
}

impl fmt::Debug for VertexAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ServiceAccount(sa) => f.debug_tuple("ServiceAccount").field(sa).finish(),
            Self::ApiKey(_) => f.write_str("ApiKey(<redacted>)"),
        }
    }
}

/// A parsed Vertex channel key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VertexKey {
    /// Location, e.g. `us-east5`, or `global`.
    pub region: String,
    /// Project id (from the service account, or the key's middle field).
    pub project_id: Option<String>,
    /// Credentials.
    pub auth: VertexAuth,
}

const SHAPES: &str =
    "expected `region|{service account JSON}`, `region|api_key` or `region|project_id|api_key`";

#[derive(Deserialize)]
struct RawServiceAccount {
    #[serde(rename = "type")]
    kind: Option<String>,
    project_id: Option<String>,
    private_key_id: Option<String>,
    private_key: Option<String>,
    client_email: Option<String>,
    token_uri: Option<String>,
}

fn region(value: &str) -> Result<String, VertexError> {
    if value.is_empty() {
        return Ok("global".to_owned());
    }
    let valid = value
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !valid {
        return Err(VertexError::Key(format!(
            "`{value}` is not a Google Cloud location (like `us-east5` or `global`); {SHAPES}"
        )));
    }
    Ok(value.to_owned())
}

fn plain(value: &str, what: &str) -> Result<String, VertexError> {
    if value.is_empty() {
        return Err(VertexError::Key(format!("the {what} is empty ({SHAPES})")));
    }
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(VertexError::Key(format!("the {what} contains whitespace")));
    }
    Ok(value.to_owned())
}

fn required(value: Option<String>, what: &str) -> Result<String, VertexError> {
    value
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| VertexError::Key(format!("the service account JSON has no `{what}`")))
}

impl ServiceAccount {
    /// Parse a service-account JSON key; returns it with its `project_id`.
    pub fn from_json(json: &str) -> Result<(Self, String), VertexError> {
        let raw: RawServiceAccount = serde_json::from_str(json).map_err(|e| {
            VertexError::Key(format!("the service account JSON does not parse: {e}"))
        })?;
        if let Some(kind) = raw.kind.as_deref()
            && kind != "service_account"
        {
            return Err(VertexError::Key(format!(
                "credentials of type `{kind}` are not supported; use a service-account key"
            )));
        }
        let project = required(raw.project_id, "project_id")?;
        let client_email = required(raw.client_email, "client_email")?;
        let pem = required(raw.private_key, "private_key")?;
        let token_uri = raw
            .token_uri
            .map(|u| u.trim().to_owned())
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| DEFAULT_TOKEN_URI.to_owned());
        if !(token_uri.starts_with("https://") || token_uri.starts_with("http://")) {
            return Err(VertexError::Key(
                "the service account's `token_uri` is not an http(s) URL".into(),
            ));
        }
        let account = Self {
            client_email,
            private_key_id: raw.private_key_id.filter(|k| !k.is_empty()),
            token_uri,
            private_key_der: rsa_private_key_der(&pem)?,
        };
        Ok((account, project))
    }
}

impl VertexKey {
    /// Parse a channel key. The region is the part before the first `|`; a
    /// rest starting with `{` is a service-account JSON (whose own `|`
    /// characters, if any, are kept). Error messages never repeat a secret.
    pub fn parse(key: &str) -> Result<Self, VertexError> {
        let Some((region_part, rest)) = key.trim().split_once('|') else {
            return Err(VertexError::Key(format!("no `|` in the key; {SHAPES}")));
        };
        let region = region(region_part.trim())?;
        let rest = rest.trim();
        if rest.starts_with('{') {
            let (account, project) = ServiceAccount::from_json(rest)?;
            return Ok(Self {
                region,
                project_id: Some(project),
                auth: VertexAuth::ServiceAccount(account),
            });
        }
        let parts: Vec<&str> = rest.split('|').map(str::trim).collect();
        let (project_id, api_key) = match parts.as_slice() {
            [api_key] => (None, plain(api_key, "API key")?),
            [project, api_key] => (
                Some(plain(project, "project id")?),
                plain(api_key, "API key")?,
            ),
            _ => {
                return Err(VertexError::Key(format!(
                    "{} `|`-separated field(s); {SHAPES}",
                    parts.len() + 1
                )));
            }
        };
        Ok(Self {
            region,
            project_id,
            auth: VertexAuth::ApiKey(api_key),
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    pub(crate) const TEST_PEM: &str =
        include_str!("../../../tests/fixtures/vertex/test-sa-private.pem");

    fn sa_json(extra: serde_json::Value) -> String {
        let mut v = json!({"type": "service_account", "project_id": "proj-1",
            "private_key_id": "kid-1", "private_key": TEST_PEM,
            "client_email": "svc@proj-1.iam.gserviceaccount.com",
            "token_uri": "https://oauth2.googleapis.com/token"});
        if let (Some(obj), Some(more)) = (v.as_object_mut(), extra.as_object()) {
            for (k, val) in more {
                obj.insert(k.clone(), val.clone());
            }
        }
        v.to_string()
    }

    fn err(key: &str) -> String {
        VertexKey::parse(key).unwrap_err().to_string()
    }

    #[test]
    fn service_account_key() {
        let k = VertexKey::parse(&format!("us-east5|{}", sa_json(json!({})))).unwrap();
        assert_eq!(k.region, "us-east5");
        assert_eq!(k.project_id.as_deref(), Some("proj-1"));
        let VertexAuth::ServiceAccount(sa) = &k.auth else {
            panic!("{k:?}")
        };
        assert_eq!(sa.client_email, "svc@proj-1.iam.gserviceaccount.com");
        assert_eq!(sa.private_key_id.as_deref(), Some("kid-1"));
        assert_eq!(sa.token_uri, DEFAULT_TOKEN_URI);
        assert_eq!(sa.private_key_der[0], 0x30, "DER sequence");
        let debug = format!("{k:?}");
        assert!(debug.contains("redacted") && !debug.contains("MII"));

        let k = VertexKey::parse(&format!(
            " |{}",
            sa_json(json!({"token_uri": "http://127.0.0.1:9/token"}))
        ))
        .unwrap();
        assert_eq!(k.region, "global");
        let VertexAuth::ServiceAccount(sa) = &k.auth else {
            panic!("{k:?}")
        };
        assert_eq!(sa.token_uri, "http://127.0.0.1:9/token");
        let k = VertexKey::parse(&format!("global|{}", sa_json(json!({"token_uri": ""})))).unwrap();
        let VertexAuth::ServiceAccount(sa) = &k.auth else {
            panic!("{k:?}")
        };
        assert_eq!(sa.token_uri, DEFAULT_TOKEN_URI);
    }

    #[test]
    fn api_key_forms() {
        let k = VertexKey::parse("us-central1|AQ.abc").unwrap();
        assert_eq!(
            (k.region.as_str(), k.project_id.as_deref()),
            ("us-central1", None)
        );
        assert_eq!(k.auth, VertexAuth::ApiKey("AQ.abc".into()));
        let k = VertexKey::parse("europe-west4|my-proj|AIza123").unwrap();
        assert_eq!(k.project_id.as_deref(), Some("my-proj"));
        assert_eq!(k.auth, VertexAuth::ApiKey("AIza123".into()));
        assert!(!format!("{k:?}").contains("AIza123"));
    }

    #[test]
    fn rejects_bad_keys_without_leaking_secrets() {
        assert!(err("AIza-no-region").contains("no `|`"));
        assert!(err("US_EAST|k").contains("not a Google Cloud location"));
        assert!(err("us-east5|").contains("API key is empty"));
        assert!(err("us-east5|p|k|x").contains("4 `|`-separated"));
        let e = err("us-east5|top secret");
        assert!(e.contains("whitespace") && !e.contains("top secret"));
        assert!(err("us-east5|{not json").contains("does not parse"));
        assert!(
            err(&format!(
                "us-east5|{}",
                sa_json(json!({"project_id": null}))
            ))
            .contains("project_id")
        );
        assert!(
            err(&format!(
                "us-east5|{}",
                sa_json(json!({"type": "authorized_user"}))
            ))
            .contains("authorized_user")
        );
        assert!(
            err(&format!(
                "us-east5|{}",
                sa_json(json!({"token_uri": "file:///etc/passwd"}))
            ))
            .contains("token_uri")
        );
        let e = err(&format!(
            "us-east5|{}",
            sa_json(
                json!({"private_key": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"})
            )
        ));
        assert!(e.contains("private key"), "{e}");
    }
}
