//! OpenAI Chat Completions ⇄ canonical form.
//!
//! - [`request_to_ir`] / [`request_from_ir`]: request bodies.
//! - [`response_to_ir`] / [`response_from_ir`]: non-streamed responses.
//! - [`OpenAiStreamDecoder`] / [`OpenAiStreamEncoder`]: streams.
//! - [`error_to_ir`] / [`error_from_ir`]: error bodies.
//! - [`finish_reason_to_ir`] / [`finish_reason_from_ir`] and
//!   [`usage_from_ir`] (the reverse is [`OpenAiUsage::to_usage`](crate::openai::OpenAiUsage::to_usage)).
//!
//! Reasoning travels in the fields documented on
//! [`ChatMessage`](crate::openai::ChatMessage): `reasoning_content`,
//! `reasoning_signature` and `thinking_blocks`.

mod content;
mod error;
mod request_in;
mod request_out;
mod response;
mod stream_decode;
mod stream_encode;

pub use error::{error_from_ir, error_to_ir};
pub use request_in::request_to_ir;
pub use request_out::request_from_ir;
pub use response::{
    finish_reason_from_ir, finish_reason_to_ir, response_from_ir, response_to_ir, usage_from_ir,
};
pub use stream_decode::OpenAiStreamDecoder;
pub use stream_encode::{OpenAiStreamEncoder, OpenAiStreamItem};
