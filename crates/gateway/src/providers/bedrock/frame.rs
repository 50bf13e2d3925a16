//! The `application/vnd.amazon.eventstream` message layout: header parsing
//! and message encoding.
//!
//! A message is `total_len: u32 BE`, `headers_len: u32 BE`,
//! `prelude_crc: u32 BE` (CRC32 of the first 8 bytes), the headers, the
//! payload, and `message_crc: u32 BE` (CRC32 of everything before it). A
//! header is `name_len: u8`, name, `type: u8` and a value whose size depends
//! on the type.

use base64::Engine;

use super::eventstream::EventStreamError;

/// Bytes of the prelude (two lengths and their CRC).
pub(super) const PRELUDE_LEN: usize = 12;
/// Bytes of prelude plus trailing message CRC.
pub(super) const OVERHEAD: usize = PRELUDE_LEN + 4;

/// A header value. Only strings matter to Bedrock; other types are kept so
/// they can be skipped (and inspected) correctly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderValue {
    /// Type 0 / 1.
    Bool(bool),
    /// Type 2.
    Byte(i8),
    /// Type 3.
    Short(i16),
    /// Type 4.
    Int(i32),
    /// Type 5.
    Long(i64),
    /// Type 6.
    Bytes(Vec<u8>),
    /// Type 7 (lossy UTF-8).
    String(String),
    /// Type 8: milliseconds since the Unix epoch.
    Timestamp(i64),
    /// Type 9.
    Uuid([u8; 16]),
}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], EventStreamError> {
        if self.bytes.len() < n {
            return Err(EventStreamError::Malformed(
                "header runs past the header block",
            ));
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], EventStreamError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn value(&mut self, kind: u8) -> Result<HeaderValue, EventStreamError> {
        Ok(match kind {
            0 => HeaderValue::Bool(true),
            1 => HeaderValue::Bool(false),
            2 => HeaderValue::Byte(i8::from_be_bytes(self.array()?)),
            3 => HeaderValue::Short(i16::from_be_bytes(self.array()?)),
            4 => HeaderValue::Int(i32::from_be_bytes(self.array()?)),
            5 => HeaderValue::Long(i64::from_be_bytes(self.array()?)),
            6 | 7 => {
                let len = usize::from(u16::from_be_bytes(self.array()?));
                let bytes = self.take(len)?;
                if kind == 6 {
                    HeaderValue::Bytes(bytes.to_vec())
                } else {
                    HeaderValue::String(String::from_utf8_lossy(bytes).into_owned())
                }
            }
            8 => HeaderValue::Timestamp(i64::from_be_bytes(self.array()?)),
            9 => HeaderValue::Uuid(self.array()?),
            other => return Err(EventStreamError::UnknownHeaderType(other)),
        })
    }
}

/// Parse a header block into `(name, value)` pairs.
pub(super) fn parse_headers(block: &[u8]) -> Result<Vec<(String, HeaderValue)>, EventStreamError> {
    let mut reader = Reader { bytes: block };
    let mut headers = Vec::new();
    while !reader.bytes.is_empty() {
        let [name_len] = reader.array::<1>()?;
        let name = String::from_utf8_lossy(reader.take(usize::from(name_len))?).into_owned();
        let [kind] = reader.array::<1>()?;
        headers.push((name, reader.value(kind)?));
    }
    Ok(headers)
}

/// Encode one message with string headers. Names longer than 255 bytes and
/// values longer than 65535 bytes are truncated (encoders are for tests and
/// fake servers).
pub fn encode_frame(headers: &[(&str, &str)], payload: &[u8]) -> Vec<u8> {
    let mut block = Vec::new();
    for (name, value) in headers {
        let name = &name.as_bytes()[..name.len().min(255)];
        let value = &value.as_bytes()[..value.len().min(usize::from(u16::MAX))];
        block.push(u8::try_from(name.len()).unwrap_or(u8::MAX));
        block.extend_from_slice(name);
        block.push(7);
        block.extend_from_slice(&u16::try_from(value.len()).unwrap_or(u16::MAX).to_be_bytes());
        block.extend_from_slice(value);
    }
    let total = OVERHEAD + block.len() + payload.len();
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&u32::try_from(total).unwrap_or(u32::MAX).to_be_bytes());
    out.extend_from_slice(&u32::try_from(block.len()).unwrap_or(u32::MAX).to_be_bytes());
    out.extend_from_slice(&crc32fast::hash(&out).to_be_bytes());
    out.extend_from_slice(&block);
    out.extend_from_slice(payload);
    out.extend_from_slice(&crc32fast::hash(&out).to_be_bytes());
    out
}

