//! Server-Sent Events: an incremental decoder for upstream streams and an
//! encoder for what the gateway sends to clients.
//!
//! The relay feeds each chunk of an upstream response body into an
//! [`SseDecoder`] as it arrives and pops complete [`SseItem`]s, whatever way
//! the network split the bytes; it forwards or converts them and writes them
//! back out with [`encode_event`] / [`encode_comment`]. The grammar follows
//! the WHATWG HTML specification ("Server-sent events", event stream
//! interpretation), with the deviations listed on [`SseDecoder`]. A chunk
//! already in the canonical form can skip the round trip
//! ([`whole_events`]), and a stream already sent can be read back
//! ([`replay_events`]).
//!
//! ```
//! use bytes::BytesMut;
//! use switchyard_protocol::sse::{SseDecoder, SseItem, encode_event};
//!
//! let mut decoder = SseDecoder::new(1 << 20);
//! decoder.push(b"data: {\"a\":1}\r\n\r\ndata: [DO")?;
//! decoder.push(b"NE]\n\n")?;
//! let Some(SseItem::Event(first)) = decoder.next_item() else { unreachable!() };
//! assert_eq!(&first.data[..], b"{\"a\":1}");
//! let Some(SseItem::Event(done)) = decoder.next_item() else { unreachable!() };
//! assert!(done.is_done());
//! assert!(decoder.next_item().is_none());
//!
//! let mut out = BytesMut::new();
//! encode_event(&mut out, Some(b"message_stop"), b"{}");
//! assert_eq!(&out[..], b"event: message_stop\ndata: {}\n\n");
//! # Ok::<(), switchyard_protocol::sse::SseError>(())
//! ```

mod canonical;
mod decoder;
mod encoder;
mod event;
mod replay;

pub use canonical::whole_events;
pub use decoder::{SseDecoder, SseError};
pub use encoder::{encode_comment, encode_event};
pub use event::{SseEvent, SseItem, is_done_data};
pub use replay::replay_events;
