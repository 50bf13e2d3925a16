//! Property tests for the SSE decoder and encoder: any split of a stream into
//! chunks yields the same items, and encoding then decoding is lossless.
#![allow(clippy::unwrap_used)]

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use proptest::sample::Index;
use switchyard_protocol::sse::{SseDecoder, SseEvent, SseItem, encode_comment};

/// A generous limit: these tests are about framing, not the cap.
const LIMIT: usize = 1 << 20;

/// One block of a generated stream, written as lines by [`Block::lines`].
#[derive(Debug, Clone)]
enum Block {
    /// A comment line between events.
    Comment(String),
    /// An event, with optional comment and ignored fields among its lines.
    Event {
        name: Option<String>,
        id: Option<String>,
        data: Vec<String>,
        inner_comment: Option<String>,
        ignored: Vec<String>,
        tight: bool,
    },
    /// Fields but no `data`: never dispatched.
    Dataless(String),
}

impl Block {
    /// The lines of the block (without endings) and the items they decode to.
    fn lines(&self, lines: &mut Vec<String>, items: &mut Vec<SseItem>) {
        match self {
            Self::Comment(text) => {
                lines.push(format!(": {text}"));
                items.push(SseItem::Comment(bytes(text)));
            }
            Self::Event {
                name,
                id,
                data,
                inner_comment,
                ignored,
                tight,
            } => {
                if let Some(name) = name {
                    lines.push(format!("event: {name}"));
                }
                if let Some(text) = inner_comment {
                    lines.push(format!(":{text}"));
                    items.push(SseItem::Comment(bytes(
                        text.strip_prefix(' ').unwrap_or(text),
                    )));
                }
                for (i, line) in data.iter().enumerate() {
                    // `data:value` when the value cannot lose a leading space.
                    if *tight && !line.starts_with(' ') {
                        lines.push(format!("data:{line}"));
                    } else {
                        lines.push(format!("data: {line}"));
                    }
                    if let Some(extra) = ignored.get(i) {
                        lines.push(extra.clone());
                    }
                }
                if let Some(id) = id {
                    lines.push(format!("id: {id}"));
                }
                lines.push(String::new());
                items.push(SseItem::Event(SseEvent {
                    event: name.as_deref().map(bytes),
                    data: bytes(&data.join("\n")),
                    id: id.as_deref().map(bytes),
                }));
            }
            Self::Dataless(name) => {
                lines.push(format!("event: {name}"));
                lines.push("id: 1".to_owned());
                lines.push(String::new());
            }
        }
    }
}

fn bytes(text: &str) -> Bytes {
    Bytes::copy_from_slice(text.as_bytes())
}

fn text() -> impl Strategy<Value = String> {
    "[^\r\n]{0,12}"
}

fn name() -> impl Strategy<Value = String> {
    "[^\r\n]{1,8}"
}

fn block() -> impl Strategy<Value = Block> {
    let event = (
        proptest::option::of(name()),
        proptest::option::of("[^\r\n\0]{0,6}"),
        prop::collection::vec(text(), 1..4),
        proptest::option::of(text()),
        prop::collection::vec(
            prop_oneof![
                Just("retry: 3000".to_owned()),
                "x-[a-z]{1,5}: [^\r\n]{0,5}",
                "[a-z]{1,5}",
            ],
            0..3,
        ),
        any::<bool>(),
    )
        .prop_map(
            |(name, id, data, inner_comment, ignored, tight)| Block::Event {
                name,
                id,
                data,
                inner_comment,
                ignored: ignored
                    .into_iter()
                    .filter(|line| !matches!(line.as_str(), "data" | "event" | "id"))
                    .collect(),
                tight,
            },
        );
    prop_oneof![
        6 => event,
        2 => text().prop_map(Block::Comment),
        1 => name().prop_map(Block::Dataless),
    ]
}

/// A generated stream: its bytes and the items it must decode to.
#[derive(Debug, Clone)]
struct Stream {
    bytes: Vec<u8>,
    items: Vec<SseItem>,
}

