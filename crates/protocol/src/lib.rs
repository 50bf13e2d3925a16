//! Pure protocol code for Switchyard.
//!
//! Everything here is free of I/O: wire types, the SSE codec, JSON peeking and
//! patching of request/response bodies without a full parse, usage
//! normalisation, token counting, and protocol conversion through a
//! canonical form ([`ir`], [`convert`]). The gateway crate wires these pieces into
//! the request path; this crate never touches a socket, a clock or a runtime.

pub mod anthropic;
pub mod convert;
pub mod gemini;
pub mod inspect;
pub mod ir;
pub mod json;
pub mod openai;
pub mod responses;
pub mod sse;
pub mod think_split;
pub mod tokens;
pub mod usage;

pub use usage::Usage;
