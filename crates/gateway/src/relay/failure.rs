//! What the client sees when every attempt failed.
//!
//! An upstream's complaint about the request itself (400, 413, 422, 451)
//! passes through with its status and message. An upstream's refusal of the
//! gateway's own credentials or account (401, 402, 403) becomes a 502 — it is
//! never shown as the client's own 401. Transient trouble maps to 429, 502,
//! 503 or 504.

use http::StatusCode;

use super::attempt::{Failure, FailureClass};
use crate::error::ApiError;

/// The client-facing error for the last failed attempt.
pub fn to_api_error(failure: &Failure) -> ApiError {
    match (failure.class, failure.status) {
        (FailureClass::Client, Some(status)) => {
            let mut e = ApiError::new(status, "invalid_request_error", failure.message.clone());
            if let Some(code) = failure.code.clone() {
                e = e.with_code(code);
            }
            e
        }
        (FailureClass::NoPermission, Some(status)) if status == StatusCode::NOT_FOUND => ApiError::bad_gateway(format!(
            "the upstream provider answered 404 for this model: {}",
            failure.message
        ))
        .with_code("upstream_not_found"),
        (FailureClass::NoPermission, Some(status)) => ApiError::bad_gateway(format!(
            "the upstream provider rejected the gateway's channel credentials or account (status {})",
            status.as_u16()
        ))
        .with_code("upstream_auth_failed"),
        (FailureClass::NoPermission, None) => {
            ApiError::bad_gateway(format!("the upstream channel is misconfigured: {}", failure.message))
                .with_code("channel_misconfigured")
        }
        (_, _) if failure.timed_out => ApiError::new(StatusCode::GATEWAY_TIMEOUT, "upstream_error", failure.message.clone())
            .with_code("upstream_timeout"),
        (_, Some(status)) if status == StatusCode::TOO_MANY_REQUESTS => {
            let mut e = ApiError::new(status, "upstream_error", failure.message.clone()).with_code("rate_limit_exceeded");
            if let Some(v) = &failure.retry_after {
                e = e.with_header(http::header::RETRY_AFTER, (**v).clone());
            }
            e
        }
        (_, Some(status)) if status == StatusCode::SERVICE_UNAVAILABLE || status == StatusCode::GATEWAY_TIMEOUT => {
            ApiError::new(status, "upstream_error", failure.message.clone()).with_code("upstream_unavailable")
        }
        (_, Some(status)) => ApiError::bad_gateway(failure.message.clone())
            .with_code(serde_json::Value::String(format!("upstream_{}", status.as_u16()))),
        (_, None) => ApiError::bad_gateway(failure.message.clone()).with_code("upstream_error"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn failure(status: Option<u16>, class: FailureClass) -> Failure {
        Failure {
            status: status.map(|s| StatusCode::from_u16(s).unwrap()),
            message: "m".into(),
            code: None,
            body: Bytes::new(),
            retry_after: None,
            timed_out: false,
            class,
        }
    }

    #[test]
    fn credential_errors_become_502() {
        for s in [401, 402, 403] {
            let e = to_api_error(&failure(Some(s), FailureClass::NoPermission));
            assert_eq!(e.status, 502);
            assert_eq!(e.kind, "upstream_error");
        }
    }

    #[test]
    fn client_errors_pass_through() {
        assert_eq!(
            to_api_error(&failure(Some(400), FailureClass::Client)).status,
            400
        );
        assert_eq!(
            to_api_error(&failure(Some(413), FailureClass::Client)).status,
            413
        );
    }

    #[test]
    fn transient_statuses() {
        assert_eq!(
            to_api_error(&failure(Some(429), FailureClass::Retryable)).status,
            429
        );
        assert_eq!(
            to_api_error(&failure(Some(500), FailureClass::Retryable)).status,
            502
        );
        assert_eq!(
            to_api_error(&failure(Some(503), FailureClass::Retryable)).status,
            503
        );
        assert_eq!(
            to_api_error(&failure(None, FailureClass::Retryable)).status,
            502
        );
        let mut t = failure(None, FailureClass::Retryable);
        t.timed_out = true;
        assert_eq!(to_api_error(&t).status, 504);
    }
}
