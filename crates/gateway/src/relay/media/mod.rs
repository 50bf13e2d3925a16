//! Inlining remote media for upstreams that cannot fetch URLs themselves
//! (Gemini, Bedrock, Vertex).
//!
//! Sits in the conversion path, after the client's body is decoded into the
//! canonical [`Request`] and before it is encoded for such an upstream:
//! [`inline_remote_media`] replaces every http(s) [`MediaSource::Url`] of an
//! image, audio or document part (tool results included) with
//! [`MediaSource::Base64`] of the fetched bytes. `data:` URLs were already
//! decoded; other schemes (`gs://`, file ids) are left to the upstream.
//!
//! This module owns the fetching: one [`MediaFetcher`] built at start-up from
//! `MEDIA_FETCH_*`, whose [`guard`] keeps requests away from private,
//! loopback and link-local addresses (checked on literal-IP URLs, on every
//! redirect target, and in the client's DNS resolver, so rebinding cannot
//! reach internal hosts), with a size cap enforced while streaming and a
//! timeout on each whole fetch. Failures are [`MediaError`]s whose messages
//! are written for the client (the relay answers them with 400
//! `invalid_request_error`).

pub mod fetch;
pub mod guard;

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use futures_util::StreamExt;
use switchyard_protocol::ir::{MediaSource, Part, Request};
use thiserror::Error;

pub use self::fetch::{Fetched, MediaFetcher, MediaSettings};
pub use self::guard::MAX_REDIRECTS;

/// Distinct URLs fetched at the same time for one request.
pub const CONCURRENCY: usize = 4;

/// The kind of part a URL was given for; names it in error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    /// An image part.
    Image,
    /// An audio part.
    Audio,
    /// A document part.
    Document,
}

impl fmt::Display for MediaKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Image => "image",
            Self::Audio => "audio",
            Self::Document => "document",
        })
    }
}

/// A media URL that could not be inlined. The messages name the URL and are
/// meant for the client.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum MediaError {
    /// The URL does not parse.
    #[error("{kind} URL {url} is not a valid URL")]
    InvalidUrl {
        /// Part kind.
        kind: MediaKind,
        /// The URL as given.
        url: String,
    },
    /// The host (or a redirect target) is a non-public address.
    #[error("{kind} URL {url} resolves to a private address and is not fetched")]
    Private {
        /// Part kind.
        kind: MediaKind,
        /// The URL as given.
        url: String,
    },
    /// The redirect chain is too long.
    #[error("{kind} URL {url} redirects more than {MAX_REDIRECTS} times")]
    TooManyRedirects {
        /// Part kind.
        kind: MediaKind,
        /// The URL as given.
        url: String,
    },
    /// The server answered with a non-success status.
    #[error("{kind} URL {url} answered {status}")]
    Status {
        /// Part kind.
        kind: MediaKind,
        /// The URL as given.
        url: String,
        /// HTTP status code.
        status: u16,
    },
    /// The body is larger than the cap.
    #[error("{kind} URL {url} is larger than the limit of {limit} bytes")]
    TooLarge {
        /// Part kind.
        kind: MediaKind,
        /// The URL as given.
        url: String,
        /// The cap, in bytes.
        limit: usize,
    },
    /// The whole fetch took longer than the timeout.
    #[error("{kind} URL {url} timed out after {} s", .timeout.as_secs_f64())]
    Timeout {
        /// Part kind.
        kind: MediaKind,
        /// The URL as given.
        url: String,
        /// The timeout.
        timeout: Duration,
    },
    /// No usable `Content-Type` and unrecognised content.
    #[error(
        "{kind} URL {url} was fetched without a usable Content-Type and its content is not a recognised image or PDF"
    )]
    UnknownType {
        /// Part kind.
        kind: MediaKind,
        /// The URL as given.
        url: String,
    },
    /// Connecting or reading failed.
    #[error("{kind} URL {url} could not be fetched: {reason}")]
    Fetch {
        /// Part kind.
        kind: MediaKind,
        /// The URL as given.
        url: String,
        /// What went wrong.
        reason: String,
    },
}

/// Replace every http(s) media URL in `request`'s messages (tool results
/// included) with the fetched bytes in base64. Distinct URLs are fetched
/// once each, [`CONCURRENCY`] at a time; the first failure fails the whole
/// request and leaves `request` unchanged. Returns how many parts were
/// rewritten (a URL used twice counts twice).
pub async fn inline_remote_media(
    request: &mut Request,
    fetcher: &MediaFetcher,
) -> Result<usize, MediaError> {
    let mut sources = Vec::new();
    for message in &mut request.messages {
        collect_sources(&mut message.content, &mut sources);
    }
    let wanted = distinct_urls(&sources);
    if wanted.is_empty() {
        return Ok(0);
    }
    let fetched = fetch_all(fetcher, wanted).await?;
    let mut inlined = 0;
    for (_, source) in sources {
        let Some(found) = remote_url(source).and_then(|url| fetched.get(url)) else {
            continue;
        };
        *source = MediaSource::Base64 {
            media_type: found.media_type.clone(),
            data: found.data.clone(),
        };
        inlined += 1;
    }
    Ok(inlined)
}

