//! The think-split plugin (model config `plugin: {"think-split": {"enable":
//! true}}`) for OpenAI Chat clients: a `<think>…</think>` block at the start
//! of an answer's content moves to `reasoning_content`. Streams are
//! rewritten chunk by chunk as they reach the client (the splitter of
//! [`switchyard_protocol::think_split`] holds back only what could still be
//! a tag, so a tag split across chunks is found); whole answers are
//! rewritten once. Only requests whose model enables the plugin pay for
//! the JSON parse this needs.

use bytes::{Bytes, BytesMut};
use serde_json::{Map, Value};
use switchyard_protocol::sse::{SseDecoder, SseError, SseItem, encode_comment, encode_event};
use switchyard_protocol::think_split::{Split, ThinkSplitter, split_think};

use super::events::MAX_EVENT_BYTES;
use super::processor::{Continuation, Progress, StreamProcessor};

/// Choice indices above this share the last splitter (bounds what an
/// upstream's `index` can make the gateway allocate).
const MAX_CHOICE_INDEX: usize = 63;

/// Whether a model config's `plugin` map enables think-split.
pub fn enabled(plugin: &Map<String, Value>) -> bool {
    plugin
        .get("think-split")
        .and_then(|p| p.get("enable"))
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// Apply a split to an OpenAI message or delta object.
fn apply(object: &mut Map<String, Value>, split: Split) {
    if !split.reasoning.is_empty() {
        let mut reasoning = object
            .get("reasoning_content")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        reasoning.push_str(&split.reasoning);
        object.insert("reasoning_content".into(), Value::String(reasoning));
    }
    object.insert("content".into(), Value::String(split.content));
}

/// A whole Chat completion with each choice's think block moved.
pub fn split_answer(body: &Bytes) -> Bytes {
    let Ok(mut value) = serde_json::from_slice::<Value>(body) else {
        return body.clone();
    };
    let mut changed = false;
    for choice in value
        .get_mut("choices")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        let Some(message) = choice.get_mut("message").and_then(Value::as_object_mut) else {
            continue;
        };
        let Some(content) = message.get("content").and_then(Value::as_str) else {
            continue;
        };
        let split = split_think(content);
        if split.reasoning.is_empty() && split.content == content {
            continue;
        }
        apply(message, split);
        changed = true;
    }
    if !changed {
        return body.clone();
    }
    serde_json::to_vec(&value).map_or_else(|_| body.clone(), Bytes::from)
}

/// Wraps the processor of a Chat client's stream and splits its content deltas.
pub struct ThinkSplitStream {
    inner: Box<dyn StreamProcessor>,
    sse: SseDecoder,
    splitters: Vec<ThinkSplitter>,
    /// What `inner` wrote for the client, before the rewrite (reused).
    written: BytesMut,
}

impl ThinkSplitStream {
    /// Split what `inner` writes for the client.
    pub fn new(inner: Box<dyn StreamProcessor>) -> Self {
        Self {
            inner,
            sse: SseDecoder::new(MAX_EVENT_BYTES),
            splitters: Vec::new(),
            written: BytesMut::new(),
        }
    }

    fn splitter(&mut self, index: usize) -> &mut ThinkSplitter {
        if self.splitters.len() <= index {
            self.splitters.resize_with(index + 1, ThinkSplitter::new);
        }
        &mut self.splitters[index]
    }

    /// Rewrite the client events `inner` just wrote into `out`.
    fn rewrite(&mut self, out: &mut BytesMut) {
        if self.sse.push(&self.written).is_err() {
            out.extend_from_slice(&self.written);
            self.written.clear();
            return;
        }
        self.written.clear();
        while let Some(item) = self.sse.next_item() {
            match item {
                SseItem::Comment(text) => encode_comment(out, &text),
                SseItem::Event(event) if event.is_done() => {
                    self.flush(out);
                    encode_event(out, None, &event.data);
                }
                SseItem::Event(event) => match serde_json::from_slice::<Value>(&event.data) {
                    Ok(mut chunk) => {
                        self.split_chunk(&mut chunk);
                        let data =
                            serde_json::to_vec(&chunk).unwrap_or_else(|_| event.data.to_vec());
                        encode_event(out, event.event_name().map(str::as_bytes), &data);
                    }
                    Err(_) => encode_event(out, event.event_name().map(str::as_bytes), &event.data),
                },
            }
        }
    }

