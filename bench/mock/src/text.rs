//! Generated completion text, its split into stream chunks, and token estimates.
//!
//! The text is plain ASCII without quotes or backslashes, so it can be written into a
//! JSON string as is. A long copy is generated once at start and sliced per request.

use bytes::Bytes;

const WORDS: &[u8] =
    b"lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor ";

/// Text pre-generated at start; requests needing at most this many bytes slice it.
pub const PREBUILT_TEXT_BYTES: usize = 64 * 1024;

/// Returns `len` bytes of filler text.
pub fn generate(len: usize) -> Bytes {
    Bytes::from(WORDS.iter().copied().cycle().take(len).collect::<Vec<u8>>())
}

/// Returns `len` bytes of text, slicing `prebuilt` when it is long enough.
pub fn text_of_len(prebuilt: &Bytes, len: usize) -> Bytes {
    if len <= prebuilt.len() {
        prebuilt.slice(..len)
    } else {
        generate(len)
    }
}

/// The byte range of chunk `i` of `n` when `len` bytes are split as evenly as possible.
pub fn chunk_range(len: usize, n: usize, i: usize) -> std::ops::Range<usize> {
    if n == 0 {
        return 0..0;
    }
    (i * len / n)..((i + 1) * len / n)
}

/// Token estimate used everywhere in the mock: one token per four bytes, rounded up.
pub fn tokens(bytes: usize) -> u64 {
    bytes.div_ceil(4) as u64
}

/// A deterministic embedding vector component in [-1, 1).
pub fn embedding_component(i: usize) -> f32 {
    ((i * 7919) % 2000) as f32 / 1000.0 - 1.0
}

/// The JSON array text of an embedding vector of `dims` components.
pub fn embedding_json(dims: usize) -> Bytes {
    use std::fmt::Write;
    let mut s = String::with_capacity(dims * 8 + 2);
    s.push('[');
    for i in 0..dims {
        if i > 0 {
            s.push(',');
        }
        let _ = write!(s, "{}", embedding_component(i));
    }
    s.push(']');
    Bytes::from(s)
}

/// The base64 text (without quotes) of an embedding of `dims` little-endian f32s.
pub fn embedding_base64(dims: usize) -> Bytes {
    use base64::Engine;
    let raw: Vec<u8> = (0..dims)
        .flat_map(|i| embedding_component(i).to_le_bytes())
        .collect();
    Bytes::from(base64::engine::general_purpose::STANDARD.encode(raw))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_text_exactly() {
        for (len, n) in [(256, 50), (7, 3), (50, 50), (1000, 1)] {
            let total: usize = (0..n).map(|i| chunk_range(len, n, i).len()).sum();
            assert_eq!(total, len);
            assert!((0..n).all(|i| len < n || !chunk_range(len, n, i).is_empty()));
        }
    }

    #[test]
    fn text_is_json_safe() {
        let t = generate(1000);
        assert_eq!(t.len(), 1000);
        assert!(t.iter().all(|b| b.is_ascii() && *b != b'"' && *b != b'\\'));
    }

    #[test]
    fn embedding_forms_agree() {
        let v: Vec<f32> = serde_json::from_slice(&embedding_json(5)).unwrap_or_default();
        assert_eq!(v.len(), 5);
        assert_eq!(embedding_base64(3).len(), 16);
    }
}
