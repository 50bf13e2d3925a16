//! Header values the relay writes itself (the `X-RateLimit-*` figures),
//! cut from one shared buffer.
//!
//! A `HeaderValue` owns its bytes, and building one from a number or a
//! `String` costs one or two allocations each. The values written here are
//! appended to one buffer and split off it as they are finished: the
//! buffer's first split shares it, so a response's values cost two
//! allocations between them. Pure: no I/O.

use bytes::BytesMut;
use http::HeaderValue;

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