/// A Bedrock `chunk` event carrying one Anthropic streaming event JSON, as
/// `InvokeModelWithResponseStream` sends it.
pub fn encode_chunk_frame(anthropic_event_json: &[u8]) -> Vec<u8> {
    let b64 = base64::engine::general_purpose::STANDARD.encode(anthropic_event_json);
    let payload = serde_json::json!({ "bytes": b64 }).to_string();
    encode_frame(
        &[
            (":event-type", "chunk"),
            (":content-type", "application/json"),
            (":message-type", "event"),
        ],
        payload.as_bytes(),
    )
}

/// A Bedrock exception message (e.g. `throttlingException`) with payload
/// `{"message": message}`.
pub fn encode_exception_frame(exception_type: &str, message: &str) -> Vec<u8> {
    let payload = serde_json::json!({ "message": message }).to_string();
    encode_frame(
        &[
            (":exception-type", exception_type),
            (":content-type", "application/json"),
            (":message-type", "exception"),
        ],
        payload.as_bytes(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(name: &str, kind: u8, value: &[u8]) -> Vec<u8> {
        let mut out = vec![u8::try_from(name.len()).unwrap()];
        out.extend_from_slice(name.as_bytes());
        out.push(kind);
        out.extend_from_slice(value);
        out
    }

    #[test]
    fn parses_every_header_type() {
        let mut block = Vec::new();
        block.extend(header("t", 0, &[]));
        block.extend(header("f", 1, &[]));
        block.extend(header("b", 2, &[0xff]));
        block.extend(header("s", 3, &[0x01, 0x02]));
        block.extend(header("i", 4, &7i32.to_be_bytes()));
        block.extend(header("l", 5, &(-2i64).to_be_bytes()));
        block.extend(header("y", 6, &[0, 2, 9, 8]));
        block.extend(header("str", 7, &[0, 3, b'a', b'b', b'c']));
        block.extend(header("ts", 8, &1_700_000_000_000i64.to_be_bytes()));
        block.extend(header("u", 9, &[3; 16]));
        let parsed = parse_headers(&block).unwrap();
        let values: Vec<HeaderValue> = parsed.into_iter().map(|(_, v)| v).collect();
        assert_eq!(
            values,
            [
                HeaderValue::Bool(true),
                HeaderValue::Bool(false),
                HeaderValue::Byte(-1),
                HeaderValue::Short(0x0102),
                HeaderValue::Int(7),
                HeaderValue::Long(-2),
                HeaderValue::Bytes(vec![9, 8]),
                HeaderValue::String("abc".into()),
                HeaderValue::Timestamp(1_700_000_000_000),
                HeaderValue::Uuid([3; 16]),
            ]
        );
    }

    #[test]
    fn rejects_truncated_and_unknown_headers() {
        let block = header("s", 7, &[0, 9, b'a']);
        assert!(matches!(
            parse_headers(&block),
            Err(EventStreamError::Malformed(_))
        ));
        let block = header("x", 42, &[]);
        assert!(matches!(
            parse_headers(&block),
            Err(EventStreamError::UnknownHeaderType(42))
        ));
        assert!(matches!(
            parse_headers(&[5, b'a']),
            Err(EventStreamError::Malformed(_))
        ));
    }

    #[test]
    fn encoded_frame_layout() {
        let frame = encode_frame(&[("a", "b")], b"xy");
        assert_eq!(frame.len(), OVERHEAD + 1 + 1 + 1 + 2 + 1 + 2);
        assert_eq!(
            &frame[..4],
            &u32::try_from(frame.len()).unwrap().to_be_bytes()
        );
        assert_eq!(&frame[4..8], &6u32.to_be_bytes());
        assert_eq!(&frame[8..12], &crc32fast::hash(&frame[..8]).to_be_bytes());
        let body_end = frame.len() - 4;
        assert_eq!(
            &frame[body_end..],
            &crc32fast::hash(&frame[..body_end]).to_be_bytes()
        );
    }
}
