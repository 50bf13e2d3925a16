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
use http_body_util::BodyExt;

use crate::config::Config;
use crate::error::ApiError;
use crate::gather::Gathered;

/// Read a request body, refusing more than `MAX_REQUEST_BODY_SIZE` bytes
/// with 413, and with 408 a body whose next part does not arrive within
/// `CLIENT_IDLE_TIMEOUT` (when set). The timer is only armed while the
/// body has nothing ready.
pub async fn read_body(
    headers: &HeaderMap,
    mut body: Body,
    config: &Config,
) -> Result<Bytes, ApiError> {
    let (limit, idle) = (config.max_request_body_size, config.client_idle_timeout);
    let declared = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ApiError::payload_too_large(limit));
    }
    let mut gathered = Gathered::default();
    loop {
        let frame = match idle {
            Some(idle) => tokio::time::timeout(idle, body.frame())
                .await
                .map_err(|_| ApiError::request_timeout(idle))?,
            None => body.frame().await,
        };
        let Some(frame) = frame else { break };
        let frame = frame
            .map_err(|e| ApiError::bad_request(format!("could not read the request body: {e}")))?;
        if let Ok(data) = frame.into_data() {
            if gathered.len() + data.len() > limit {
                return Err(ApiError::payload_too_large(limit));
            }
            gathered.push(data);
        }
    }
    Ok(gathered.into_bytes())
}
