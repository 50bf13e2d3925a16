//! Errors: OpenAI error bodies ⇄ canonical.
//!
//! | kind | OpenAI `type` |
//! |---|---|
//! | InvalidRequest, NotFound, RequestTooLarge | `invalid_request_error` |
//! | Authentication | `authentication_error` |
//! | Permission | `permission_error` |
//! | Billing | `insufficient_quota` |
//! | RateLimit | `rate_limit_error` |
//! | Api, Overloaded | `server_error` |
//! | Timeout | `timeout_error` |
//!
//! The canonical `code` travels as OpenAI `code` (an Anthropic upstream's
//! error type lands there, e.g. `overloaded_error`).

use serde_json::{Map, Value};

use crate::ir::{Error, ErrorKind};
use crate::openai::{ErrorBody, ErrorObject};

/// Decodes an OpenAI error object. `status` is the HTTP status when known
/// (not for in-stream errors); without it the kind comes from `type`/`code`.
pub fn error_to_ir(status: Option<u16>, body: &ErrorBody) -> Error {
    let e = &body.error;
    let code = e.code.as_ref().and_then(|c| match c {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    });
    let kind = match status {
        Some(status) => ErrorKind::from_status(status),
        None => kind_from_names(&e.kind, code.as_deref()),
    };
    Error {
        status: status.unwrap_or_else(|| kind.status()),
        kind,
        message: e.message.clone(),
        code,
    }
}

/// Decodes an in-stream `error` value (an object, or a bare string).
pub(super) fn error_value_to_ir(status: Option<u16>, value: &Value) -> Error {
    match serde_json::from_value::<ErrorObject>(value.clone()) {
        Ok(error) => error_to_ir(status, &ErrorBody { error }),
        Err(_) => {
            let message = value
                .as_str()
                .map_or_else(|| value.to_string(), str::to_owned);
            Error::new(ErrorKind::Api, message)
        }
    }
}

fn kind_from_names(kind: &str, code: Option<&str>) -> ErrorKind {
    match (kind, code.unwrap_or("")) {
        (_, "invalid_api_key") | ("authentication_error", _) => ErrorKind::Authentication,
        (_, "model_not_found") | ("not_found_error", _) => ErrorKind::NotFound,
        ("permission_error", _) => ErrorKind::Permission,
        (_, "insufficient_quota") | ("insufficient_quota" | "billing_error", _) => {
            ErrorKind::Billing
        }
        (_, "rate_limit_exceeded") | ("rate_limit_error" | "requests" | "tokens", _) => {
            ErrorKind::RateLimit
        }
        (_, "overloaded_error") | ("overloaded_error" | "service_unavailable", _) => {
            ErrorKind::Overloaded
        }
        ("timeout_error", _) => ErrorKind::Timeout,
        ("request_too_large", _) => ErrorKind::RequestTooLarge,
        ("invalid_request_error", _) => ErrorKind::InvalidRequest,
        _ => ErrorKind::Api,
    }
}

/// Encodes a canonical error as an OpenAI error body.
pub fn error_from_ir(error: &Error) -> ErrorBody {
    let kind = match error.kind {
        ErrorKind::InvalidRequest | ErrorKind::NotFound | ErrorKind::RequestTooLarge => {
            "invalid_request_error"
        }
        ErrorKind::Authentication => "authentication_error",
        ErrorKind::Permission => "permission_error",
        ErrorKind::Billing => "insufficient_quota",
        ErrorKind::RateLimit => "rate_limit_error",
        ErrorKind::Api | ErrorKind::Overloaded => "server_error",
        ErrorKind::Timeout => "timeout_error",
    };
    ErrorBody {
        error: ErrorObject {
            message: error.message.clone(),
            kind: kind.to_owned(),
            param: None,
            code: error.code.clone().map(Value::String),
            extra: Map::new(),
        },
    }
}
