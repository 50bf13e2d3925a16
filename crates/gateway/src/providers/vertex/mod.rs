//! Google Vertex AI (channel type 42): everything the relay needs to send a
//! request to a Vertex publisher model, without doing any I/O itself.
//!
//! This module owns the channel key format ([`VertexKey`]: `region|service
//! account JSON`, `region|api_key` or `region|project_id|api_key`), the choice
//! of publisher by model name ([`Publisher::for_model`]: `claude*` models go to
//! the Anthropic publisher, the rest to Google's), the endpoint URL
//! ([`endpoint_url`]), the Anthropic body rewrite for `rawPredict`
//! ([`to_raw_predict_body`]), the service-account JWT assertion
//! ([`assertion_claims`], [`sign_assertion`], [`token_request_body`]) and the
//! token endpoint's answer ([`parse_token_response`]).
//!
//! The relay sits around it: `providers::vertex_auth` fetches and caches the
//! OAuth token, `relay::attempt` builds and sends the request.

mod body;
mod jwt;
mod key;
mod pem;
mod token;
mod url;

use thiserror::Error;

pub use body::{VERTEX_ANTHROPIC_VERSION, to_raw_predict_body};
pub use jwt::{
    ASSERTION_LIFETIME_SECS, AssertionClaims, GRANT_TYPE, SCOPE, assertion_claims, sign_assertion,
    token_request_body,
};
pub use key::{DEFAULT_TOKEN_URI, ServiceAccount, VertexAuth, VertexKey};
pub use pem::rsa_private_key_der;
pub use token::{AccessToken, parse_token_response};
pub use url::{Publisher, endpoint_url, host};

/// Why a Vertex request cannot be built or authenticated.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum VertexError {
    /// The channel key does not have one of the accepted shapes.
    #[error("invalid Vertex AI key: {0}")]
    Key(String),
    /// The service account's private key cannot be used.
    #[error("invalid service-account private key: {0}")]
    PrivateKey(String),
    /// The JWT assertion could not be signed.
    #[error("cannot sign the service-account assertion: {0}")]
    Sign(String),
    /// The token endpoint answered with an error or an unreadable body.
    #[error("token endpoint: {0}")]
    Token(String),
    /// The request body is not a JSON object.
    #[error("request body is not a JSON object: {0}")]
    Body(String),
}
