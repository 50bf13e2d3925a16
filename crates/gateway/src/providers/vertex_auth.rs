//! Vertex AI credentials at request time: each channel key parsed once, and
//! the OAuth token of a service account fetched, cached and refreshed.
//!
//! Sits between the relay's attempt (which asks for the `Authorization`
//! header of a Vertex request) and the token endpoint. A valid cached token
//! costs one map lookup and one read lock, never a network call. A token is
//! refreshed a little before it expires (a quarter of its lifetime, at most
//! five minutes early); concurrent requests that find it stale share one
//! refresh (single flight) and, if that refresh fails, its error. A token
//! that is due for refresh but not yet expired is still used when the
//! refresh fails.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use http::{HeaderName, HeaderValue};
use thiserror::Error;

use super::vertex::{
    AccessToken, ServiceAccount, VertexAuth, VertexError, VertexKey, parse_token_response,
    sign_assertion, token_request_body,
};

/// Parsed keys kept before the cache is emptied (keys only change when an
/// admin edits a channel, so this bounds what stale keys can hold).
const MAX_ENTRIES: usize = 4096;

/// Largest token endpoint answer read.
const MAX_TOKEN_BODY: usize = 64 * 1024;

/// Longest a token is refreshed before it expires.
const MAX_REFRESH_MARGIN: Duration = Duration::from_secs(300);

/// Why no token could be had.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum TokenError {
    /// The token endpoint could not be reached, timed out or failed (5xx, 429).
    #[error("Vertex AI token endpoint unavailable: {0}")]
    Unavailable(String),
    /// The token endpoint refused the service account, or the assertion
    /// could not be made: the channel's credentials are at fault.
    #[error("Vertex AI token request refused: {0}")]
    Refused(String),
}

/// Parsed Vertex channel keys and their tokens, shared by all requests.
#[derive(Debug, Default)]
pub struct VertexAuthCache {
    entries: Mutex<HashMap<String, Arc<VertexCredentials>>>,
}

/// One channel key, parsed, with its cached token.
#[derive(Debug)]
pub struct VertexCredentials {
    /// The parsed key.
    pub key: VertexKey,
    token: RwLock<Option<CachedToken>>,
    /// Held while a refresh runs; holds the last refresh's error.
    refresh: tokio::sync::Mutex<Option<TokenError>>,
    /// Refreshes finished so far.
    refreshes: AtomicU64,
    /// Token endpoint calls made (for tests and diagnostics).
    fetches: AtomicU64,
}

#[derive(Debug, Clone)]
struct CachedToken {
    header: HeaderValue,
    refresh_at: Instant,
    expires_at: Instant,
}

