//! Request bodies and whole answers across protocols.
//!
//! Sits between the attempt and the upstream. [`request`] turns the
//! client's body into the body the channel's protocol expects: a `model`
//! patch when both sides speak the same protocol, a conversion through the
//! canonical form otherwise (where the gateway may also inline remote
//! media). [`response`] does the reverse for a non-stream answer, reading
//! usage and the upstream id on the way; [`embed`] converts embeddings
//! between OpenAI's and Gemini's shapes. Streams are handled by
//! [`super::processor`].

pub mod embed;
pub mod request;
pub mod response;

use switchyard_protocol::convert::ConvertError;
use thiserror::Error;

use super::protocol::Protocol;

pub use request::{UpstreamOptions, decode_request, encode_request};
pub use response::{Answer, AnswerContext, convert_answer};

/// Why a body could not be translated.
#[derive(Debug, Error)]
pub enum TranslateError {
    /// The client's request cannot be expressed for the upstream.
    #[error("the request cannot be converted for this channel: {0}")]
    Request(ConvertError),
    /// The client's request could not be patched.
    #[error("{0}")]
    Patch(String),
    /// The upstream's answer could not be read.
    #[error("the upstream answer cannot be converted: {0}")]
    Response(ConvertError),
    /// This pair of protocols has no conversion.
    #[error("no conversion from {client:?} requests to {upstream:?} channels")]
    Unsupported {
        /// Client protocol.
        client: Protocol,
        /// Upstream protocol.
        upstream: Protocol,
    },
}
