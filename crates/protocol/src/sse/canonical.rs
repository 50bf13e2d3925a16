//! Recognising input that is already in the encoder's canonical form, so a
//! relay can forward a chunk as it came instead of decoding it and writing
//! the same bytes back out.

use memchr::memchr2;

/// The number of events in `chunk` when it holds nothing but whole, unnamed,
/// one-line events exactly as [`encode_event`](super::encode_event) writes
/// them (`data: <value>\n\n`, one after another) and `accept` returns true
/// for each value; `None` for anything else: an empty chunk, a partial
/// event, another field or a comment, other line endings, or a value
/// `accept` refused.
///
/// Such a chunk decodes to those events and re-encodes to itself, so it may
/// bypass a decoder that is between events
/// ([`SseDecoder::is_between_events`](super::SseDecoder::is_between_events)).
/// `accept` sees every value before the answer is known, so it should only
/// inspect: a later refusal means none of the events was taken.
pub fn whole_data_events(chunk: &[u8], mut accept: impl FnMut(&[u8]) -> bool) -> Option<u64> {
    if chunk.is_empty() {
        return None;
    }
    let mut rest = chunk;
    let mut count = 0;
    while !rest.is_empty() {
        let line = rest.strip_prefix(b"data: ")?;
        let (value, after) = line.split_at(memchr2(b'\n', b'\r', line)?);
        rest = after.strip_prefix(b"\n\n")?;
        if !accept(value) {
            return None;
        }
        count += 1;
    }
    Some(count)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use bytes::{Bytes, BytesMut};

    use super::*;
    use crate::sse::{SseDecoder, SseItem};

    fn values(chunk: &str) -> Option<(u64, Vec<String>)> {
        let mut seen = Vec::new();
        let count = whole_data_events(chunk.as_bytes(), |v| {
            seen.push(String::from_utf8(v.to_vec()).unwrap());
            true
        })?;
        Some((count, seen))
    }

    #[test]
    fn whole_canonical_events_are_counted() {
        assert_eq!(
            values("data: {\"a\":1}\n\n"),
            Some((1, vec!["{\"a\":1}".into()]))
        );
        assert_eq!(
            values("data: a\n\ndata:  b: c\n\ndata: \n\n"),
            Some((3, vec!["a".into(), " b: c".into(), String::new()]))
        );
    }

    #[test]
    fn anything_else_goes_to_the_decoder() {
        for chunk in [
            "",
            "data: a",
            "data: a\n",
            "data: a\n\ndata: b\n",
            "data:a\n\n",
            "data: a\r\n\r\n",
            "data: a\r\r",
            "data: a\n\n\n",
            "event: x\ndata: a\n\n",
            "data: a\ndata: b\n\n",
            "id: 1\ndata: a\n\n",
            ": ping\n\n",
            "\ndata: a\n\n",
            "retry: 5\n\n",
        ] {
            assert_eq!(values(chunk), None, "{chunk:?}");
        }
        assert_eq!(
            whole_data_events(b"data: a\n\ndata: b\n\n", |v| v == b"a"),
            None
        );
    }

    #[test]
    fn an_accepted_chunk_decodes_to_its_values_and_encodes_to_itself() {
        let chunk = "data: {\"x\":\"y: z\"}\n\ndata:  lead\n\ndata: [DONE]\n\n";
        let (count, seen) = values(chunk).unwrap();
        let mut decoder = SseDecoder::new(1 << 20);
        assert!(decoder.is_between_events());
        decoder
            .push_shared(&Bytes::from_static(chunk.as_bytes()))
            .unwrap();
        let mut decoded = Vec::new();
        let mut encoded = BytesMut::new();
        while let Some(SseItem::Event(event)) = decoder.next_item() {
            decoded.push(String::from_utf8(event.data.to_vec()).unwrap());
            event.encode(&mut encoded);
        }
        assert_eq!(count, 3);
        assert_eq!(decoded, seen);
        assert_eq!(&encoded[..], chunk.as_bytes());
        assert!(decoder.is_between_events());
    }
}
