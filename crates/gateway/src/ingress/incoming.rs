//! The part of every relay endpoint that does not depend on its protocol:
//! authenticate the caller, read the (size-capped) body, read the relay
//! headers, and hand a [`RelayRequest`] to the relay. Rejections are
//! rendered in the endpoint's own error shape.

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderMap, Uri};
use switchyard_protocol::json::{Patch, quote_str, scan_object, set_member};

use super::client_ip::client_ip;
use super::read_body;
use crate::auth::{Principal, authenticate, request_key};
use crate::error::ApiError;
use crate::providers::ClientHints;
use crate::relay::head::PathParams;
use crate::relay::mode::Mode;
use crate::relay::protocol::Protocol;
use crate::relay::{RelayRequest, relay, stored};
use crate::state::AppState;
use crate::store::now_ms;

/// Authenticate a relay client; also returns its IP as text.
pub fn authenticated(
    app: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
) -> Result<(Principal, String), ApiError> {
    let snapshot = app.snapshot.get();
    let ip = client_ip(Some(peer), headers, &app.config.trusted_proxies);
    let principal = authenticate(&snapshot, &app.keys, request_key(headers), ip)?;
    Ok((principal, ip.map(ip_text).unwrap_or_default()))
}

/// `ip` as text; IPv4 without `fmt`, which costs several times more.
fn ip_text(ip: IpAddr) -> String {
    let IpAddr::V4(v4) = ip else {
        return ip.to_string();
    };
    let mut out = String::with_capacity(15);
    let mut digits = itoa::Buffer::new();
    for (i, octet) in v4.octets().into_iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        out.push_str(digits.format(octet));
    }
    out
}

/// Where a request comes from and what it asked for.
pub struct Incoming<'a> {
    /// Endpoint kind.
    pub mode: Mode,
    /// Protocol the client speaks.
    pub protocol: Protocol,
    /// What the URL says about the request (Gemini).
    pub path: PathParams,
    /// TCP peer.
    pub peer: SocketAddr,
    /// Request URI.
    pub uri: &'a Uri,
    /// Request headers.
    pub headers: HeaderMap,
    /// Model named by the URL (legacy engines path, Gemini paths), replacing the body's.
    pub model_from_path: Option<String>,
    /// Client headers passed on to some upstreams.
    pub hints: ClientHints,
}

/// Authenticate, read the body and relay; every rejection is rendered in
/// the endpoint's protocol.
pub async fn relay_endpoint(app: AppState, incoming: Incoming<'_>, body: Body) -> Response {
    let received = Instant::now();
    let received_ms = now_ms();
    let request_id = client_request_id(&incoming.headers).unwrap_or_else(new_request_id);
    match prepare(&app, &incoming, body, received, received_ms).await {
        Ok(mut request) => {
            request.request_id = request_id;
            relay(app, request).await
        }
        Err(e) => {
            tracing::info!(
                target: "switchyard::request",
                request_id = %request_id,
                endpoint = %incoming.uri.path(),
                code = e.status.as_u16(),
                "request rejected"
            );
            e.with_request_id(&request_id)
                .in_dialect(incoming.protocol.dialect())
                .into_response()
        }
    }
}

/// A new request id: a UUIDv7 in 32 lowercase hex digits.
fn new_request_id() -> String {
    let mut text = uuid::Uuid::encode_buffer();
    let id: &str = uuid::Uuid::now_v7().simple().encode_lower(&mut text);
    id.to_owned()
}

/// Longest client-supplied request id accepted.
pub const MAX_REQUEST_ID_LEN: usize = 64;

/// The client's `X-Request-Id` when it is 1–64 characters of `[A-Za-z0-9._:-]`;
/// anything else is ignored (the gateway assigns its own id).
pub fn client_request_id(headers: &HeaderMap) -> Option<String> {
    let value = headers.get("x-request-id")?.to_str().ok()?.trim();
    let valid = !value.is_empty()
        && value.len() <= MAX_REQUEST_ID_LEN
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'));
    valid.then(|| value.to_owned())
}

/// Authenticate, read the body, and read the relay headers. The request id
/// is left empty for the caller, which keeps it to answer a refusal with.
async fn prepare(
    app: &AppState,
    incoming: &Incoming<'_>,
    body: Body,
    received: Instant,
    received_ms: i64,
) -> Result<RelayRequest, ApiError> {
    let headers = &incoming.headers;
    let (principal, ip) = authenticated(app, incoming.peer, headers)?;
    let mut body = read_body(headers, body, &app.config).await?;
    let mut resumed = None;
    if incoming.protocol == Protocol::Responses {
        let group = (!principal.is_internal()).then(|| principal.group_id());
        let r = stored::resume(app, body, group).await?;
        body = r.body.clone();
        resumed = Some(r);
    }
    if let Some(model) = &incoming.model_from_path {
        body = set_model(&body, model)?;
    }
    let pinned_channel = match headers.get("aiproxy-channel") {
        None => None,
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|v| v.trim().parse::<i64>().ok())
                .ok_or_else(|| {
                    ApiError::bad_request("the Aiproxy-Channel header must be a channel id")
                })?,
        ),
    };
    Ok(RelayRequest {
        mode: incoming.mode,
        endpoint: incoming.uri.path().to_owned(),
        body,
        principal,
        pinned_channel,
        request_id: String::new(),
        received,
        received_ms,
        ip,
        hints: incoming.hints.clone(),
        protocol: incoming.protocol,
        path: incoming.path.clone(),
        sticky_channel: resumed.as_ref().and_then(|r| r.sticky_channel),
        store: resumed.and_then(|r| r.store),
    })
}

/// Replace (or add) the body's top-level `model`.
fn set_model(body: &Bytes, model: &str) -> Result<Bytes, ApiError> {
    let scan = scan_object(body).map_err(|e| {
        ApiError::bad_request(format!("request body is not valid JSON: {e}"))
            .with_code("invalid_json")
    })?;
    let mut patch = Patch::new();
    set_member(&mut patch, body, &scan, "model", &quote_str(model));
    patch
        .apply(body)
        .map_err(|e| ApiError::bad_request(format!("request body cannot be rewritten: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-request-id", http::HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn ip_text_matches_display() {
        for ip in [
            "127.0.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "10.20.3.4",
            "::1",
            "2001:db8::7",
        ] {
            let parsed: IpAddr = ip.parse().unwrap();
            assert_eq!(ip_text(parsed), parsed.to_string());
            assert_eq!(ip_text(parsed), ip);
        }
    }

    #[test]
    fn request_id_is_validated() {
        assert_eq!(
            client_request_id(&with("abc-123_x.y:z")).as_deref(),
            Some("abc-123_x.y:z")
        );
        assert_eq!(client_request_id(&with("has space")), None);
        assert_eq!(client_request_id(&with("semi;colon")), None);
        assert_eq!(client_request_id(&with(&"a".repeat(65))), None);
        assert_eq!(
            client_request_id(&with(&"a".repeat(64))).map(|s| s.len()),
            Some(64)
        );
        assert_eq!(client_request_id(&HeaderMap::new()), None);
    }
}
