//! Incremental decoder of `application/vnd.amazon.eventstream` (the body of
//! `InvokeModelWithResponseStream`), and the classification of its messages
//! into Bedrock events.

use base64::Engine;
use bytes::{Buf, Bytes, BytesMut};
use serde::Deserialize;
use thiserror::Error;

use super::frame::{HeaderValue, OVERHEAD, PRELUDE_LEN, parse_headers};

/// Default cap on one message's total length (the event-stream limit, 16 MiB).
pub const DEFAULT_MAX_FRAME_LEN: usize = 16 * 1024 * 1024;

/// Why the event stream cannot be decoded. After one, the decoder stays failed.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum EventStreamError {
    /// The prelude CRC does not match.
    #[error("event stream prelude CRC mismatch")]
    PreludeCrc,
    /// The message CRC does not match.
    #[error("event stream message CRC mismatch")]
    MessageCrc,
    /// A message declares a length above the decoder's cap.
    #[error("event stream message of {len} bytes exceeds the {max}-byte limit")]
    FrameTooLarge {
        /// Declared total length.
        len: usize,
        /// Configured cap.
        max: usize,
    },
    /// The lengths or headers are inconsistent.
    #[error("malformed event stream message: {0}")]
    Malformed(&'static str),
    /// A header has a value type outside 0–9.
    #[error("unknown event stream header value type {0}")]
    UnknownHeaderType(u8),
    /// The stream ended inside a message.
    #[error("event stream ended with {0} bytes of an incomplete message")]
    Truncated(usize),
    /// A `chunk` payload is not `{"bytes": base64}` of a JSON event.
    #[error("invalid Bedrock chunk payload: {0}")]
    Chunk(String),
}

/// One decoded event-stream message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Headers in wire order.
    pub headers: Vec<(String, HeaderValue)>,
    /// Payload bytes.
    pub payload: Bytes,
}

impl Message {
    /// The value of string header `name`, if present.
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.headers.iter().find_map(|(n, v)| match v {
            HeaderValue::String(s) if n == name => Some(s.as_str()),
            _ => None,
        })
    }
}

/// A Bedrock stream event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BedrockEvent {
    /// `:event-type` = `chunk`: the decoded Anthropic streaming event JSON.
    Chunk(Vec<u8>),
    /// An exception (`:message-type` = `exception`, or a generic `error`).
    Exception {
        /// E.g. `throttlingException`.
        exception_type: String,
        /// The upstream message.
        message: String,
    },
    /// Any other event (ignored by the SSE conversion).
    Other {
        /// Its `:event-type`, if any.
        event_type: Option<String>,
    },
}

#[derive(Deserialize)]
struct ChunkPayload {
    bytes: String,
}

#[derive(Deserialize)]
struct ExceptionPayload {
    #[serde(alias = "Message")]
    message: Option<String>,
}

impl BedrockEvent {
    /// Classify a message.
    pub fn from_message(message: &Message) -> Result<Self, EventStreamError> {
        match message.header_str(":message-type") {
            Some("exception") => Ok(Self::Exception {
                exception_type: message
                    .header_str(":exception-type")
                    .unwrap_or("unknownException")
                    .to_owned(),
                message: serde_json::from_slice::<ExceptionPayload>(&message.payload)
                    .ok()
                    .and_then(|p| p.message)
                    .unwrap_or_else(|| String::from_utf8_lossy(&message.payload).into_owned()),
            }),
            Some("error") => Ok(Self::Exception {
                exception_type: message
                    .header_str(":error-code")
                    .unwrap_or("unknownError")
                    .to_owned(),
                message: message
                    .header_str(":error-message")
                    .unwrap_or("")
                    .to_owned(),
            }),
            _ => match message.header_str(":event-type") {
                Some("chunk") => decode_chunk(&message.payload).map(Self::Chunk),
                other => Ok(Self::Other {
                    event_type: other.map(str::to_owned),
                }),
            },
        }
    }
}

