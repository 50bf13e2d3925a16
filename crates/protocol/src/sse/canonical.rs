//! Recognising input that is already in the encoder's canonical form, so a
//! relay can forward a chunk as it came instead of decoding it and writing
//! the same bytes back out.

use memchr::memchr2;

/// The number of events in `chunk` when it holds nothing but whole, one-line
/// events exactly as [`encode_event`](super::encode_event) writes them, one
/// after another: `data: <value>\n\n`, or `event: <name>\ndata: <value>\n\n`
/// with a non-empty name; and `accept` returns true for each (it sees the
/// name, if any, and the value). `None` for anything else: an empty chunk,
/// a partial event, another field or a comment, other line endings, or an
/// event `accept` refused.
///
/// Such a chunk decodes to those events and re-encodes to itself, so it may
/// bypass a decoder that is between events
/// ([`SseDecoder::is_between_events`](super::SseDecoder::is_between_events)).
/// `accept` sees every event before the answer is known, so it should only
/// inspect: a later refusal means none of the events was taken.
pub fn whole_events(
    chunk: &[u8],
    mut accept: impl FnMut(Option<&[u8]>, &[u8]) -> bool,
) -> Option<u64> {
    if chunk.is_empty() {
        return None;
    }
    let mut rest = chunk;
    let mut count = 0;
    while !rest.is_empty() {
        let mut name = None;
        if let Some(line) = rest.strip_prefix(b"event: ") {
            let (value, after) = split_line(line)?;
            if value.is_empty() {
                return None;
            }
            name = Some(value);
            rest = after.strip_prefix(b"\n")?;
        }
        let (value, after) = split_line(rest.strip_prefix(b"data: ")?)?;
        rest = after.strip_prefix(b"\n\n")?;
        if !accept(name, value) {
            return None;
        }
        count += 1;
    }
    Some(count)
}

/// A line's text and what follows it from its line break, when that break
/// is a `\n` (a `\r` is never canonical).
fn split_line(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let end = memchr2(b'\n', b'\r', line)?;
    (line[end] == b'\n').then(|| line.split_at(end))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use bytes::{Bytes, BytesMut};

    use super::*;
    use crate::sse::{SseDecoder, SseItem};

    /// The count and values of a chunk of unnamed events.
    fn values(chunk: &str) -> Option<(u64, Vec<String>)> {
        let mut seen = Vec::new();
        let count = whole_events(chunk.as_bytes(), |name, v| {
            seen.push(String::from_utf8(v.to_vec()).unwrap());
            name.is_none()
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
            whole_events(b"data: a\n\ndata: b\n\n", |_, v| v == b"a"),
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

    #[test]
    fn named_events_are_counted_with_their_names() {
        let mut seen = Vec::new();
        let chunk = "event: content_block_delta\ndata: {\"a\":1}\n\ndata: b\n\n";
        let count = whole_events(chunk.as_bytes(), |name, value| {
            seen.push((name.map(<[u8]>::to_vec), value.to_vec()));
            true
        });
        assert_eq!(count, Some(2));
        assert_eq!(
            seen,
            [
                (Some(b"content_block_delta".to_vec()), b"{\"a\":1}".to_vec()),
                (None, b"b".to_vec()),
            ]
        );
        for other in [
            "event: \ndata: a\n\n",
            "event: x\r\ndata: a\n\n",
            "event: x\n\ndata: a\n\n",
            "event: x\nid: 1\ndata: a\n\n",
            "event: x\ndata: a\n",
            "event: x\n",
            "event:x\ndata: a\n\n",
            "data: a\nevent: x\n\n",
        ] {
            assert_eq!(
                whole_events(other.as_bytes(), |_, _| true),
                None,
                "{other:?}"
            );
        }
    }

    #[test]
    fn an_accepted_named_chunk_decodes_and_encodes_to_itself() {
        let chunk = "event: ping\ndata: {}\n\nevent:  spaced\ndata: x\n\ndata: y\n\n";
        assert_eq!(whole_events(chunk.as_bytes(), |_, _| true), Some(3));
        let mut decoder = SseDecoder::new(1 << 20);
        decoder
            .push_shared(&Bytes::from_static(chunk.as_bytes()))
            .unwrap();
        let mut encoded = BytesMut::new();
        while let Some(SseItem::Event(event)) = decoder.next_item() {
            event.encode(&mut encoded);
        }
        assert_eq!(&encoded[..], chunk.as_bytes());
        assert!(decoder.is_between_events());
    }
}
