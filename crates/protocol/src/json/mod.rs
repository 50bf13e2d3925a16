//! Peeking into and patching JSON request and response bodies without a full
//! parse.
//!
//! The ingress reads a body once and needs only a few top-level members
//! (`model`, `stream`, `stream_options`, `user`, `max_tokens`, …); the adaptor
//! rewrites one or two of them and forwards everything else byte for byte. A
//! full `serde_json` parse of a 50 MB prompt would dominate the request's cost,
//! so this module instead:
//!
//! - scans the object's own level strictly and skips nested values with a fast
//!   structural check ([`scan_object`], [`scan_object_at`]), recording where
//!   each member's key and value sit ([`ObjectScan`], [`Member`],
//!   [`ValueSpan`]);
//! - decodes only the values asked for ([`ValueSpan::read_str`] and friends);
//! - applies a handful of edits in one pass with one allocation ([`Patch`],
//!   [`set_member`], [`remove_member`], [`replace_string_member`]).
//!
//! The scan never recurses, never panics and never accepts a truncated body;
//! it does not fully validate numbers or escapes inside nested values — the
//! upstream's parser does that.
//!
//! ```
//! use switchyard_protocol::json::{quote_str, scan_object, set_member, Patch};
//!
//! let body = br#"{"model":"gpt-4o","stream":true,"messages":[]}"#;
//! let scan = scan_object(body)?;
//! let model = scan.get(body, "model").map(|v| v.read_str(body)).transpose()?;
//! assert_eq!(model.as_deref(), Some("gpt-4o"));
//!
//! let mut patch = Patch::new();
//! set_member(&mut patch, body, &scan, "model", &quote_str("gpt-4o-2024-08-06"));
//! set_member(&mut patch, body, &scan, "stream_options", br#"{"include_usage":true}"#);
//! let patched = patch.apply(body)?;
//! assert_eq!(
//!     &patched[..],
//!     br#"{"model":"gpt-4o-2024-08-06","stream":true,"messages":[],"stream_options":{"include_usage":true}}"#
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod error;
mod escape;
mod lex;
mod members;
mod patch;
mod scan;
mod strings;
mod value;

pub use error::JsonScanError;
pub use escape::quote_str;
pub use members::{remove_member, replace_string_member, set_member};
pub use patch::{Patch, PatchError};
pub use scan::{Member, ObjectScan, scan_object, scan_object_at};
pub use value::{ValueKind, ValueSpan};
