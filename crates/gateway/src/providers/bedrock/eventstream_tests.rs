//! Tests of the event-stream decoder (AWS smithy-rs test vectors, round
//! trips through the encoders, arbitrary splits).

use proptest::prelude::*;

use super::super::{encode_chunk_frame, encode_exception_frame, encode_frame};
use super::*;

/// `valid_with_all_headers_and_payload` from the smithy-rs event-stream test data.
const ALL_HEADERS: &str = "000000960000007a8bb495fb0474727565000566616c736501046279746502320573686f7274034e2003696e74040007a120046c6f6e67050000000ba43b740005627974657306000a736f6d6520627974657303737472070008736f6d65207374720474696d6508000000012a05f200047575696409b79bc914de214e13b8b2bc47e85b7f0b736f6d65207061796c6f616401a05860";
const EMPTY_PAYLOAD: &str = "0000001f0000000f172dc2ab0b736f6d652d6865616465720301f4933c5cad";
const NO_HEADERS: &str = "0000002400000000516356ad616e6f746865722074657374207061796c6f61648df80e65";

fn decode_all(bytes: &[u8]) -> Result<Vec<Message>, EventStreamError> {
    let mut decoder = EventStreamDecoder::new();
    decoder.push(bytes);
    let mut out = Vec::new();
    while let Some(message) = decoder.next_message()? {
        out.push(message);
    }
    decoder.finish()?;
    Ok(out)
}

fn one(hex_frame: &str) -> Result<Message, EventStreamError> {
    let mut messages = decode_all(&hex::decode(hex_frame).unwrap())?;
    assert_eq!(messages.len(), 1);
    Ok(messages.remove(0))
}

#[test]
fn smithy_valid_vectors() {
    let m = one(ALL_HEADERS).unwrap();
    assert_eq!(&m.payload[..], b"some payload");
    assert_eq!(m.header_str("str"), Some("some str"));
    let names: Vec<&str> = m.headers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "true", "false", "byte", "short", "int", "long", "bytes", "str", "time", "uuid"
        ]
    );
    assert_eq!(m.headers[3].1, HeaderValue::Short(20000));
    let m = one(EMPTY_PAYLOAD).unwrap();
    assert!(m.payload.is_empty());
    assert_eq!(
        m.headers,
        [("some-header".to_owned(), HeaderValue::Short(500))]
    );
    let m = one(NO_HEADERS).unwrap();
    assert!(m.headers.is_empty());
    assert_eq!(&m.payload[..], b"another test payload");
}

#[test]
fn smithy_invalid_vectors() {
    let prelude = ALL_HEADERS.replacen("8bb495fb", "deadbeef", 1);
    assert_eq!(one(&prelude).unwrap_err(), EventStreamError::PreludeCrc);
    let message = format!("{}deadbeef", &ALL_HEADERS[..ALL_HEADERS.len() - 8]);
    assert_eq!(one(&message).unwrap_err(), EventStreamError::MessageCrc);
    let bad_type = "000000960000007a8bb495fb0474727565000566616c736501046279746560320573686f7274034e2003696e74040007a120046c6f6e67050000000ba43b740005627974657306000a736f6d6520627974657303737472070008736f6d65207374720474696d6508000000012a05f200047575696409b79bc914de214e13b8b2bc47e85b7f0b736f6d65207061796c6f616401a05860";
    assert!(one(bad_type).is_err());
}

#[test]
fn header_type_errors_after_valid_crc() {
    let mut frame = encode_frame(&[], b"");
    // Rebuild with a header block holding an unknown type and fresh CRCs.
    let block = [1u8, b'x', 42];
    let total = u32::try_from(16 + block.len()).unwrap();
    frame.clear();
    frame.extend_from_slice(&total.to_be_bytes());
    frame.extend_from_slice(&3u32.to_be_bytes());
    frame.extend_from_slice(&crc32fast::hash(&frame).to_be_bytes());
    frame.extend_from_slice(&block);
    frame.extend_from_slice(&crc32fast::hash(&frame).to_be_bytes());
    assert_eq!(
        decode_all(&frame).unwrap_err(),
        EventStreamError::UnknownHeaderType(42)
    );
}

