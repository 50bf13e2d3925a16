//! Channel types (AI Proxy's numeric ids) and how to reach each upstream.
//!
//! [`CHANNEL_TYPES`] is the registry the admin API exposes as
//! `/api/channels/type_metas`; [`upstream_protocol`] says which protocol a
//! channel speaks for a client; [`target`] turns a channel, that protocol
//! and the upstream model name into the upstream URL and credentials. The
//! fake types (53, 55) answer locally; see [`fake`]. AWS Bedrock (33) and
//! Vertex AI (42) sign or authorize each request themselves: see [`bedrock`],
//! [`vertex`] and [`vertex_auth`].

pub mod balance;
pub mod bedrock;
pub mod fake;
mod registry;
mod route;
mod target;
pub mod vertex;
pub mod vertex_auth;

use http::HeaderValue;
use thiserror::Error;

pub use registry::{Adaptor, CHANNEL_TYPES, ChannelTypeInfo, channel_type};
pub use route::{
    is_responses_only_model, supports, upstream_protocol, upstream_protocol_for_model,
};
pub use target::{TargetRequest, anthropic_count_tokens_target, target};

use crate::relay::mode::Mode;

/// Why a channel cannot serve a request.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ProviderError {
    /// The channel's type does not offer this endpoint.
    #[error("channel type {channel_type} does not support {mode:?}")]
    UnsupportedMode {
        /// Type id.
        channel_type: i64,
        /// Requested mode.
        mode: Mode,
    },
    /// A credential in the key could not be used.
    #[error("channel {0} has a key that cannot be used: {1}")]
    InvalidKey(i64, String),
    /// The channel lacks a base URL and its type has no default.
    #[error("channel {0} has no base_url and its type has no default")]
    MissingBaseUrl(i64),
    /// The channel's key cannot be sent as a header.
    #[error("channel {0} has a key that is not a valid header value")]
    BadKey(i64),
    /// Unknown channel type.
    #[error("channel type {0} is not supported")]
    UnknownType(i64),
}

/// Where and how to send one upstream HTTP request.
#[derive(Debug, Clone)]
pub struct UpstreamTarget {
    /// Full URL.
    pub url: String,
    /// Credential header name and value, if any.
    pub auth: Option<(http::HeaderName, HeaderValue)>,
    /// Other headers the upstream needs (API version, beta flags).
    pub headers: Vec<(http::HeaderName, HeaderValue)>,
}

/// Client headers that some upstreams need passed on.
#[derive(Debug, Clone, Default)]
pub struct ClientHints {
    /// `anthropic-version` sent by an Anthropic client.
    pub anthropic_version: Option<HeaderValue>,
    /// `anthropic-beta` sent by an Anthropic client.
    pub anthropic_beta: Option<HeaderValue>,
    /// The client called `/v1/messages?beta=true`.
    pub beta_query: bool,
}

/// The Messages API version sent when the client named none.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";

/// Check a channel key of the types whose keys have a structure (Bedrock
/// 33, Vertex AI 42) when the channel is saved, so a malformed key is a 400
/// then rather than a `channel_misconfigured` error on every request. The
/// message never repeats the key.
pub fn check_key(channel_type: i64, key: &str) -> Result<(), String> {
    match channel_type {
        33 => bedrock::BedrockKey::parse(key)
            .map(|_| ())
            .map_err(|e| e.to_string()),
        42 => vertex::VertexKey::parse(key)
            .map(|_| ())
            .map_err(|e| e.to_string()),
        _ => Ok(()),
    }
}
