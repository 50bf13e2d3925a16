//! Header values the gateway writes itself, without the extra allocation
//! and copy of `HeaderValue::from_str`.
//!
//! A `HeaderValue` owns its bytes, and building one from a number or a
//! `String` costs one or two allocations each. [`joined_value`] writes one
//! value at its exact size, which the value then takes over as it is
//! (`Server-Timing`, upstream credentials). [`HeaderText`] is for several
//! values at once (the `X-RateLimit-*` figures): they are appended to one
//! buffer and split off it as they are finished; the buffer's first split
//! shares it, so the values cost two allocations between them. Pure: no I/O.

use bytes::{Bytes, BytesMut};
use http::HeaderValue;

/// The concatenation of `parts` as one header value, in one allocation;
/// `None` when it is not a valid header value (a control character in it).
pub fn joined_value(parts: &[&[u8]]) -> Option<HeaderValue> {
    let mut text = Vec::with_capacity(parts.iter().map(|p| p.len()).sum());
    for part in parts {
        text.extend_from_slice(part);
    }
    HeaderValue::from_maybe_shared(Bytes::from(text)).ok()
}

/// A buffer that header values are written into and split off.
#[derive(Debug)]
pub struct HeaderText {
    buf: BytesMut,
}

impl HeaderText {
    /// A buffer with room for `bytes` of values (it grows if they need more).
    pub fn with_capacity(bytes: usize) -> Self {
        Self {
            buf: BytesMut::with_capacity(bytes),
        }
    }

    /// Append `text` to the value being written.
    pub fn push(&mut self, text: &str) {
        self.buf.extend_from_slice(text.as_bytes());
    }

    /// Append `n` in decimal to the value being written.
    pub fn push_int(&mut self, n: impl itoa::Integer) {
        self.push(itoa::Buffer::new().format(n));
    }

    /// The value written since the last one; `None` when it is not a valid
    /// header value (a control character in it). The buffer is empty again
    /// either way.
    pub fn finish(&mut self) -> Option<HeaderValue> {
        HeaderValue::from_maybe_shared(self.buf.split().freeze()).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joined_values_are_checked() {
        let value = joined_value(&[b"Bearer ", b"sk-1"]).unwrap();
        assert_eq!(value, "Bearer sk-1");
        assert!(
            joined_value(&[b"sk-", b"\r\n"]).is_none(),
            "a line break is refused"
        );
        assert_eq!(joined_value(&[]).unwrap(), "");
    }

    #[test]
    fn values_are_split_in_order() {
        let mut text = HeaderText::with_capacity(4);
        text.push_int(1200u64);
        text.push("ms");
        let first = text.finish();
        text.push_int(-7i64);
        let second = text.finish();
        text.push("a\nb");
        let invalid = text.finish();
        text.push("ok");
        let after_invalid = text.finish();
        assert_eq!(first.unwrap(), "1200ms", "grew past its capacity");
        assert_eq!(second.unwrap(), "-7");
        assert!(invalid.is_none(), "a newline is refused");
        assert_eq!(after_invalid.unwrap(), "ok", "a refused value is dropped");
    }
}
