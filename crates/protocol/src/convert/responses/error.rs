//! Errors: Responses ⇄ canonical.
//!
//! HTTP error bodies of the Responses API are OpenAI's
//! (`{"error":{"message","type","param","code"}}`), so [`error_to_ir`] and
//! [`error_from_ir`] are the OpenAI converters. In a stream, an error is an
//! `error` event (`code`, `message`, `param`) or a `response.failed` whose
//! `response.error` has a `code` and `message`. Codes map to kinds as
//! follows, both ways (the canonical `code`, when set, is passed on as is):
//!
//! | code | kind |
//! |---|---|
//! | `rate_limit_exceeded` | RateLimit |
//! | `insufficient_quota` | Billing |
//! | `invalid_api_key` | Authentication |
//! | `model_not_found` | NotFound |
//! | `context_length_exceeded`, `invalid_prompt`, `invalid_request_error`, `invalid_*`, image errors | InvalidRequest |
//! | `server_is_overloaded`, `overloaded_error` | Overloaded |
//! | `timeout`, `vector_store_timeout` | Timeout |
//! | anything else (`server_error`) | Api |

use serde_json::Value;

use crate::convert::openai;
use crate::ir::{Error, ErrorKind};
use crate::openai::ErrorBody;
use crate::responses::ResponseObject;

/// Decodes an HTTP error body (OpenAI's shape).
pub fn error_to_ir(status: Option<u16>, body: &ErrorBody) -> Error {
    openai::error_to_ir(status, body)
}

/// Encodes a canonical error as an HTTP error body (OpenAI's shape).
pub fn error_from_ir(error: &Error) -> ErrorBody {
    openai::error_from_ir(error)
}

/// Reads any upstream error body: the OpenAI/Responses shape first (so its
/// `code`, e.g. `context_length_exceeded`, is kept), then whatever
/// [`error_body_to_ir`](crate::convert::error_body_to_ir) recognises.
pub fn upstream_error_to_ir(status: u16, body: &[u8]) -> Error {
    #[derive(serde::Deserialize)]
    struct Top {
        #[serde(rename = "type", default)]
        kind: Option<String>,
    }
    let anthropic = serde_json::from_slice::<Top>(body)
        .ok()
        .and_then(|t| t.kind)
        .is_some_and(|k| k == "error");
    if !anthropic
        && let Some(parsed) = ErrorBody::parse(body).filter(|b| !b.error.message.is_empty())
    {
        return openai::error_to_ir(Some(status), &parsed);
    }
    crate::convert::error_body_to_ir(status, body)
}

/// The error of a `failed` response, `None` for any other status.
pub fn response_error(resp: &ResponseObject) -> Option<Error> {
    if resp.status != "failed" {
        return None;
    }
    let (code, message) = match &resp.error {
        Some(e) => (e.code.clone(), e.message.clone()),
        None => (None, String::new()),
    };
    Some(code_error(code, message))
}

/// A canonical error from a code and message.
pub(super) fn code_error(code: Option<String>, message: String) -> Error {
    let kind = kind_from_code(code.as_deref().unwrap_or(""));
    let message = if message.is_empty() {
        "the upstream response failed".to_owned()
    } else {
        message
    };
    Error {
        status: kind.status(),
        kind,
        message,
        code,
    }
}

/// Decodes an `error` event: top-level `code`/`message`, or (non-standard
/// upstreams) a nested `error` object.
pub(super) fn event_error(code: Option<String>, message: String, nested: Option<&Value>) -> Error {
    if message.is_empty()
        && let Some(nested) = nested
    {
        let code = nested
            .get("code")
            .and_then(Value::as_str)
            .or_else(|| nested.get("type").and_then(Value::as_str))
            .map(str::to_owned)
            .or(code);
        let message = nested
            .get("message")
            .and_then(Value::as_str)
            .map_or_else(|| nested.to_string(), str::to_owned);
        return code_error(code, message);
    }
    code_error(code, message)
}

fn kind_from_code(code: &str) -> ErrorKind {
    match code {
        "rate_limit_exceeded" | "rate_limit_error" => ErrorKind::RateLimit,
        "insufficient_quota" => ErrorKind::Billing,
        "invalid_api_key" | "authentication_error" => ErrorKind::Authentication,
        "model_not_found" | "not_found_error" => ErrorKind::NotFound,
        "server_is_overloaded" | "overloaded_error" => ErrorKind::Overloaded,
        "timeout" | "vector_store_timeout" | "timeout_error" => ErrorKind::Timeout,
        "context_length_exceeded" | "invalid_prompt" | "invalid_request_error" => {
            ErrorKind::InvalidRequest
        }
        c if c.starts_with("invalid_") || c.contains("image") => ErrorKind::InvalidRequest,
        _ => ErrorKind::Api,
    }
}

/// The code to write for a canonical error: its own code if any, else one
/// for its kind.
pub(super) fn code_from_ir(error: &Error) -> String {
    if let Some(code) = &error.code {
        return code.clone();
    }
    match error.kind {
        ErrorKind::RateLimit => "rate_limit_exceeded",
        ErrorKind::Billing => "insufficient_quota",
        ErrorKind::Authentication => "invalid_api_key",
        ErrorKind::NotFound => "model_not_found",
        ErrorKind::InvalidRequest | ErrorKind::RequestTooLarge | ErrorKind::Permission => {
            "invalid_request_error"
        }
        ErrorKind::Overloaded => "server_is_overloaded",
        ErrorKind::Timeout => "timeout",
        ErrorKind::Api => "server_error",
    }
    .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_both_ways() {
        for kind in [
            ErrorKind::RateLimit,
            ErrorKind::Billing,
            ErrorKind::Authentication,
            ErrorKind::NotFound,
            ErrorKind::InvalidRequest,
            ErrorKind::Overloaded,
            ErrorKind::Timeout,
            ErrorKind::Api,
        ] {
            let code = code_from_ir(&Error::new(kind, "x"));
            assert_eq!(code_error(Some(code), "x".to_owned()).kind, kind);
        }
        let nested = serde_json::json!({"type": "invalid_request_error", "message": "too long"});
        let e = event_error(None, String::new(), Some(&nested));
        assert_eq!(
            (e.kind, e.message.as_str()),
            (ErrorKind::InvalidRequest, "too long")
        );
    }
}
