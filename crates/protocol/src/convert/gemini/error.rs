//! Errors: Google error bodies ⇄ canonical.
//!
//! | kind | Gemini `status` (HTTP `code` is the canonical error's status) |
//! |---|---|
//! | InvalidRequest, RequestTooLarge | `INVALID_ARGUMENT` |
//! | Authentication | `UNAUTHENTICATED` |
//! | Billing | `RESOURCE_EXHAUSTED` (quota exhausted) |
//! | Permission | `PERMISSION_DENIED` |
//! | NotFound | `NOT_FOUND` |
//! | RateLimit | `RESOURCE_EXHAUSTED` |
//! | Api | `INTERNAL` |
//! | Overloaded | `UNAVAILABLE` |
//! | Timeout | `DEADLINE_EXCEEDED` |
//!
//! Decoding reads `FAILED_PRECONDITION` and `OUT_OF_RANGE` as invalid
//! requests, `UNKNOWN`, `DATA_LOSS`, `UNIMPLEMENTED`, `CANCELLED` and
//! `ABORTED` as API errors, and keeps the status name as the canonical
//! `code`.

use serde_json::Map;

use crate::gemini::{GeminiErrorBody, GeminiErrorObject};
use crate::ir::{Error, ErrorKind};

/// Decodes a Google error object. `status` is the HTTP status when known
/// (not for errors inside a stream); without it the kind comes from the
/// status name, else from the numeric `code`.
pub fn error_to_ir(status: Option<u16>, error: &GeminiErrorObject) -> Error {
    let body_status = error.code.and_then(|c| u16::try_from(c).ok());
    let kind = match status {
        Some(status) => ErrorKind::from_status(status),
        None => kind_from_status_name(&error.status)
            .or_else(|| body_status.map(ErrorKind::from_status))
            .unwrap_or(ErrorKind::Api),
    };
    Error {
        status: status
            .or(body_status.filter(|s| (400..=599).contains(s)))
            .unwrap_or_else(|| kind.status()),
        kind,
        message: error.message.clone(),
        code: (!error.status.is_empty()).then(|| error.status.clone()),
    }
}

/// The kind a Google status name implies.
pub fn kind_from_status_name(name: &str) -> Option<ErrorKind> {
    Some(match name {
        "INVALID_ARGUMENT" | "FAILED_PRECONDITION" | "OUT_OF_RANGE" => ErrorKind::InvalidRequest,
        "UNAUTHENTICATED" => ErrorKind::Authentication,
        "PERMISSION_DENIED" => ErrorKind::Permission,
        "NOT_FOUND" => ErrorKind::NotFound,
        "RESOURCE_EXHAUSTED" => ErrorKind::RateLimit,
        "INTERNAL" | "UNKNOWN" | "DATA_LOSS" | "UNIMPLEMENTED" | "CANCELLED" | "ABORTED" => {
            ErrorKind::Api
        }
        "UNAVAILABLE" => ErrorKind::Overloaded,
        "DEADLINE_EXCEEDED" => ErrorKind::Timeout,
        _ => return None,
    })
}

/// The Google status name for a kind.
pub fn status_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidRequest | ErrorKind::RequestTooLarge => "INVALID_ARGUMENT",
        ErrorKind::Authentication => "UNAUTHENTICATED",
        ErrorKind::Billing | ErrorKind::RateLimit => "RESOURCE_EXHAUSTED",
        ErrorKind::Permission => "PERMISSION_DENIED",
        ErrorKind::NotFound => "NOT_FOUND",
        ErrorKind::Api => "INTERNAL",
        ErrorKind::Overloaded => "UNAVAILABLE",
        ErrorKind::Timeout => "DEADLINE_EXCEEDED",
    }
}

/// Encodes a canonical error as a Google error body (`code` = the error's
/// HTTP status, except Anthropic's 529, which Google spells 503).
pub fn error_from_ir(error: &Error) -> GeminiErrorBody {
    let code = if error.status == 529 {
        503
    } else {
        error.status
    };
    GeminiErrorBody {
        error: GeminiErrorObject {
            code: Some(i64::from(code)),
            message: error.message.clone(),
            status: status_name(error.kind).to_owned(),
            details: None,
            extra: Map::new(),
        },
    }
}

/// Reads any upstream error body: the Google shape, else whatever
/// [`crate::convert::error_body_to_ir`] recognises (OpenAI, Anthropic, raw
/// text). The kind follows `status`.
pub fn error_body_to_ir(status: u16, body: &[u8]) -> Error {
    match GeminiErrorBody::parse(body) {
        Some(body) => error_to_ir(Some(status), &body.error),
        None => crate::convert::error_body_to_ir(status, body),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        let e = error_body_to_ir(
            429,
            br#"{"error":{"code":429,"message":"Quota exceeded","status":"RESOURCE_EXHAUSTED"}}"#,
        );
        assert_eq!(
            (e.kind, e.status, e.code.as_deref()),
            (ErrorKind::RateLimit, 429, Some("RESOURCE_EXHAUSTED"))
        );
        let in_stream = error_to_ir(
            None,
            &GeminiErrorObject {
                code: Some(503),
                message: "overloaded".into(),
                status: "UNAVAILABLE".into(),
                ..GeminiErrorObject::default()
            },
        );
        assert_eq!(
            (in_stream.kind, in_stream.status),
            (ErrorKind::Overloaded, 503)
        );
        let body = error_from_ir(&Error::new(ErrorKind::NotFound, "no such model"));
        assert_eq!(
            (body.error.code, body.error.status.as_str()),
            (Some(404), "NOT_FOUND")
        );
        let openai = error_body_to_ir(
            401,
            br#"{"error":{"message":"bad key","type":"invalid_request_error"}}"#,
        );
        assert_eq!(openai.kind, ErrorKind::Authentication);
    }
}