fn decode_chunk(payload: &[u8]) -> Result<Vec<u8>, EventStreamError> {
    let chunk: ChunkPayload =
        serde_json::from_slice(payload).map_err(|e| EventStreamError::Chunk(e.to_string()))?;
    base64::engine::general_purpose::STANDARD
        .decode(chunk.bytes.as_bytes())
        .map_err(|e| EventStreamError::Chunk(e.to_string()))
}

/// Incremental decoder: [`push`](Self::push) bytes as they arrive in any
/// split, then pull complete messages with [`next_message`](Self::next_message)
/// or [`next_event`](Self::next_event) until they return `Ok(None)`.
#[derive(Debug)]
pub struct EventStreamDecoder {
    buf: BytesMut,
    max_frame_len: usize,
    failed: Option<EventStreamError>,
}

impl Default for EventStreamDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl EventStreamDecoder {
    /// A decoder with the [`DEFAULT_MAX_FRAME_LEN`] cap.
    pub fn new() -> Self {
        Self::with_max_frame_len(DEFAULT_MAX_FRAME_LEN)
    }

    /// A decoder refusing messages longer than `max_frame_len` bytes.
    pub fn with_max_frame_len(max_frame_len: usize) -> Self {
        Self {
            buf: BytesMut::new(),
            max_frame_len,
            failed: None,
        }
    }

    /// Append received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.failed.is_none() {
            self.buf.extend_from_slice(bytes);
        }
    }

    /// Bytes buffered but not yet decoded.
    pub fn buffered_len(&self) -> usize {
        self.buf.len()
    }

    /// The next complete message, `Ok(None)` if more bytes are needed.
    pub fn next_message(&mut self) -> Result<Option<Message>, EventStreamError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        let result = self.decode();
        if let Err(error) = &result {
            self.failed = Some(error.clone());
            self.buf.clear();
        }
        result
    }

    /// The next complete message classified as a [`BedrockEvent`].
    pub fn next_event(&mut self) -> Result<Option<BedrockEvent>, EventStreamError> {
        let Some(message) = self.next_message()? else {
            return Ok(None);
        };
        let event = BedrockEvent::from_message(&message);
        if let Err(error) = &event {
            self.failed = Some(error.clone());
        }
        event.map(Some)
    }

    /// Call at end of body: an error if an incomplete message is buffered.
    pub fn finish(&self) -> Result<(), EventStreamError> {
        match &self.failed {
            Some(error) => Err(error.clone()),
            None if self.buf.is_empty() => Ok(()),
            None => Err(EventStreamError::Truncated(self.buf.len())),
        }
    }

    fn decode(&mut self) -> Result<Option<Message>, EventStreamError> {
        let Some(prelude) = self.buf.get(..PRELUDE_LEN) else {
            return Ok(None);
        };
        let word = |i: usize| {
            let mut b = [0u8; 4];
            b.copy_from_slice(&prelude[i..i + 4]);
            u32::from_be_bytes(b)
        };
        let (total, headers_len, prelude_crc) = (word(0) as usize, word(4) as usize, word(8));
        if crc32fast::hash(&prelude[..8]) != prelude_crc {
            return Err(EventStreamError::PreludeCrc);
        }
        if total > self.max_frame_len {
            return Err(EventStreamError::FrameTooLarge {
                len: total,
                max: self.max_frame_len,
            });
        }
        if total < OVERHEAD || headers_len > total - OVERHEAD {
            return Err(EventStreamError::Malformed("lengths are inconsistent"));
        }
        if self.buf.len() < total {
            return Ok(None);
        }
        let mut frame = self.buf.split_to(total).freeze();
        let body_len = total - 4;
        let crc = (&frame[body_len..]).get_u32();
        if crc32fast::hash(&frame[..body_len]) != crc {
            return Err(EventStreamError::MessageCrc);
        }
        let headers = parse_headers(&frame[PRELUDE_LEN..PRELUDE_LEN + headers_len])?;
        frame.truncate(body_len);
        frame.advance(PRELUDE_LEN + headers_len);
        Ok(Some(Message {
            headers,
            payload: frame,
        }))
    }
}

#[cfg(test)]
#[path = "eventstream_tests.rs"]
mod tests;
