//! AWS Bedrock (channel type 33): everything the relay needs to send an
//! Anthropic Messages request to Claude on Bedrock and read the answer.
//!
//! This module owns the channel key format ([`BedrockKey`]), the upstream URL
//! ([`invoke_url`]), the model-id mapping ([`bedrock_model_id`]), the request
//! body rewrite ([`to_invoke_body`]), SigV4 signing ([`sign_sigv4`],
//! [`BedrockKey::auth_headers`]), the `application/vnd.amazon.eventstream`
//! decoder and encoders ([`EventStreamDecoder`], [`encode_chunk_frame`],
//! [`encode_exception_frame`]), the stream conversion to Anthropic SSE
//! ([`BedrockToSse`]) and the error-body conversion ([`error_to_anthropic`]).
//! It does no I/O: the relay sends the request and feeds the answer in.

mod body;
mod error;
mod eventstream;
mod frame;
mod key;
mod models;
mod sign;
mod sse;

use thiserror::Error;

pub use body::{
    BEDROCK_ANTHROPIC_VERSION, STRIPPED_FIELDS, SUPPORTED_BETA_PREFIXES, to_invoke_body,
};
pub use error::{anthropic_error_type, error_to_anthropic};
pub use eventstream::{
    BedrockEvent, DEFAULT_MAX_FRAME_LEN, EventStreamDecoder, EventStreamError, Message,
};
pub use frame::{HeaderValue, encode_chunk_frame, encode_exception_frame, encode_frame};
pub use key::{BedrockAuth, BedrockKey, SigV4Credentials};
pub use models::{bedrock_model_id, region_geography};
pub use sign::{SignRequest, sign_sigv4};
pub use sse::{BedrockToSse, anthropic_error_sse};

/// The service name Bedrock runtime requests are signed for.
pub const SIGNING_SERVICE: &str = "bedrock";

/// Why a Bedrock request cannot be built.
#[derive(Debug, Error)]
pub enum BedrockError {
    /// The channel key does not have one of the accepted shapes.
    #[error("invalid Bedrock key: {0}")]
    Key(String),
    /// The client's request body is not a JSON object.
    #[error("request body is not a JSON object: {0}")]
    Body(String),
    /// The request could not be signed.
    #[error("cannot sign Bedrock request: {0}")]
    Sign(String),
}

/// The `InvokeModel` URL (`stream == false`) or the
/// `InvokeModelWithResponseStream` URL (`stream == true`) for `model_id`.
///
/// `model_id` is percent-encoded as one path segment (ARNs contain `:` and
/// `/`). A non-empty `base_url` replaces
/// `https://bedrock-runtime.{region}.amazonaws.com` (tests point it at a local
/// fake server).
pub fn invoke_url(base_url: &str, region: &str, model_id: &str, stream: bool) -> String {
    let base = base_url.trim().trim_end_matches('/');
    let host = if base.is_empty() {
        format!("https://bedrock-runtime.{region}.amazonaws.com")
    } else {
        base.to_owned()
    };
    let action = if stream {
        "invoke-with-response-stream"
    } else {
        "invoke"
    };
    format!("{host}/model/{}/{action}", urlencoding::encode(model_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invoke_urls() {
        assert_eq!(
            invoke_url(
                "",
                "us-east-1",
                "us.anthropic.claude-sonnet-4-20250514-v1:0",
                false
            ),
            "https://bedrock-runtime.us-east-1.amazonaws.com/model/us.anthropic.claude-sonnet-4-20250514-v1%3A0/invoke"
        );
        assert_eq!(
            invoke_url(
                "http://127.0.0.1:9/",
                "eu-west-1",
                "anthropic.claude-v2",
                true
            ),
            "http://127.0.0.1:9/model/anthropic.claude-v2/invoke-with-response-stream"
        );
        let arn = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.x";
        assert_eq!(
            invoke_url("", "us-east-1", arn, false),
            "https://bedrock-runtime.us-east-1.amazonaws.com/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.x/invoke"
        );
    }
}
