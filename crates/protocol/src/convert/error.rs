//! Why a conversion failed.

use crate::ir;

/// A conversion error. Every variant is the client's (or the upstream's)
/// fault, never a bug: converters do not panic on odd input.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConvertError {
    /// The body is not valid JSON of the expected shape.
    #[error("invalid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The body is well-formed but cannot be expressed in the target
    /// dialect (e.g. `n > 1` towards Anthropic).
    #[error("unsupported by the target protocol: {0}")]
    Unsupported(String),
    /// The body is well-formed JSON but semantically invalid (unknown role…).
    #[error("invalid request: {0}")]
    Invalid(String),
}

impl ConvertError {
    /// The error to show the client: a 400 `invalid_request` for request
    /// conversion failures.
    pub fn to_ir_error(&self) -> ir::Error {
        ir::Error::new(ir::ErrorKind::InvalidRequest, self.to_string())
    }
}
