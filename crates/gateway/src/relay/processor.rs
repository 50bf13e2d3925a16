//! One interface for every way a stream is relayed: forwarded byte for byte
//! in the client's own protocol (OpenAI, Anthropic), or converted event by
//! event from the upstream's protocol. The stream body and the attempt loop
//! only see [`StreamProcessor`] and its [`Progress`].

use bytes::{Bytes, BytesMut};
use switchyard_protocol::Usage;
use switchyard_protocol::convert::anthropic::{AnthropicStreamDecoder, AnthropicStreamEncoder};
use switchyard_protocol::convert::gemini::{GeminiStreamDecoder, GeminiStreamEncoder};
use switchyard_protocol::convert::openai::{OpenAiStreamDecoder, OpenAiStreamEncoder};
use switchyard_protocol::convert::responses::{ResponsesStreamDecoder, ResponsesStreamEncoder};
use switchyard_protocol::convert::{EncodeOptions, StreamDecoder};
use switchyard_protocol::sse::{SseDecoder, SseError, whole_events};

use super::anthropic_stream::AnthropicPassthrough;
use super::converting::Converting;
use super::events::{MAX_EVENT_BYTES, StreamState};
use super::passthrough::{Dialect, Passthrough};
use super::protocol::Protocol;

/// What a stream has shown so far.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    /// Usage reported by the upstream.
    pub usage: Option<Usage>,
    /// The upstream's input counts when its output count never came (an
    /// Anthropic stream cut before `message_delta`): kept as reported, and
    /// only the output is estimated.
    pub input_usage: Option<Usage>,
    /// Upstream response id.
    pub upstream_id: String,
    /// Output (text, reasoning, a tool call, a finish reason) was seen.
    pub saw_output: bool,
    /// The upstream signalled a normal end (`[DONE]`, `message_stop`).
    pub saw_end: bool,
    /// An upstream error event, if any.
    pub upstream_error: Option<String>,
    /// Events received from the upstream.
    pub events_in: u64,
    /// Events written for the client.
    pub events_out: u64,
}

/// Turns an upstream SSE body into the client's stream.
pub trait StreamProcessor: Send {
    /// Feed upstream bytes; client bytes are appended to `out`.
    fn feed(&mut self, chunk: &Bytes, out: &mut BytesMut) -> Result<(), SseError>;
    /// Take `chunk` as it came, when the client is to receive it unchanged:
    /// the processor accounts for its events and returns true, and the relay
    /// sends the chunk itself, neither decoded nor copied. False (the
    /// default) means the chunk must be [`Self::feed`]ed.
    fn forward_unchanged(&mut self, _chunk: &[u8]) -> bool {
        false
    }
    /// The upstream body ended.
    fn finish(&mut self, out: &mut BytesMut);
    /// What has been seen.
    fn progress(&self) -> &Progress;
    /// The output text, for estimating usage the upstream never reported.
    /// `sent` is the client's stream so far, in order, for a processor that
    /// reads the text back from it (see [`Self::needs_sent_output`]);
    /// the others keep their own and ignore it.
    fn take_output_text(&mut self, sent: &[&[u8]]) -> String;
    /// The relay must keep what it sends from now on, because
    /// [`Self::take_output_text`] will read the text back from it (no usage
    /// was reported yet).
    fn needs_sent_output(&self) -> bool {
        false
    }
    /// End the client stream with an error event in the client's protocol.
    fn write_error(&mut self, out: &mut BytesMut, message: &str, kind: &str);
    /// The response may be committed to the client now.
    fn ready(&self) -> bool;
    /// A failure before the first output may continue on another upstream
    /// (true for byte-forwarded streams, whose client side has no state).
    fn continuable(&self) -> bool;
    /// What the next upstream must know to continue this client stream.
    fn continuation(&self) -> Continuation;

    /// A failure from now on may still move to another upstream: nothing
    /// but replayable opening events reached the client yet.
    fn retryable(&self) -> bool {
        self.continuable() && !self.progress().saw_output
    }
}

/// The common half of [`StreamProcessor::forward_unchanged`]: a read of
/// whole events in the encoder's canonical form, arriving while `decoder`
/// holds nothing of a next event, every one accepted by `plain` (its name,
/// if any, and its data), is counted as received and sent and taken.
pub fn take_whole_events(
    progress: &mut Progress,
    decoder: &SseDecoder,
    read: &[u8],
    plain: impl FnMut(Option<&[u8]>, &[u8]) -> bool,
) -> bool {
    if read.len() > MAX_EVENT_BYTES || !decoder.is_between_events() {
        return false;
    }
    let Some(events) = whole_events(read, plain) else {
        return false;
    };
    progress.events_in += events;
    progress.events_out += events;
    true
}