fn stream() -> impl Strategy<Value = Stream> {
    (
        prop::collection::vec(block(), 0..8),
        prop::collection::vec(0..3u8, 64),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(blocks, endings, drop_blank, drop_last_ending)| {
            let mut lines = Vec::new();
            let mut items = Vec::new();
            for block in &blocks {
                block.lines(&mut lines, &mut items);
            }
            // Upstreams often omit the final blank line; `finish` dispatches anyway.
            if drop_blank && matches!(blocks.last(), Some(Block::Event { .. })) {
                lines.pop();
            }
            let mut bytes = Vec::new();
            let mut previous = "";
            for (i, line) in lines.iter().enumerate() {
                bytes.extend_from_slice(line.as_bytes());
                let mut ending = match endings.get(i % endings.len()) {
                    Some(0) => "\n",
                    Some(1) => "\r\n",
                    _ => "\r",
                };
                // "\r" then an empty line ended by "\n" would read as one "\r\n".
                if previous == "\r" && line.is_empty() && ending == "\n" {
                    ending = "\r\n";
                }
                if !(drop_last_ending && i + 1 == lines.len()) {
                    bytes.extend_from_slice(ending.as_bytes());
                }
                previous = ending;
            }
            Stream { bytes, items }
        })
}

/// Decodes `chunks` in order, draining after every push, then finishes.
fn decode<'a>(chunks: impl IntoIterator<Item = &'a [u8]>) -> Vec<SseItem> {
    let mut decoder = SseDecoder::new(LIMIT);
    let mut items = Vec::new();
    for chunk in chunks {
        decoder.push(chunk).unwrap();
        items.extend(std::iter::from_fn(|| decoder.next_item()));
    }
    items.extend(std::iter::from_fn(|| decoder.finish()));
    assert_eq!(decoder.buffered(), 0);
    items
}

proptest! {
    #[test]
    fn whole_stream_decodes_to_the_model(stream in stream()) {
        prop_assert_eq!(decode([&stream.bytes[..]]), stream.items);
    }

    #[test]
    fn any_split_decodes_the_same(stream in stream(), cuts in prop::collection::vec(any::<Index>(), 0..12)) {
        let mut cuts: Vec<usize> = cuts.iter().map(|cut| cut.index(stream.bytes.len() + 1)).collect();
        cuts.sort_unstable();
        cuts.dedup();
        let mut chunks = Vec::new();
        let mut start = 0;
        for cut in cuts {
            chunks.push(&stream.bytes[start..cut]);
            start = cut;
        }
        chunks.push(&stream.bytes[start..]);
        prop_assert_eq!(decode(chunks), stream.items);
    }

    #[test]
    fn one_byte_chunks_decode_the_same(stream in stream()) {
        prop_assert_eq!(decode(stream.bytes.chunks(1)), stream.items);
    }

    #[test]
    fn encode_then_decode_round_trips(items in prop::collection::vec(item(), 0..8)) {
        let mut out = BytesMut::new();
        for item in &items {
            match item {
                SseItem::Event(event) => event.encode(&mut out),
                SseItem::Comment(text) => encode_comment(&mut out, text),
            }
        }
        prop_assert_eq!(decode(out.chunks(7)), items);
    }
}

/// Items the encoder can represent exactly (no `\r` in data, names without
/// line breaks, ids without NUL, comments on one line).
fn item() -> impl Strategy<Value = SseItem> {
    let event = (
        proptest::option::of(name()),
        prop::collection::vec("[^\r\n]{0,10}", 1..4),
        proptest::option::of("[^\r\n\0]{0,6}"),
    )
        .prop_map(|(name, lines, id)| {
            SseItem::Event(SseEvent {
                event: name.as_deref().map(bytes),
                data: bytes(&lines.join("\n")),
                id: id.as_deref().map(bytes),
            })
        });
    prop_oneof![
        4 => event,
        1 => text().prop_map(|text| SseItem::Comment(bytes(&text))),
    ]
}
