//! Helpers shared by the converter tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bytes::BytesMut;
use serde_json::Value;
use switchyard_protocol::convert::{
    AnthropicToOpenAiStream, EncodeOptions, OpenAiToAnthropicStream, StreamConverter,
    StreamDecoder, StreamEncoder,
};
use switchyard_protocol::sse::{SseDecoder, SseItem};

/// A converter for an Anthropic upstream and an OpenAI client.
pub fn anthropic_to_openai(opts: EncodeOptions) -> AnthropicToOpenAiStream {
    AnthropicToOpenAiStream::anthropic_to_openai(opts)
}

/// A converter for an OpenAI upstream and an Anthropic client.
pub fn openai_to_anthropic(opts: EncodeOptions) -> OpenAiToAnthropicStream {
    OpenAiToAnthropicStream::openai_to_anthropic(opts)
}

/// Feeds an upstream transcript, split into `chunks`, through an SSE
/// decoder and the converter, as the relay would; returns the client bytes.
pub fn run_stream<D: StreamDecoder, E: StreamEncoder>(
    conv: &mut StreamConverter<D, E>,
    chunks: &[&[u8]],
) -> Vec<u8> {
    let mut decoder = SseDecoder::new(1 << 20);
    let mut out = BytesMut::new();
    for chunk in chunks {
        decoder.push(chunk).unwrap();
        drain(&mut decoder, conv, &mut out);
    }
    while let Some(item) = decoder.finish() {
        feed(item, conv, &mut out);
    }
    conv.finish(&mut out);
    out.to_vec()
}

fn drain<D: StreamDecoder, E: StreamEncoder>(
    decoder: &mut SseDecoder,
    conv: &mut StreamConverter<D, E>,
    out: &mut BytesMut,
) {
    while let Some(item) = decoder.next_item() {
        feed(item, conv, out);
    }
}

fn feed<D: StreamDecoder, E: StreamEncoder>(
    item: SseItem,
    conv: &mut StreamConverter<D, E>,
    out: &mut BytesMut,
) {
    if let SseItem::Event(event) = item {
        conv.push_sse(&event, out).unwrap();
    }
}

/// Client SSE bytes as (event name, data as JSON) pairs.
pub fn decode_sse(bytes: &[u8]) -> Vec<(Option<String>, Value)> {
    let mut decoder = SseDecoder::new(1 << 20);
    decoder.push(bytes).unwrap();
    let mut items = Vec::new();
    while let Some(item) = decoder.next_item() {
        items.push(item);
    }
    while let Some(item) = decoder.finish() {
        items.push(item);
    }
    items
        .into_iter()
        .filter_map(|item| match item {
            SseItem::Event(e) => Some((
                e.event_name().map(str::to_owned),
                serde_json::from_slice(&e.data).unwrap_or_else(|_| {
                    Value::String(String::from_utf8_lossy(&e.data).into_owned())
                }),
            )),
            SseItem::Comment(_) => None,
        })
        .collect()
}
