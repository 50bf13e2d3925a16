//! Anthropic Messages ⇄ canonical form.
//!
//! - [`request_to_ir`] / [`request_from_ir`]: request bodies (with the
//!   decisions documented in [`plan`] and the defaults in [`defaults`]).
//! - [`response_to_ir`] / [`response_from_ir`]: non-streamed responses;
//!   usage in Anthropic's counting is converted with
//!   [`AnthropicUsage::to_usage`](crate::anthropic::AnthropicUsage::to_usage)
//!   and [`AnthropicUsage::from_usage`](crate::anthropic::AnthropicUsage::from_usage).
//! - [`AnthropicStreamDecoder`] / [`AnthropicStreamEncoder`]: streams.
//! - [`error_to_ir`] / [`error_from_ir`]: error bodies.

mod content;
pub mod defaults;
mod error;
pub mod inspect;
pub mod plan;
mod request_in;
mod request_out;
mod response;
mod stream_decode;
mod stream_encode;

pub use defaults::{
    JSON_TOOL_NAME, OutputLimits, clamp_thinking, default_max_tokens, output_limits,
};
pub use error::{error_from_ir, error_to_ir, error_type};
pub use request_in::request_to_ir;
pub use request_out::request_from_ir;
pub use response::{response_from_ir, response_to_ir, stop_reason_from_ir, stop_reason_to_ir};
pub use stream_decode::AnthropicStreamDecoder;
pub use stream_encode::AnthropicStreamEncoder;
