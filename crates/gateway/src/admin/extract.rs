//! Admin request extractors whose rejections are envelopes: JSON bodies
//! (errors name the field path), query strings (empty values mean "no
//! filter", as FastGPT sends them), and paging.

use std::collections::HashMap;

use axum::extract::{FromRequest, FromRequestParts, Request};
use http::request::Parts;
use serde::de::DeserializeOwned;

use super::AdminError;
use crate::store::sql::Page;

/// Largest admin request body.
const MAX_ADMIN_BODY: usize = 16 * 1024 * 1024;

/// A JSON body; malformed input is a 400 naming the offending field.
#[derive(Debug)]
pub struct AdminJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for AdminJson<T> {
    type Rejection = AdminError;

    async fn from_request(request: Request, _state: &S) -> Result<Self, AdminError> {
        let bytes = axum::body::to_bytes(request.into_body(), MAX_ADMIN_BODY)
            .await
            .map_err(|e| AdminError::BadRequest(format!("cannot read request body: {e}")))?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(AdminError::BadRequest("request body is required".into()));
        }
        parse_json(&bytes).map(AdminJson)
    }
}

/// Parse JSON, naming the path of the first problem.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AdminError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." || path.is_empty() {
            AdminError::BadRequest(format!("invalid request body: {inner}"))
        } else {
            AdminError::BadRequest(format!("invalid request body: `{path}`: {inner}"))
        }
    })
}

/// Query parameters with typed, lenient getters.
#[derive(Debug, Default)]
pub struct AdminQuery(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for AdminQuery {
    type Rejection = AdminError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, AdminError> {
        let Some(query) = parts.uri.query() else {
            return Ok(Self::default());
        };
        let mut map = HashMap::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |s: &str| {
                urlencoding::decode(&s.replace('+', " "))
                    .map(|c| c.into_owned())
                    .map_err(|_| {
                        AdminError::BadRequest(format!("query parameter `{k}` is not valid UTF-8"))
                    })
            };
            map.insert(decode(k)?, decode(v)?);
        }
        Ok(Self(map))
    }
}

impl AdminQuery {
    /// A non-empty string value.
    pub fn text(&self, key: &str) -> Option<String> {
        self.0
            .get(key)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    /// An integer value; empty means absent, garbage is a 400.
    pub fn int(&self, key: &str) -> Result<Option<i64>, AdminError> {
        self.text(key)
            .map(|v| {
                v.parse::<i64>().map_err(|_| {
                    AdminError::BadRequest(format!("`{key}` must be an integer, got `{v}`"))
                })
            })
            .transpose()
    }

    /// An integer filter where 0 also means "no filter" (FastGPT sends `channel=0`).
    pub fn id_filter(&self, key: &str) -> Result<Option<i64>, AdminError> {
        Ok(self.int(key)?.filter(|v| *v != 0))
    }

    /// A boolean value.
    pub fn flag(&self, key: &str) -> Result<bool, AdminError> {
        match self.text(key) {
            None => Ok(false),
            Some(v) => crate::config::options::parse_bool(&v).ok_or_else(|| {
                AdminError::BadRequest(format!("`{key}` must be true or false, got `{v}`"))
            }),
        }
    }

    /// `page` (or `p`) and `per_page`.
    pub fn page(&self) -> Result<Page, AdminError> {
        let page = match self.int("page")? {
            Some(p) => Some(p),
            None => self.int("p")?,
        };
        Ok(Page::new(page, self.int("per_page")?))
    }

    /// A Unix timestamp in s, ms, µs or ns (decided by digit count, as AI Proxy does), as ms.
    pub fn timestamp_ms(&self, key: &str) -> Result<Option<i64>, AdminError> {
        let Some(value) = self.int(key)? else {
            return Ok(None);
        };
        if value < 0 {
            return Err(AdminError::BadRequest(format!(
                "`{key}` must not be negative"
            )));
        }
        let digits = value.to_string().len();
        Ok(Some(match digits {
            0..=10 => value.saturating_mul(1000),
            11..=13 => value,
            14..=16 => value / 1000,
            _ => value / 1_000_000,
        }))
    }
}

/// Parse a numeric id from a path segment (400 envelope instead of a plain-text rejection).
pub fn parse_id(raw: &str) -> Result<i64, AdminError> {
    raw.trim()
        .parse()
        .map_err(|_| AdminError::BadRequest(format!("`id` must be an integer, got `{raw}`")))
}

/// Ids in a batch body: a bare array `[1,2]` or `{"ids":[1,2]}`.
#[derive(Debug, serde::Deserialize)]
#[serde(untagged)]
pub enum IdList<T> {
    /// `[…]`.
    Bare(Vec<T>),
    /// `{"ids":[…]}`.
    Wrapped {
        /// The ids.
        ids: Vec<T>,
    },
}

impl<T> IdList<T> {
    /// The ids.
    pub fn into_vec(self) -> Vec<T> {
        match self {
            Self::Bare(v) | Self::Wrapped { ids: v } => v,
        }
    }
}

/// `{"status": n}`.
#[derive(Debug, serde::Deserialize)]
pub struct StatusBody {
    /// New status.
    pub status: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> AdminQuery {
        AdminQuery(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn empty_values_are_absent() {
        let query = q(&[("channel", ""), ("model_name", "  ")]);
        assert_eq!(query.int("channel").unwrap(), None);
        assert_eq!(query.text("model_name"), None);
        assert!(q(&[("page", "x")]).page().is_err());
        assert_eq!(
            q(&[("p", "3"), ("per_page", "20")]).page().unwrap(),
            Page {
                page: 3,
                per_page: 20
            }
        );
    }

    #[test]
    fn timestamps_by_digit_count() {
        assert_eq!(
            q(&[("t", "1700000000")]).timestamp_ms("t").unwrap(),
            Some(1_700_000_000_000)
        );
        assert_eq!(
            q(&[("t", "1700000000123")]).timestamp_ms("t").unwrap(),
            Some(1_700_000_000_123)
        );
        assert_eq!(
            q(&[("t", "1700000000123456")]).timestamp_ms("t").unwrap(),
            Some(1_700_000_000_123)
        );
    }

    #[test]
    fn json_errors_name_the_path() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct T {
            models: Vec<String>,
        }
        let e = parse_json::<T>(br#"{"models":["a",3]}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("models[1]"), "{e}");
    }
}
