//! Client-facing relay endpoints. Each protocol's handlers read the body once
//! (size-capped), authenticate, and hand the request to [`crate::relay`];
//! every rejection is rendered in that protocol's error shape.

pub mod anthropic;
pub mod billing;
pub mod client_ip;
pub mod gemini;
pub mod incoming;
pub mod lane;
pub mod openai;
pub mod responses;
pub mod serve;

use axum::body::Body;
use bytes::Bytes;
use http::HeaderMap;

use crate::error::ApiError;

/// Read a request body, refusing more than `limit` bytes with 413.
pub async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, ApiError> {
    let declared = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ApiError::payload_too_large(limit));
    }
    let collected =
        http_body_util::BodyExt::collect(http_body_util::Limited::new(body, limit)).await;
    match collected {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            Err(ApiError::payload_too_large(limit))
        }
        Err(e) => Err(ApiError::bad_request(format!(
            "could not read the request body: {e}"
        ))),
    }
}