    fn split_chunk(&mut self, chunk: &mut Value) {
        for choice in chunk
            .get_mut("choices")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            let index = choice.get("index").and_then(Value::as_u64).unwrap_or(0);
            let index = usize::try_from(index).unwrap_or(0).min(MAX_CHOICE_INDEX);
            let finished = choice.get("finish_reason").is_some_and(|f| !f.is_null());
            let Some(delta) = choice.get_mut("delta").and_then(Value::as_object_mut) else {
                continue;
            };
            let content = delta
                .get("content")
                .and_then(Value::as_str)
                .map(str::to_owned);
            let mut split = match content {
                Some(text) => self.splitter(index).push(&text),
                None => Split::default(),
            };
            if finished {
                let rest = self.splitter(index).finish();
                split.content.push_str(&rest.content);
                split.reasoning.push_str(&rest.reasoning);
            }
            if delta.contains_key("content") || !split.is_empty() {
                apply(delta, split);
            }
        }
    }

    /// Emit anything still held (an answer that ended without a finish reason).
    fn flush(&mut self, out: &mut BytesMut) {
        for index in 0..self.splitters.len() {
            let split = self.splitters[index].finish();
            if split.is_empty() {
                continue;
            }
            let mut delta = Map::new();
            apply(&mut delta, split);
            let chunk = serde_json::json!({"object": "chat.completion.chunk",
                "choices": [{"index": index, "delta": delta, "finish_reason": null}]});
            encode_event(out, None, chunk.to_string().as_bytes());
        }
    }
}

impl StreamProcessor for ThinkSplitStream {
    fn feed(&mut self, chunk: &Bytes, out: &mut BytesMut) -> Result<(), SseError> {
        self.inner.feed(chunk, &mut self.written)?;
        self.rewrite(out);
        Ok(())
    }

    fn finish(&mut self, out: &mut BytesMut) {
        self.inner.finish(&mut self.written);
        self.rewrite(out);
    }

    fn progress(&self) -> &Progress {
        self.inner.progress()
    }

    fn take_output_text(&mut self, sent: &[&[u8]]) -> String {
        self.inner.take_output_text(sent)
    }

    fn needs_sent_output(&self) -> bool {
        self.inner.needs_sent_output()
    }

    fn write_error(&mut self, out: &mut BytesMut, message: &str, kind: &str) {
        self.inner.write_error(out, message, kind);
    }

    fn ready(&self) -> bool {
        self.inner.ready()
    }

    fn continuable(&self) -> bool {
        self.inner.continuable()
    }

    fn continuation(&self) -> Continuation {
        self.inner.continuation()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::relay::events::StreamState;

    fn chunk(content: &str, finish: Option<&str>) -> String {
        let v = serde_json::json!({"id": "c", "object": "chat.completion.chunk", "model": "m",
            "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": finish}]});
        format!("data: {v}\n\n")
    }

    fn collect(out: &[u8]) -> (String, String) {
        let mut content = String::new();
        let mut reasoning = String::new();
        for line in std::str::from_utf8(out).unwrap().lines() {
            let Some(data) = line.strip_prefix("data: ") else {
                continue;
            };
            let Ok(v) = serde_json::from_str::<Value>(data) else {
                continue;
            };
            let delta = &v["choices"][0]["delta"];
            content.push_str(delta["content"].as_str().unwrap_or_default());
            reasoning.push_str(delta["reasoning_content"].as_str().unwrap_or_default());
        }
        (content, reasoning)
    }

    #[test]
    fn tags_split_across_chunks_move_to_reasoning() {
        let inner = Box::new(StreamState::new("m", false, false));
        let mut stream = ThinkSplitStream::new(inner);
        let mut out = BytesMut::new();
        for piece in ["<thi", "nk>\nweigh", "ing</th", "ink>\n\nAnswer", " here"] {
            stream
                .feed(&Bytes::from(chunk(piece, None)), &mut out)
                .unwrap();
        }
        stream
            .feed(&Bytes::from(chunk("", Some("stop"))), &mut out)
            .unwrap();
        stream
            .feed(&Bytes::from_static(b"data: [DONE]\n\n"), &mut out)
            .unwrap();
        stream.finish(&mut out);
        assert_eq!(
            collect(&out),
            ("Answer here".to_owned(), "weighing".to_owned())
        );
        assert!(
            String::from_utf8_lossy(&out)
                .trim_end()
                .ends_with("data: [DONE]")
        );
    }

    #[test]
    fn whole_answers_are_split_and_others_untouched() {
        let body = Bytes::from_static(
            br#"{"choices":[{"index":0,"message":{"role":"assistant","content":"<think>hmm</think>\nYes."}}]}"#,
        );
        let v: Value = serde_json::from_slice(&split_answer(&body)).unwrap();
        assert_eq!(v["choices"][0]["message"]["content"], "Yes.");
        assert_eq!(v["choices"][0]["message"]["reasoning_content"], "hmm");
        let plain = Bytes::from_static(br#"{"choices":[{"message":{"content":"no tags"}}]}"#);
        assert_eq!(split_answer(&plain).as_ptr(), plain.as_ptr());
    }

    #[test]
    fn plugin_switch() {
        let on: Map<String, Value> =
            serde_json::from_str(r#"{"think-split":{"enable":true}}"#).unwrap();
        assert!(enabled(&on));
        assert!(!enabled(&Map::new()));
    }
}