impl VertexAuthCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// The parsed credentials of a channel key (parsed on first use).
    pub fn credentials(&self, raw_key: &str) -> Result<Arc<VertexCredentials>, VertexError> {
        if let Some(found) = self.lock().get(raw_key) {
            return Ok(Arc::clone(found));
        }
        let parsed = Arc::new(VertexCredentials::new(VertexKey::parse(raw_key)?));
        let mut entries = self.lock();
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        Ok(Arc::clone(
            entries.entry(raw_key.to_owned()).or_insert(parsed),
        ))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<VertexCredentials>>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl VertexCredentials {
    fn new(key: VertexKey) -> Self {
        Self {
            key,
            token: RwLock::new(None),
            refresh: tokio::sync::Mutex::new(None),
            refreshes: AtomicU64::new(0),
            fetches: AtomicU64::new(0),
        }
    }

    /// Token endpoint calls made for this key so far.
    pub fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// The header that authorizes a request: `x-goog-api-key` for an API
    /// key, else `Authorization: Bearer <token>`, fetching a token through
    /// `client` (at most `timeout` for the exchange) when none is fresh.
    pub async fn auth_header(
        &self,
        client: &reqwest::Client,
        timeout: Duration,
    ) -> Result<(HeaderName, HeaderValue), TokenError> {
        let account = match &self.key.auth {
            VertexAuth::ApiKey(key) => {
                let mut value = HeaderValue::from_str(key)
                    .map_err(|_| TokenError::Refused("the API key is not a valid header".into()))?;
                value.set_sensitive(true);
                return Ok((HeaderName::from_static("x-goog-api-key"), value));
            }
            VertexAuth::ServiceAccount(account) => account,
        };
        let header = self.bearer(account, client, timeout).await?;
        Ok((http::header::AUTHORIZATION, header))
    }

    async fn bearer(
        &self,
        account: &ServiceAccount,
        client: &reqwest::Client,
        timeout: Duration,
    ) -> Result<HeaderValue, TokenError> {
        if let Some(header) = self.cached(|t| t.refresh_at) {
            return Ok(header);
        }
        let seen = self.refreshes.load(Ordering::Acquire);
        let mut last_error = self.refresh.lock().await;
        if let Some(header) = self.cached(|t| t.refresh_at) {
            return Ok(header);
        }
        if self.refreshes.load(Ordering::Acquire) != seen
            && let Some(error) = last_error.as_ref()
        {
            // The refresh we waited for failed: share its answer.
            return self.cached(|t| t.expires_at).ok_or_else(|| error.clone());
        }
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let result = fetch(account, client, timeout).await;
        let outcome = result.and_then(|token| self.store(&token));
        self.refreshes.fetch_add(1, Ordering::Release);
        match outcome {
            Ok(header) => {
                *last_error = None;
                Ok(header)
            }
            Err(error) => {
                tracing::warn!(%error, "Vertex AI token refresh failed");
                *last_error = Some(error.clone());
                self.cached(|t| t.expires_at).ok_or(error)
            }
        }
    }

    /// The cached header, if `deadline(token)` is still ahead.
    fn cached(&self, deadline: impl Fn(&CachedToken) -> Instant) -> Option<HeaderValue> {
        let token = self
            .token
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        token
            .as_ref()
            .filter(|t| Instant::now() < deadline(t))
            .map(|t| t.header.clone())
    }

    fn store(&self, token: &AccessToken) -> Result<HeaderValue, TokenError> {
        let mut header = HeaderValue::try_from(format!("Bearer {}", token.token))
            .map_err(|_| TokenError::Refused("the access token is not a valid header".into()))?;
        header.set_sensitive(true);
        let now = Instant::now();
        let margin = (token.lifetime / 4).min(MAX_REFRESH_MARGIN);
        let cached = CachedToken {
            header: header.clone(),
            refresh_at: now + token.lifetime.saturating_sub(margin),
            expires_at: now + token.lifetime,
        };
        *self
            .token
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(cached);
        Ok(header)
    }
}

/// Exchange a freshly signed assertion for a token at the account's token URI.
async fn fetch(
    account: &ServiceAccount,
    client: &reqwest::Client,
    timeout: Duration,
) -> Result<AccessToken, TokenError> {
    let now = u64::try_from(crate::store::now_secs()).unwrap_or(0);
    let assertion = sign_assertion(account, now).map_err(|e| TokenError::Refused(e.to_string()))?;
    let request = client
        .post(&account.token_uri)
        .header(
            http::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .header(http::header::ACCEPT, "application/json")
        .body(token_request_body(&assertion));
    let exchange = async {
        let mut response = request
            .send()
            .await
            .map_err(|e| crate::relay::upstream::error_chain(&e))?;
        let status = response.status();
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| crate::relay::upstream::error_chain(&e))?
        {
            if body.len() + chunk.len() > MAX_TOKEN_BODY {
                return Err(format!("answer larger than {MAX_TOKEN_BODY} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        Ok((status, body))
    };
    let (status, body) = tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| TokenError::Unavailable(format!("no answer within {timeout:?}")))?
        .map_err(TokenError::Unavailable)?;
    parse_token_response(status.as_u16(), &body).map_err(|e| {
        if status.is_server_error() || status == http::StatusCode::TOO_MANY_REQUESTS {
            TokenError::Unavailable(e.to_string())
        } else {
            TokenError::Refused(e.to_string())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_parsed_once_and_shared() {
        let cache = VertexAuthCache::new();
        let a = cache.credentials("us-east5|p|AIza1").unwrap();
        let b = cache.credentials("us-east5|p|AIza1").unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        let c = cache.credentials("us-east5|p|AIza2").unwrap();
        assert!(!Arc::ptr_eq(&a, &c));
        assert!(cache.credentials("no-pipe").is_err());
    }

    #[tokio::test]
    async fn api_keys_need_no_token() {
        let cache = VertexAuthCache::new();
        let creds = cache.credentials("global|AQ.k").unwrap();
        let client = reqwest::Client::new();
        let (name, value) = creds
            .auth_header(&client, Duration::from_secs(1))
            .await
            .unwrap();
        assert_eq!(
            (name.as_str(), value.to_str().unwrap()),
            ("x-goog-api-key", "AQ.k")
        );
        assert!(value.is_sensitive());
        assert_eq!(creds.fetches(), 0);
    }

    #[test]
    fn refresh_margin_is_a_quarter_of_short_lifetimes() {
        let creds = VertexCredentials::new(VertexKey::parse("global|k").unwrap());
        creds
            .store(&AccessToken {
                token: "t".into(),
                lifetime: Duration::from_secs(4),
            })
            .unwrap();
        let t = creds.token.read().unwrap().clone().unwrap();
        let margin = t.expires_at - t.refresh_at;
        assert_eq!(margin, Duration::from_secs(1));
        assert!(creds.cached(|t| t.refresh_at).is_some());
        creds
            .store(&AccessToken {
                token: "t".into(),
                lifetime: Duration::from_secs(3600),
            })
            .unwrap();
        let t = creds.token.read().unwrap().clone().unwrap();
        assert_eq!(t.expires_at - t.refresh_at, MAX_REFRESH_MARGIN);
    }
}
