//! The protocol-neutral error.

/// Error class, the union of the OpenAI and Anthropic taxonomies. Each kind
/// has a canonical HTTP status ([`ErrorKind::status`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Malformed or unacceptable request (400, 422).
    InvalidRequest,
    /// Bad or missing credentials (401).
    Authentication,
    /// Billing problem or quota exhausted (402).
    Billing,
    /// Credentials lack permission (403).
    Permission,
    /// Unknown model or resource (404).
    NotFound,
    /// Request body too large (413).
    RequestTooLarge,
    /// Rate limited (429).
    RateLimit,
    /// Internal upstream failure (500, 502 and other 5xx).
    Api,
    /// Upstream overloaded or unavailable (503, 529).
    Overloaded,
    /// Upstream timed out (504, 408).
    Timeout,
}

impl ErrorKind {
    /// The kind an HTTP status implies.
    pub fn from_status(status: u16) -> Self {
        match status {
            401 => Self::Authentication,
            402 => Self::Billing,
            403 => Self::Permission,
            404 => Self::NotFound,
            413 => Self::RequestTooLarge,
            429 => Self::RateLimit,
            408 | 504 => Self::Timeout,
            503 | 529 => Self::Overloaded,
            500..=599 => Self::Api,
            _ => Self::InvalidRequest,
        }
    }

    /// The canonical status of this kind.
    pub fn status(self) -> u16 {
        match self {
            Self::InvalidRequest => 400,
            Self::Authentication => 401,
            Self::Billing => 402,
            Self::Permission => 403,
            Self::NotFound => 404,
            Self::RequestTooLarge => 413,
            Self::RateLimit => 429,
            Self::Api => 500,
            Self::Overloaded => 529,
            Self::Timeout => 504,
        }
    }
}

/// An error in protocol-neutral form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// HTTP status to answer with (for stream errors, the status the error
    /// would have had).
    pub status: u16,
    /// Error class.
    pub kind: ErrorKind,
    /// Human-readable message.
    pub message: String,
    /// Machine-readable code from the upstream (OpenAI `code`, or the
    /// upstream's own type name when it has no equivalent kind), if any.
    pub code: Option<String>,
}

impl Error {
    /// An error of `kind` with its canonical status.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            status: kind.status(),
            kind,
            message: message.into(),
            code: None,
        }
    }

    /// An error for an HTTP status, its kind derived from the status.
    pub fn from_status(status: u16, message: impl Into<String>) -> Self {
        Self {
            status,
            kind: ErrorKind::from_status(status),
            message: message.into(),
            code: None,
        }
    }
}