/// What a stream already showed the client, for the upstream that continues it.
#[derive(Debug, Clone, Default)]
pub struct Continuation {
    /// Content blocks (Anthropic indices) whose start the client received.
    pub started_blocks: Vec<u64>,
}

/// How a processor presents the stream.
#[derive(Debug, Clone)]
pub struct ProcessorOptions {
    /// Model name the client asked for (reported back in every event).
    pub requested_model: String,
    /// The client asked for the usage chunk itself.
    pub client_include_usage: bool,
    /// Set when this upstream continues a stream another one began.
    pub continuation: Option<Continuation>,
    /// Unix seconds, for converted events that carry a creation time.
    pub created: i64,
    /// Input tokens to announce before the upstream reports any (Anthropic
    /// clients of converted streams; the final count follows at the end).
    pub estimated_input_tokens: Option<i64>,
}

/// The processor for a client speaking `client` served by an upstream
/// speaking `upstream`: byte forwarding when they match, conversion through
/// the canonical events otherwise.
pub fn processor(
    client: Protocol,
    upstream: Protocol,
    opts: &ProcessorOptions,
) -> Box<dyn StreamProcessor> {
    match (client, upstream) {
        (Protocol::Anthropic, Protocol::Anthropic) => Box::new(AnthropicPassthrough::new(
            &opts.requested_model,
            opts.continuation.as_ref(),
        )),
        (Protocol::Gemini, Protocol::Gemini) => {
            Box::new(Passthrough::new(Dialect::Gemini, &opts.requested_model))
        }
        (Protocol::Responses, Protocol::Responses) => {
            Box::new(Passthrough::new(Dialect::Responses, &opts.requested_model))
        }
        (c, u) if c == u => Box::new(StreamState::new(
            &opts.requested_model,
            opts.client_include_usage,
            opts.continuation.is_some(),
        )),
        (_, Protocol::Anthropic) => converting(AnthropicStreamDecoder::new(), client, opts),
        (_, Protocol::Gemini) => converting(GeminiStreamDecoder::new(), client, opts),
        (_, Protocol::Responses) => converting(ResponsesStreamDecoder::new(), client, opts),
        _ => converting(OpenAiStreamDecoder::new(), client, opts),
    }
}

/// A converting processor from `decoder`'s protocol to the client's.
fn converting<D>(decoder: D, client: Protocol, opts: &ProcessorOptions) -> Box<dyn StreamProcessor>
where
    D: StreamDecoder + Send + 'static,
{
    let encode = EncodeOptions {
        model: Some(opts.requested_model.clone()),
        created: opts.created,
        include_usage: opts.client_include_usage,
        estimated_input_tokens: opts.estimated_input_tokens,
    };
    match client {
        Protocol::Anthropic => Box::new(Converting::new(
            decoder,
            AnthropicStreamEncoder::new(encode),
            false,
        )),
        Protocol::Gemini => Box::new(Converting::new(
            decoder,
            GeminiStreamEncoder::new(encode),
            false,
        )),
        Protocol::Responses => Box::new(Converting::new(
            decoder,
            ResponsesStreamEncoder::new(encode),
            false,
        )),
        _ => Box::new(Converting::new(
            decoder,
            OpenAiStreamEncoder::new(encode),
            true,
        )),
    }
}

/// What the stream relay does with each upstream read, for processor tests.
#[cfg(test)]
pub(crate) mod testing {
    use bytes::{Bytes, BytesMut};

    use super::StreamProcessor;

    /// Each read forwarded unchanged when the processor takes it, fed
    /// otherwise; then the end. Returns the client's stream and how many
    /// reads went as they came.
    #[allow(clippy::unwrap_used)]
    pub(crate) fn relay_reads(
        p: &mut dyn StreamProcessor,
        reads: &[impl AsRef<[u8]>],
    ) -> (String, usize) {
        let mut out = BytesMut::new();
        let mut forwarded = 0;
        for read in reads {
            let read = read.as_ref();
            if p.forward_unchanged(read) {
                out.extend_from_slice(read);
                forwarded += 1;
            } else {
                p.feed(&Bytes::copy_from_slice(read), &mut out).unwrap();
            }
        }
        p.finish(&mut out);
        (String::from_utf8(out.to_vec()).unwrap(), forwarded)
    }

    /// A stream of `events` cut three ways, each named: one event a read,
    /// two a read, and 7-byte pieces (never a whole event).
    pub(crate) fn three_splits(events: &[String]) -> [(&'static str, Vec<Vec<u8>>); 3] {
        let whole = events.concat().into_bytes();
        [
            (
                "one event a read",
                events.iter().map(|e| e.as_bytes().to_vec()).collect(),
            ),
            (
                "two events a read",
                events.chunks(2).map(|p| p.concat().into_bytes()).collect(),
            ),
            (
                "7-byte pieces",
                whole.chunks(7).map(<[u8]>::to_vec).collect(),
            ),
        ]
    }
}
