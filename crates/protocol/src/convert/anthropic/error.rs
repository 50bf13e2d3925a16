//! Errors: Anthropic error bodies ⇄ canonical.
//!
//! | kind | Anthropic `type` (status) |
//! |---|---|
//! | InvalidRequest | `invalid_request_error` (400) |
//! | Authentication | `authentication_error` (401) |
//! | Billing | `billing_error` (402) |
//! | Permission | `permission_error` (403) |
//! | NotFound | `not_found_error` (404) |
//! | RequestTooLarge | `request_too_large` (413) |
//! | RateLimit | `rate_limit_error` (429) |
//! | Api | `api_error` (500) |
//! | Timeout | `timeout_error` (504) |
//! | Overloaded | `overloaded_error` (529) |
//!
//! Decoding keeps Anthropic's type as the canonical `code`.

use crate::anthropic::{AnthropicErrorBody, AnthropicErrorObject};
use crate::ir::{Error, ErrorKind};

/// Decodes an Anthropic error object. `status` is the HTTP status when
/// known (not for stream `error` events); without it the kind comes from
/// the type.
pub fn error_to_ir(status: Option<u16>, error: &AnthropicErrorObject) -> Error {
    let kind = match status {
        Some(status) => ErrorKind::from_status(status),
        None => kind_from_type(&error.kind),
    };
    Error {
        status: status.unwrap_or_else(|| kind.status()),
        kind,
        message: error.message.clone(),
        code: (!error.kind.is_empty()).then(|| error.kind.clone()),
    }
}

fn kind_from_type(kind: &str) -> ErrorKind {
    match kind {
        "invalid_request_error" => ErrorKind::InvalidRequest,
        "authentication_error" => ErrorKind::Authentication,
        "billing_error" => ErrorKind::Billing,
        "permission_error" => ErrorKind::Permission,
        "not_found_error" => ErrorKind::NotFound,
        "request_too_large" => ErrorKind::RequestTooLarge,
        "rate_limit_error" => ErrorKind::RateLimit,
        "timeout_error" => ErrorKind::Timeout,
        "overloaded_error" => ErrorKind::Overloaded,
        _ => ErrorKind::Api,
    }
}

/// The Anthropic type name for a kind.
pub fn error_type(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidRequest => "invalid_request_error",
        ErrorKind::Authentication => "authentication_error",
        ErrorKind::Billing => "billing_error",
        ErrorKind::Permission => "permission_error",
        ErrorKind::NotFound => "not_found_error",
        ErrorKind::RequestTooLarge => "request_too_large",
        ErrorKind::RateLimit => "rate_limit_error",
        ErrorKind::Api => "api_error",
        ErrorKind::Timeout => "timeout_error",
        ErrorKind::Overloaded => "overloaded_error",
    }
}

/// Encodes a canonical error as an Anthropic error body.
pub fn error_from_ir(error: &Error) -> AnthropicErrorBody {
    AnthropicErrorBody {
        kind: "error".to_owned(),
        error: AnthropicErrorObject {
            kind: error_type(error.kind).to_owned(),
            message: error.message.clone(),
            extra: serde_json::Map::new(),
        },
        request_id: None,
    }
}
