//! The admin envelope and the admin error type.

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde::Serialize;
use serde_json::json;

use crate::model::FieldError;
use crate::store::StoreError;

/// A successful admin answer: `{"success":true,"message":"","data":…}`.
#[derive(Debug)]
pub struct Envelope<T>(pub T);

/// Wrap data in a success envelope.
pub fn ok<T: Serialize>(data: T) -> Envelope<T> {
    Envelope(data)
}

impl<T: Serialize> IntoResponse for Envelope<T> {
    fn into_response(self) -> Response {
        Json(json!({ "success": true, "message": "", "data": self.0 })).into_response()
    }
}

/// A failed admin call.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// 400: invalid input (the message names the field).
    #[error("{0}")]
    BadRequest(String),
    /// 401: missing or wrong admin key.
    #[error("{0}")]
    Unauthorized(String),
    /// 404: no such record (the message ends in "record not found", as AI Proxy's).
    #[error("{0}")]
    NotFound(String),
    /// 405: the route exists but not for this method.
    #[error("{0}")]
    MethodNotAllowed(String),
    /// 409: conflicts with an existing record.
    #[error("{0}")]
    Conflict(String),
    /// 500: the server failed.
    #[error("{0}")]
    Internal(String),
    /// 502: an upstream provider failed (e.g. a balance API).
    #[error("{0}")]
    BadGateway(String),
}

/// Result of an admin handler.
pub type AdminResult<T> = Result<Envelope<T>, AdminError>;

impl AdminError {
    fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::BadGateway(_) => StatusCode::BAD_GATEWAY,
        }
    }
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        if let Self::Internal(message) = &self {
            tracing::error!(message, "admin request failed");
        }
        (
            self.status(),
            Json(json!({ "success": false, "message": self.to_string() })),
        )
            .into_response()
    }
}

impl From<StoreError> for AdminError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => Self::NotFound(format!("{what}: record not found")),
            StoreError::Conflict(message) => Self::Conflict(message),
            StoreError::LimitReached(message) => Self::BadRequest(message),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<FieldError> for AdminError {
    fn from(e: FieldError) -> Self {
        Self::BadRequest(e.0)
    }
}