#[test]
fn bounded_frame_size_and_sticky_errors() {
    let frame = encode_chunk_frame(&[b'x'; 200]);
    let mut decoder = EventStreamDecoder::with_max_frame_len(100);
    decoder.push(&frame);
    let err = decoder.next_message().unwrap_err();
    assert!(
        matches!(err, EventStreamError::FrameTooLarge { max: 100, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("exceeds the 100-byte limit"));
    decoder.push(&encode_frame(&[], b"ok"));
    assert_eq!(decoder.next_message().unwrap_err(), err);
    assert_eq!(decoder.finish().unwrap_err(), err);
}

#[test]
fn truncated_stream_is_reported() {
    let frame = encode_frame(&[], b"payload");
    let mut decoder = EventStreamDecoder::new();
    decoder.push(&frame[..frame.len() - 1]);
    assert_eq!(decoder.next_message().unwrap(), None);
    assert_eq!(
        decoder.finish().unwrap_err(),
        EventStreamError::Truncated(frame.len() - 1)
    );
    let mut decoder = EventStreamDecoder::new();
    decoder.push(&[0, 0, 0, 5, 0, 0, 0, 0]);
    decoder.push(&crc32fast::hash(&[0, 0, 0, 5, 0, 0, 0, 0]).to_be_bytes());
    assert!(matches!(
        decoder.next_message(),
        Err(EventStreamError::Malformed(_))
    ));
}

#[test]
fn classifies_chunks_and_exceptions() {
    let json = br#"{"type":"message_stop"}"#;
    let mut decoder = EventStreamDecoder::new();
    decoder.push(&encode_chunk_frame(json));
    decoder.push(&encode_exception_frame("throttlingException", "slow down"));
    decoder.push(&encode_frame(
        &[
            (":message-type", "error"),
            (":error-code", "InternalFailure"),
            (":error-message", "boom"),
        ],
        b"",
    ));
    decoder.push(&encode_frame(
        &[(":message-type", "event"), (":event-type", "metadata")],
        b"{}",
    ));
    assert_eq!(
        decoder.next_event().unwrap(),
        Some(BedrockEvent::Chunk(json.to_vec()))
    );
    assert_eq!(
        decoder.next_event().unwrap(),
        Some(BedrockEvent::Exception {
            exception_type: "throttlingException".into(),
            message: "slow down".into()
        })
    );
    assert_eq!(
        decoder.next_event().unwrap(),
        Some(BedrockEvent::Exception {
            exception_type: "InternalFailure".into(),
            message: "boom".into()
        })
    );
    assert_eq!(
        decoder.next_event().unwrap(),
        Some(BedrockEvent::Other {
            event_type: Some("metadata".into())
        })
    );
    assert_eq!(decoder.next_event().unwrap(), None);
    decoder.finish().unwrap();
}

#[test]
fn bad_chunk_payload_is_an_error() {
    let frame = encode_frame(
        &[(":message-type", "event"), (":event-type", "chunk")],
        br#"{"bytes":"!!"}"#,
    );
    let mut decoder = EventStreamDecoder::new();
    decoder.push(&frame);
    assert!(matches!(
        decoder.next_event(),
        Err(EventStreamError::Chunk(_))
    ));
}

fn stream_of(events: &[String]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for (i, e) in events.iter().enumerate() {
        if i % 3 == 2 {
            bytes.extend(encode_exception_frame("validationException", e));
        } else {
            bytes.extend(encode_chunk_frame(e.as_bytes()));
        }
    }
    bytes
}

fn events_with_splits(bytes: &[u8], cuts: &[usize]) -> Vec<BedrockEvent> {
    let mut decoder = EventStreamDecoder::new();
    let mut out = Vec::new();
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    cuts.sort_unstable();
    let mut start = 0;
    for cut in cuts.into_iter().chain([bytes.len()]) {
        decoder.push(&bytes[start..cut]);
        start = cut;
        while let Some(event) = decoder.next_event().unwrap() {
            out.push(event);
        }
    }
    decoder.finish().unwrap();
    out
}

proptest! {
    #[test]
    fn any_split_yields_the_same_events(
        events in proptest::collection::vec("[ -~]{0,40}", 1..6),
        cuts in proptest::collection::vec(any::<usize>(), 0..12),
    ) {
        let bytes = stream_of(&events);
        let whole = events_with_splits(&bytes, &[]);
        prop_assert_eq!(whole.len(), events.len());
        prop_assert_eq!(events_with_splits(&bytes, &cuts), whole);
    }
}

#[test]
fn byte_by_byte() {
    let events: Vec<String> = (0..5).map(|i| format!("{{\"type\":\"e{i}\"}}")).collect();
    let bytes = stream_of(&events);
    let cuts: Vec<usize> = (0..bytes.len()).collect();
    assert_eq!(
        events_with_splits(&bytes, &cuts),
        events_with_splits(&bytes, &[])
    );
}
