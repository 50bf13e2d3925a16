//! The per-request context shared by the protocol modules, and a tiny JSON writer.

use bytes::Bytes;

use crate::text;

/// Everything a protocol module needs to render one response.
#[derive(Debug, Clone)]
pub struct Ctx<'a> {
    /// Model name, raw from the request (still JSON-escaped, so safe to write back).
    pub model: &'a str,
    /// Unique number of this response (used in ids).
    pub id: u64,
    /// Unix time of the server start (the `created` field).
    pub created: u64,
    /// Prompt token estimate (request body bytes / 4).
    pub prompt_tokens: u64,
    /// The completion text.
    pub text: Bytes,
    /// Number of stream content chunks.
    pub chunks: usize,
    /// Whether an OpenAI stream ends with a usage chunk.
    pub include_usage: bool,
}

impl Ctx<'_> {
    /// Completion token estimate.
    pub fn completion_tokens(&self) -> u64 {
        text::tokens(self.text.len())
    }

    /// The text of content chunk `i`.
    pub fn chunk(&self, i: usize) -> &[u8] {
        self.text
            .get(text::chunk_range(self.text.len(), self.chunks, i))
            .unwrap_or_default()
    }
}

/// Appending JSON fragments to a byte buffer.
pub trait JsonOut {
    /// Appends a literal fragment.
    fn put(&mut self, s: &str) -> &mut Self;
    /// Appends raw bytes (already valid inside the JSON being written).
    fn put_bytes(&mut self, b: &[u8]) -> &mut Self;
    /// Appends a decimal number.
    fn num(&mut self, n: u64) -> &mut Self;
}

impl JsonOut for Vec<u8> {
    fn put(&mut self, s: &str) -> &mut Self {
        self.extend_from_slice(s.as_bytes());
        self
    }

    fn put_bytes(&mut self, b: &[u8]) -> &mut Self {
        self.extend_from_slice(b);
        self
    }

    fn num(&mut self, mut n: u64) -> &mut Self {
        let mut tmp = [0u8; 20];
        let mut i = tmp.len();
        loop {
            i -= 1;
            tmp[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.extend_from_slice(&tmp[i..]);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_numbers() {
        let mut v = Vec::new();
        v.num(0).put(",").num(1234567890).put(",").num(u64::MAX);
        assert_eq!(v, b"0,1234567890,18446744073709551615");
    }
}
