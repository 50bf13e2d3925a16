//! Fetching one media URL: the guarded client, the size cap enforced while
//! the body streams in, the whole-fetch timeout, and the media type (the
//! response's `Content-Type`, or the content's magic bytes).

use std::error::Error as StdError;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use reqwest::Url;

use super::guard::{Guard, GuardError, PublicResolver};
use super::{MediaError, MediaKind};
use crate::relay::upstream::UpstreamError;

/// Fetcher settings, from `MEDIA_FETCH_*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaSettings {
    /// Largest body fetched, in bytes.
    pub max_bytes: usize,
    /// Bound on one whole fetch: connecting, redirects and the body.
    pub timeout: Duration,
    /// Fetch from private, loopback and link-local addresses too.
    pub allow_private: bool,
}

impl Default for MediaSettings {
    fn default() -> Self {
        Self {
            max_bytes: 20 * 1024 * 1024,
            timeout: Duration::from_secs(30),
            allow_private: false,
        }
    }
}

/// Media fetched and encoded, ready to replace a URL source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// MIME type, e.g. `image/png`.
    pub media_type: String,
    /// Base64 of the bytes (standard alphabet, padded).
    pub data: String,
}

/// Fetches media URLs for upstreams that cannot: one pooled client whose
/// resolver and redirect policy only reach public addresses (unless
/// [`MediaSettings::allow_private`]). Built once at start-up.
#[derive(Debug, Clone)]
pub struct MediaFetcher {
    client: reqwest::Client,
    guard: Guard,
    settings: MediaSettings,
}

impl MediaFetcher {
    /// Build the fetcher and its client.
    pub fn new(settings: MediaSettings) -> Result<Self, UpstreamError> {
        Self::with_guard(settings.clone(), Guard::new(settings.allow_private))
    }

    /// Build with an explicit guard (tests exempt their loopback server).
    pub(super) fn with_guard(settings: MediaSettings, guard: Guard) -> Result<Self, UpstreamError> {
        let client = reqwest::Client::builder()
            // A proxy would resolve names itself, past the guard.
            .no_proxy()
            .dns_resolver(Arc::new(PublicResolver::new(guard.clone())))
            .redirect(guard.redirect_policy())
            .connect_timeout(settings.timeout)
            .pool_idle_timeout(Duration::from_secs(30))
            .user_agent(concat!("switchyard/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| UpstreamError::Connect(e.to_string()))?;
        Ok(Self {
            client,
            guard,
            settings,
        })
    }

    /// The settings it was built with.
    pub fn settings(&self) -> &MediaSettings {
        &self.settings
    }

    /// Fetch `url` (an http(s) URL given for a `kind` part) and base64 it.
    pub async fn fetch(&self, url: &str, kind: MediaKind) -> Result<Fetched, MediaError> {
        let parsed = Url::parse(url).map_err(|_| MediaError::InvalidUrl {
            kind,
            url: url.to_owned(),
        })?;
        self.guard
            .check_url(&parsed)
            .map_err(|e| from_guard(&e, kind, url))?;
        let timeout = self.settings.timeout;
        let (media_type, bytes) = tokio::time::timeout(timeout, self.download(parsed, kind, url))
            .await
            .map_err(|_| MediaError::Timeout {
                kind,
                url: url.to_owned(),
                timeout,
            })??;
        Ok(Fetched {
            media_type,
            data: base64::engine::general_purpose::STANDARD.encode(&bytes),
        })
    }

    /// Request, check the status and read the body within the size cap.
    async fn download(
        &self,
        parsed: Url,
        kind: MediaKind,
        url: &str,
    ) -> Result<(String, Vec<u8>), MediaError> {
        let mut response = self
            .client
            .get(parsed)
            .send()
            .await
            .map_err(|e| from_reqwest(&e, kind, url))?;
        let status = response.status();
        if !status.is_success() {
            return Err(MediaError::Status {
                kind,
                url: url.to_owned(),
                status: status.as_u16(),
            });
        }
        let limit = self.settings.max_bytes;
        let too_large = || MediaError::TooLarge {
            kind,
            url: url.to_owned(),
            limit,
        };
        let cap = u64::try_from(limit).unwrap_or(u64::MAX);
        if response.content_length().is_some_and(|len| len > cap) {
            return Err(too_large());
        }
        let declared = declared_type(response.headers());
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| from_reqwest(&e, kind, url))?
        {
            if body.len() + chunk.len() > limit {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        let media_type = declared
            .or_else(|| sniff(&body).map(str::to_owned))
            .ok_or_else(|| MediaError::UnknownType {
                kind,
                url: url.to_owned(),
            })?;
        Ok((media_type, body))
    }
}

/// The response's `Content-Type` without parameters, unless missing or a
/// generic binary type that says nothing about the content.
fn declared_type(headers: &http::HeaderMap) -> Option<String> {
    let value = headers.get(http::header::CONTENT_TYPE)?.to_str().ok()?;
    let essence = value.split(';').next()?.trim().to_ascii_lowercase();
    let generic = matches!(
        essence.as_str(),
        "" | "application/octet-stream" | "binary/octet-stream" | "application/unknown"
    );
    (!generic && essence.contains('/')).then_some(essence)
}

/// The media type of well-known formats, from their first bytes.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else {
        None
    }
}

fn from_guard(error: &GuardError, kind: MediaKind, url: &str) -> MediaError {
    let url = url.to_owned();
    match error {
        GuardError::Private { .. } => MediaError::Private { kind, url },
        GuardError::TooManyRedirects => MediaError::TooManyRedirects { kind, url },
        GuardError::NotHttp(target) => MediaError::Fetch {
            kind,
            url,
            reason: format!("it redirects to {target}, which is not an http(s) URL"),
        },
        GuardError::Unresolved { host, .. } => MediaError::Fetch {
            kind,
            url,
            reason: format!("host {host} does not resolve"),
        },
    }
}

/// Map a client error: a guard refusal anywhere in its chain, a timeout, or
/// the innermost cause.
fn from_reqwest(error: &reqwest::Error, kind: MediaKind, url: &str) -> MediaError {
    let mut cause: &dyn StdError = error;
    loop {
        if let Some(guard) = cause.downcast_ref::<GuardError>() {
            return from_guard(guard, kind, url);
        }
        match cause.source() {
            Some(next) => cause = next,
            None => break,
        }
    }
    if error.is_timeout() {
        return MediaError::Fetch {
            kind,
            url: url.to_owned(),
            reason: "the connection timed out".to_owned(),
        };
    }
    MediaError::Fetch {
        kind,
        url: url.to_owned(),
        reason: cause.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_magic_bytes() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(sniff(&[0xff, 0xd8, 0xff, 0xe0]), Some("image/jpeg"));
        assert_eq!(sniff(b"GIF89a..."), Some("image/gif"));
        assert_eq!(sniff(b"RIFF\x00\x00\x00\x00WEBPVP8 "), Some("image/webp"));
        assert_eq!(sniff(b"RIFF\x00\x00\x00\x00WAVEfmt "), None);
        assert_eq!(sniff(b"%PDF-1.7"), Some("application/pdf"));
        assert_eq!(sniff(b"<html>"), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn declared_type_ignores_generic_and_parameters() {
        let mut headers = http::HeaderMap::new();
        assert_eq!(declared_type(&headers), None);
        headers.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("Image/PNG; charset=binary"),
        );
        assert_eq!(declared_type(&headers).as_deref(), Some("image/png"));
        headers.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("binary/octet-stream"),
        );
        assert_eq!(declared_type(&headers), None);
    }
}
