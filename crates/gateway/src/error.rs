//! The one HTTP error type of the relay edge.
//!
//! [`ApiError`] knows its status and renders itself in the client's own
//! protocol: OpenAI `{"error":{"message","type","code"}}` (plus AI Proxy's
//! top-level `aiproxy` request id), Anthropic `{"type":"error","error":{…}}`
//! or Gemini `{"error":{"code","message","status"}}`. Rendering has no side
//! effects; the relay logs errors where they happen.

use std::time::Duration;

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use serde_json::{Value, json};

/// Which protocol shape an error is rendered in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Dialect {
    /// OpenAI (and AI Proxy) shape.
    #[default]
    OpenAi,
    /// Anthropic Messages shape.
    Anthropic,
    /// Gemini shape.
    Gemini,
}

/// An error answered to a relay client.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Error class (`invalid_request_error`, `aiproxy_error`, `upstream_error`, …).
    pub kind: &'static str,
    /// Machine-readable code, if any.
    pub code: Option<Value>,
    /// Human-readable message.
    pub message: String,
    /// Request id, added to the body.
    pub request_id: Option<String>,
    /// Extra headers (`Retry-After`, rate-limit headers).
    pub headers: Option<Box<HeaderMap>>,
    /// Shape to render.
    pub dialect: Dialect,
}

impl ApiError {
    /// An error with a status, class and message.
    pub fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            kind,
            code: None,
            message: message.into(),
            request_id: None,
            headers: None,
            dialect: Dialect::OpenAi,
        }
    }

    /// 400, malformed or invalid request.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request_error", message)
    }

    /// 401, missing or bad credentials.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "aiproxy_error", message)
    }

    /// 403, credentials valid but not allowed.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "aiproxy_error", message)
    }

    /// 404 for a model the caller cannot use.
    pub fn model_not_found(model: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            format!("The model `{model}` does not exist or you do not have access to it."),
        )
        .with_code("model_not_found")
    }

    /// 413, body over the limit.
    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request_error",
            format!("request body is larger than the limit of {limit} bytes"),
        )
        .with_code("request_too_large")
    }

    /// 408, the client stopped sending its request body for `idle`.
    pub fn request_timeout(idle: Duration) -> Self {
        Self::new(
            StatusCode::REQUEST_TIMEOUT,
            "invalid_request_error",
            format!(
                "the request body stalled: nothing arrived for {} s",
                idle.as_secs_f64()
            ),
        )
        .with_code("request_timeout")
    }

    /// 503, nothing can serve the request.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "aiproxy_error", message)
    }

    /// 502, the upstream failed.
    pub fn bad_gateway(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_GATEWAY, "upstream_error", message)
    }

    /// Set the machine-readable code.
    pub fn with_code(mut self, code: impl Into<Value>) -> Self {
        self.code = Some(code.into());
        self
    }

    /// Attach the request id.
    pub fn with_request_id(mut self, id: &str) -> Self {
        self.request_id = Some(id.to_owned());
        self
    }

    /// Render in another dialect.
    pub fn in_dialect(mut self, dialect: Dialect) -> Self {
        self.dialect = dialect;
        self
    }

    /// Add a response header.
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.get_or_insert_default().insert(name, value);
        self
    }

    /// The JSON body in the error's dialect.
    pub fn body(&self) -> Value {
        match self.dialect {
            Dialect::OpenAi => {
                let mut error = json!({ "message": self.message, "type": self.kind });
                if let Some(code) = &self.code {
                    error["code"] = code.clone();
                }
                let mut body = json!({ "error": error });
                if let Some(id) = &self.request_id {
                    body["aiproxy"] = Value::String(id.clone());
                }
                body
            }
            Dialect::Anthropic => {
                let mut body = json!({
                    "type": "error",
                    "error": { "type": anthropic_type(self.status), "message": self.message },
                });
                if let Some(id) = &self.request_id {
                    body["request_id"] = Value::String(id.clone());
                }
                body
            }
            Dialect::Gemini => json!({
                "error": {
                    "code": self.status.as_u16(),
                    "message": self.message,
                    "status": gemini_status(self.status),
                }
            }),
        }
    }
}

fn anthropic_type(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 | 408 | 422 => "invalid_request_error",
        413 => "request_too_large",
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        429 => "rate_limit_error",
        529 | 503 => "overloaded_error",
        _ => "api_error",
    }
}

fn gemini_status(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 | 413 | 422 => "INVALID_ARGUMENT",
        408 => "DEADLINE_EXCEEDED",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        429 => "RESOURCE_EXHAUSTED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        _ => "INTERNAL",
    }
}

/// The request id's response header (a constant: a name given as text is
/// parsed on every insert).
pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body())).into_response();
        if let Some(id) = self
            .request_id
            .as_deref()
            .and_then(|id| HeaderValue::from_str(id).ok())
        {
            response.headers_mut().insert(X_REQUEST_ID, id);
        }
        if let Some(headers) = self.headers {
            response.headers_mut().extend(*headers);
        }
        response
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openai_shape_carries_request_id() {
        let e = ApiError::model_not_found("x").with_request_id("r1");
        let b = e.body();
        assert_eq!(b["error"]["code"], "model_not_found");
        assert_eq!(b["error"]["type"], "invalid_request_error");
        assert_eq!(b["aiproxy"], "r1");
    }

    #[test]
    fn other_dialects() {
        let e = ApiError::unauthorized("no").in_dialect(Dialect::Anthropic);
        assert_eq!(e.body()["error"]["type"], "authentication_error");
        let e = ApiError::unauthorized("no").in_dialect(Dialect::Gemini);
        assert_eq!(e.body()["error"]["status"], "UNAUTHENTICATED");
    }
}