/// The media sources of `parts`, in order, descending into tool results.
fn collect_sources<'a>(parts: &'a mut [Part], out: &mut Vec<(MediaKind, &'a mut MediaSource)>) {
    for part in parts {
        match part {
            Part::Image(image) => out.push((MediaKind::Image, &mut image.source)),
            Part::Audio(audio) => out.push((MediaKind::Audio, &mut audio.source)),
            Part::Document(document) => out.push((MediaKind::Document, &mut document.source)),
            Part::ToolResult(result) => collect_sources(&mut result.content, out),
            _ => {}
        }
    }
}

/// The http(s) URLs among `sources`, each once, in first-seen order.
fn distinct_urls(sources: &[(MediaKind, &mut MediaSource)]) -> Vec<(String, MediaKind)> {
    let mut seen = std::collections::HashSet::new();
    sources
        .iter()
        .filter_map(|(kind, source)| remote_url(source).map(|url| (url, *kind)))
        .filter(|(url, _)| seen.insert(*url))
        .map(|(url, kind)| (url.to_owned(), kind))
        .collect()
}

/// The URL of a source the gateway must fetch: http or https only.
fn remote_url(source: &MediaSource) -> Option<&str> {
    let MediaSource::Url(url) = source else {
        return None;
    };
    let (scheme, _) = url.trim_start().split_once(':')?;
    (scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https"))
        .then_some(url.as_str())
}

/// Fetch every URL, a bounded number at a time; stop at the first failure.
async fn fetch_all(
    fetcher: &MediaFetcher,
    wanted: Vec<(String, MediaKind)>,
) -> Result<HashMap<String, Fetched>, MediaError> {
    let mut results = futures_util::stream::iter(wanted)
        .map(|(url, kind)| async move {
            let fetched = fetcher.fetch(&url, kind).await?;
            Ok::<_, MediaError>((url, fetched))
        })
        .buffer_unordered(CONCURRENCY);
    let mut out = HashMap::new();
    while let Some(result) = results.next().await {
        let (url, fetched) = result?;
        out.insert(url, fetched);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, SocketAddr};
    use std::sync::{Arc, Mutex};

    use axum::body::Body;
    use axum::extract::State;
    use axum::response::Response;
    use base64::Engine;
    use bytes::Bytes;
    use http::{StatusCode, Uri};
    use switchyard_protocol::ir::{DocumentPart, ImagePart, Message, Role, ToolResult};

    use super::guard::Guard;
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01test";
    const CAP: usize = 64 * 1024;

    #[derive(Clone)]
    struct Server {
        port: u16,
        hits: Arc<Mutex<Vec<String>>>,
    }

    impl Server {
        fn hits(&self) -> Vec<String> {
            self.hits.lock().unwrap().clone()
        }

        fn url(&self, path: &str) -> String {
            format!("http://127.0.0.1:{}{path}", self.port)
        }
    }

    fn reply(status: StatusCode, content_type: Option<&str>, body: Body) -> Response {
        let mut builder = Response::builder().status(status);
        if let Some(ct) = content_type {
            builder = builder.header(http::header::CONTENT_TYPE, ct);
        }
        builder.body(body).unwrap()
    }

    fn redirect(location: String) -> Response {
        Response::builder()
            .status(StatusCode::FOUND)
            .header(http::header::LOCATION, location)
            .body(Body::empty())
            .unwrap()
    }

    async fn handle(State(server): State<Server>, uri: Uri) -> Response {
        let path = uri.path().to_owned();
        server.hits.lock().unwrap().push(path.clone());
        let port = server.port;
        match path.as_str() {
            "/x.png" => reply(StatusCode::OK, Some("image/png"), Body::from(PNG)),
            "/untyped" => reply(StatusCode::OK, None, Body::from(PNG)),
            "/octet" => reply(
                StatusCode::OK,
                Some("application/octet-stream"),
                Body::from(&b"%PDF-1.7 ..."[..]),
            ),
            "/mystery" => reply(StatusCode::OK, None, Body::from(&b"<html></html>"[..])),
            "/large" => reply(
                StatusCode::OK,
                Some("image/png"),
                Body::from(vec![0u8; CAP + 1]),
            ),
            "/large-stream" => {
                // Chunked: no Content-Length to trust.
                let chunks = (0..64).map(|_| Ok::<_, std::io::Error>(Bytes::from(vec![0u8; 4096])));
                reply(
                    StatusCode::OK,
                    Some("image/png"),
                    Body::from_stream(futures_util::stream::iter(chunks)),
                )
            }
            "/slow" => {
                tokio::time::sleep(std::time::Duration::from_secs(5)).await;
                reply(StatusCode::OK, Some("image/png"), Body::from(PNG))
            }
            "/to-private" => redirect(format!("http://127.0.0.2:{port}/x.png")),
            "/to-loopback-v6" => redirect(format!("http://[::1]:{port}/x.png")),
            "/to-metadata" => redirect("http://169.254.169.254/latest/meta-data/".to_owned()),
            "/to-png" => redirect(format!("http://127.0.0.1:{port}/x.png")),
            "/loop" => redirect(format!("http://127.0.0.1:{port}/loop")),
            _ => reply(StatusCode::NOT_FOUND, None, Body::from("not found")),
        }
    }

    async fn start() -> Server {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = Server {
            port,
            hits: Arc::default(),
        };
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(server.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        server
    }

    fn settings(allow_private: bool) -> MediaSettings {
        MediaSettings {
            max_bytes: CAP,
            timeout: std::time::Duration::from_secs(5),
            allow_private,
        }
    }

    fn open_fetcher() -> MediaFetcher {
        MediaFetcher::new(settings(true)).unwrap()
    }

    /// Guarded as in production, except that 127.0.0.1 counts as public.
    fn guarded_fetcher() -> MediaFetcher {
        let mut guard = Guard::new(false);
        guard.exempt = Some(IpAddr::from([127, 0, 0, 1]));
        MediaFetcher::with_guard(settings(false), guard).unwrap()
    }

    fn image(url: &str) -> Part {
        Part::Image(ImagePart {
            source: MediaSource::Url(url.to_owned()),
            detail: None,
            cache_control: None,
        })
    }

    fn document(source: MediaSource) -> Part {
        Part::Document(DocumentPart {
            source,
            filename: None,
            title: None,
            context: None,
            cache_control: None,
        })
    }

    fn png_base64() -> MediaSource {
        MediaSource::Base64 {
            media_type: "image/png".to_owned(),
            data: base64::engine::general_purpose::STANDARD.encode(PNG),
        }
    }

    #[tokio::test]
    async fn inlines_png_once_per_url_including_tool_results() {
        let server = start().await;
        let png = server.url("/x.png");
        let kept = vec![
            document(MediaSource::Url("gs://bucket/a.pdf".to_owned())),
            document(MediaSource::FileId("file-1".to_owned())),
            Part::Image(ImagePart {
                source: png_base64(),
                detail: None,
                cache_control: None,
            }),
            Part::text("hello"),
        ];
        let mut content = vec![image(&png), image(&png)];
        content.push(Part::ToolResult(ToolResult {
            call_id: "c1".to_owned(),
            name: None,
            content: vec![image(&png)],
            is_error: false,
            cache_control: None,
        }));
        content.extend(kept.clone());
        let mut request = Request {
            messages: vec![Message::new(Role::User, content)],
            ..Request::default()
        };
        let inlined = inline_remote_media(&mut request, &open_fetcher())
            .await
            .unwrap();
        assert_eq!(inlined, 3);
        assert_eq!(server.hits(), vec!["/x.png".to_owned()]);
        let parts = &request.messages[0].content;
        for part in &parts[..2] {
            let Part::Image(image) = part else {
                panic!("{part:?}")
            };
            assert_eq!(image.source, png_base64());
        }
        let Part::ToolResult(result) = &parts[2] else {
            panic!("{:?}", parts[2])
        };
        let Part::Image(inner) = &result.content[0] else {
            panic!("{result:?}")
        };
        assert_eq!(inner.source, png_base64());
        assert_eq!(&parts[3..], &kept[..]);
    }

    #[tokio::test]
    async fn nothing_to_fetch_is_zero() {
        let mut request = Request {
            messages: vec![Message::new(
                Role::User,
                vec![document(MediaSource::Url("gs://b/a.pdf".to_owned()))],
            )],
            ..Request::default()
        };
        let before = request.clone();
        assert_eq!(
            inline_remote_media(&mut request, &open_fetcher())
                .await
                .unwrap(),
            0
        );
        assert_eq!(request, before);
    }

    #[tokio::test]
    async fn media_type_is_sniffed_without_a_useful_content_type() {
        let server = start().await;
        let fetcher = open_fetcher();
        let untyped = fetcher
            .fetch(&server.url("/untyped"), MediaKind::Image)
            .await
            .unwrap();
        assert_eq!(untyped.media_type, "image/png");
        let octet = fetcher
            .fetch(&server.url("/octet"), MediaKind::Document)
            .await
            .unwrap();
        assert_eq!(octet.media_type, "application/pdf");
        let url = server.url("/mystery");
        let err = fetcher.fetch(&url, MediaKind::Image).await.unwrap_err();
        assert_eq!(
            err,
            MediaError::UnknownType {
                kind: MediaKind::Image,
                url
            }
        );
    }

    #[tokio::test]
    async fn size_cap_rejects_large_bodies() {
        let server = start().await;
        let fetcher = open_fetcher();
        for path in ["/large", "/large-stream"] {
            let url = server.url(path);
            let err = fetcher.fetch(&url, MediaKind::Image).await.unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("image URL {url} is larger than the limit of {CAP} bytes")
            );
        }
    }

    #[tokio::test]
    async fn error_status_is_an_error() {
        let server = start().await;
        let url = server.url("/missing.png");
        let err = open_fetcher()
            .fetch(&url, MediaKind::Image)
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), format!("image URL {url} answered 404"));
    }

    #[tokio::test]
    async fn whole_fetch_times_out() {
        let server = start().await;
        let fetcher = MediaFetcher::new(MediaSettings {
            timeout: std::time::Duration::from_millis(200),
            ..settings(true)
        })
        .unwrap();
        let url = server.url("/slow");
        let err = fetcher.fetch(&url, MediaKind::Image).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("image URL {url} timed out after 0.2 s")
        );
    }

    #[tokio::test]
    async fn private_literal_and_resolved_hosts_are_refused_without_a_request() {
        let server = start().await;
        let fetcher = MediaFetcher::new(settings(false)).unwrap();
        let literal = server.url("/x.png");
        let err = fetcher.fetch(&literal, MediaKind::Image).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("image URL {literal} resolves to a private address and is not fetched")
        );
        // A name resolving to loopback: dropped by the resolver.
        let named = format!("http://localhost:{}/x.png", server.port);
        let err = fetcher.fetch(&named, MediaKind::Image).await.unwrap_err();
        assert_eq!(
            err,
            MediaError::Private {
                kind: MediaKind::Image,
                url: named
            }
        );
        // Through the request walk too.
        let mut request = Request {
            messages: vec![Message::new(Role::User, vec![image(&literal)])],
            ..Request::default()
        };
        let before = request.clone();
        assert!(matches!(
            inline_remote_media(&mut request, &fetcher).await,
            Err(MediaError::Private { .. })
        ));
        assert_eq!(request, before);
        assert!(server.hits().is_empty(), "{:?}", server.hits());
    }

    #[tokio::test]
    async fn redirects_are_guarded_and_bounded() {
        let server = start().await;
        let fetcher = guarded_fetcher();
        // The exempt host itself is reachable, redirects to it are followed.
        let ok = fetcher
            .fetch(&server.url("/to-png"), MediaKind::Image)
            .await
            .unwrap();
        assert_eq!(ok.media_type, "image/png");
        assert_eq!(server.hits(), vec!["/to-png", "/x.png"]);
        server.hits.lock().unwrap().clear();
        for path in ["/to-private", "/to-loopback-v6", "/to-metadata"] {
            let url = server.url(path);
            let err = fetcher.fetch(&url, MediaKind::Image).await.unwrap_err();
            assert_eq!(
                err,
                MediaError::Private {
                    kind: MediaKind::Image,
                    url
                }
            );
        }
        // Only the redirecting paths were served; no target was requested.
        assert_eq!(
            server.hits(),
            vec!["/to-private", "/to-loopback-v6", "/to-metadata"]
        );
        server.hits.lock().unwrap().clear();
        let url = server.url("/loop");
        let err = fetcher.fetch(&url, MediaKind::Image).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("image URL {url} redirects more than 3 times")
        );
        assert_eq!(server.hits().len(), 1 + MAX_REDIRECTS);
    }

    #[tokio::test]
    async fn other_schemes_and_bad_urls() {
        let fetcher = open_fetcher();
        let err = fetcher
            .fetch("http://exa mple.com/a.png", MediaKind::Image)
            .await
            .unwrap_err();
        assert!(matches!(err, MediaError::InvalidUrl { .. }), "{err}");
        assert_eq!(
            remote_url(&MediaSource::Url("HTTPS://a/b".to_owned())),
            Some("HTTPS://a/b")
        );
        assert_eq!(remote_url(&MediaSource::Url("gs://a/b".to_owned())), None);
        assert_eq!(remote_url(&MediaSource::Url("file-abc".to_owned())), None);
        let unreachable: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let err = fetcher
            .fetch(&format!("http://{unreachable}/a.png"), MediaKind::Audio)
            .await
            .unwrap_err();
        assert!(
            err.to_string().starts_with(&format!(
                "audio URL http://{unreachable}/a.png could not be fetched: "
            )),
            "{err}"
        );
    }
}
