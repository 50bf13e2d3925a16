//! Content parts and reasoning fields: OpenAI wire ⇄ canonical.

use serde_json::{Map, Value, json};

use crate::convert::util::{data_url, parse_data_url};
use crate::ir::{AudioPart, CacheControl, DocumentPart, ImagePart, MediaSource, Part, ToolCall};
use crate::openai::{
    ChatContent, ChatContentPart, ChatMessage, ChatToolCall, FileData, FunctionCall, ImageUrl,
    InputAudio, ThinkingBlock,
};

/// Content of any message as canonical parts (empty texts skipped).
pub(super) fn parts_from_content(content: Option<ChatContent>) -> Vec<Part> {
    match content {
        None => Vec::new(),
        Some(ChatContent::Text(text)) if text.is_empty() => Vec::new(),
        Some(ChatContent::Text(text)) => vec![Part::text(text)],
        Some(ChatContent::Parts(parts)) => parts.into_iter().filter_map(part_from_chat).collect(),
    }
}

/// One OpenAI content part as a canonical part; unknown types are dropped.
fn part_from_chat(part: ChatContentPart) -> Option<Part> {
    let cache_control = cache_control_from_extra(&part.extra);
    match part.kind.as_str() {
        "text" | "input_text" => {
            let text = part.text.unwrap_or_default();
            (!text.is_empty()).then_some(Part::Text {
                text,
                cache_control,
            })
        }
        "image_url" => {
            let image = part.image_url?;
            Some(Part::Image(ImagePart {
                source: source_from_url(&image.url),
                detail: image.detail,
                cache_control,
            }))
        }
        "input_audio" => {
            let audio = part.input_audio?;
            let media_type = format!("audio/{}", audio.format.as_deref().unwrap_or("wav"));
            Some(Part::Audio(AudioPart {
                source: MediaSource::Base64 {
                    media_type,
                    data: audio.data,
                },
                format: audio.format,
            }))
        }
        "file" => {
            let file = part.file?;
            let source = match (file.file_data, file.file_id) {
                (Some(data), _) => source_from_url(&data),
                (None, Some(id)) => MediaSource::FileId(id),
                (None, None) => return None,
            };
            Some(Part::Document(DocumentPart {
                source,
                filename: file.filename,
                title: None,
                context: None,
                cache_control,
            }))
        }
        "refusal" => part.refusal.map(Part::Refusal),
        _ => None,
    }
}

/// A URL as a media source: `data:` URLs become inline base64.
fn source_from_url(url: &str) -> MediaSource {
    match parse_data_url(url) {
        Some((media_type, data)) => MediaSource::Base64 { media_type, data },
        None => MediaSource::Url(url.to_owned()),
    }
}

/// `cache_control` as OpenRouter/LiteLLM put it on OpenAI content parts.
fn cache_control_from_extra(extra: &Map<String, Value>) -> Option<CacheControl> {
    let cc = extra.get("cache_control")?.as_object()?;
    Some(CacheControl {
        kind: cc.get("type")?.as_str()?.to_owned(),
        ttl: cc.get("ttl").and_then(Value::as_str).map(str::to_owned),
    })
}

/// A canonical user-side part as an OpenAI content part, if OpenAI can
/// carry it (tool calls, results and thinking are handled elsewhere).
pub(super) fn part_to_chat(part: &Part) -> Option<ChatContentPart> {
    let mut out = ChatContentPart::default();
    match part {
        Part::Text { text, .. } => return Some(ChatContentPart::text(text.clone())),
        Part::Image(image) => {
            out.kind = "image_url".to_owned();
            out.image_url = Some(ImageUrl {
                url: media_url(&image.source)?,
                detail: image.detail.clone(),
                extra: Map::new(),
            });
        }
        Part::Audio(audio) => {
            let MediaSource::Base64 { media_type, data } = &audio.source else {
                return None;
            };
            out.kind = "input_audio".to_owned();
            out.input_audio = Some(InputAudio {
                data: data.clone(),
                format: audio
                    .format
                    .clone()
                    .or_else(|| media_type.strip_prefix("audio/").map(str::to_owned)),
                extra: Map::new(),
            });
        }
        Part::Document(doc) => {
            out.kind = "file".to_owned();
            let mut file = FileData {
                filename: doc.filename.clone().or_else(|| doc.title.clone()),
                ..FileData::default()
            };
            match &doc.source {
                MediaSource::Base64 { media_type, data } => {
                    file.file_data = Some(data_url(media_type, data));
                }
                MediaSource::FileId(id) => file.file_id = Some(id.clone()),
                // OpenAI has no text or URL documents: send text as text.
                MediaSource::Text { text, .. } => return Some(ChatContentPart::text(text.clone())),
                MediaSource::Url(url) => return Some(ChatContentPart::text(url.clone())),
            }
            out.file = Some(file);
        }
        Part::Refusal(text) => return Some(ChatContentPart::text(text.clone())),
        Part::ToolCall(_)
        | Part::ToolResult(_)
        | Part::Thinking { .. }
        | Part::RedactedThinking { .. } => return None,
    }
    Some(out)
}

/// The URL OpenAI's `image_url` wants: http(s) as is, inline data as a
/// `data:` URL.
fn media_url(source: &MediaSource) -> Option<String> {
    match source {
        MediaSource::Url(url) => Some(url.clone()),
        MediaSource::Base64 { media_type, data } => Some(data_url(media_type, data)),
        MediaSource::Text { .. } | MediaSource::FileId(_) => None,
    }
}

/// The thinking parts of an assistant message: `thinking_blocks` when
/// given, else `reasoning_content` (or `reasoning`) with
/// `reasoning_signature`.
pub(super) fn thinking_from_message(msg: &mut ChatMessage) -> Vec<Part> {
    if let Some(blocks) = msg.thinking_blocks.take().filter(|b| !b.is_empty()) {
        return blocks
            .into_iter()
            .filter_map(thinking_block_to_part)
            .collect();
    }
    let text = msg
        .reasoning_content
        .take()
        .or_else(|| match msg.extra.remove("reasoning") {
            Some(Value::String(s)) => Some(s),
            _ => None,
        })
        .unwrap_or_default();
    let signature = msg.reasoning_signature.take().filter(|s| !s.is_empty());
    if text.is_empty() && signature.is_none() {
        return Vec::new();
    }
    vec![Part::Thinking { text, signature }]
}

fn thinking_block_to_part(block: ThinkingBlock) -> Option<Part> {
    match block.kind.as_str() {
        "thinking" => Some(Part::Thinking {
            text: block.thinking.unwrap_or_default(),
            signature: block.signature.filter(|s| !s.is_empty()),
        }),
        "redacted_thinking" => block.data.map(|data| Part::RedactedThinking { data }),
        _ => None,
    }
}

/// Writes thinking parts onto an assistant message: `reasoning_content`
/// always; `thinking_blocks` (and `reasoning_signature` when there is a
/// single signed block) when `with_signatures` and any signature or
/// redacted block exists.
pub(super) fn thinking_to_message(parts: &[Part], with_signatures: bool, msg: &mut ChatMessage) {
    let mut text = String::new();
    let mut blocks = Vec::new();
    let mut signatures = Vec::new();
    let mut redacted = false;
    for part in parts {
        match part {
            Part::Thinking { text: t, signature } => {
                text.push_str(t);
                signatures.extend(signature.iter().cloned());
                blocks.push(ThinkingBlock {
                    kind: "thinking".to_owned(),
                    thinking: Some(t.clone()),
                    signature: signature.clone(),
                    data: None,
                });
            }
            Part::RedactedThinking { data } => {
                redacted = true;
                blocks.push(ThinkingBlock {
                    kind: "redacted_thinking".to_owned(),
                    data: Some(data.clone()),
                    ..ThinkingBlock::default()
                });
            }
            _ => {}
        }
    }
    if !text.is_empty() {
        msg.reasoning_content = Some(text);
    }
    if with_signatures && (redacted || !signatures.is_empty()) {
        if signatures.len() == 1 && !redacted {
            msg.reasoning_signature = signatures.pop();
        }
        msg.thinking_blocks = Some(blocks);
    }
}

/// A wire tool call as a canonical one (empty ids are filled in by the
/// caller).
pub(super) fn tool_call_from_chat(call: ChatToolCall) -> ToolCall {
    let signature = call
        .extra
        .get("extra_content")
        .and_then(|v| v.pointer("/google/thought_signature"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    ToolCall {
        id: call.id,
        name: call.function.name,
        arguments: call.function.arguments,
        signature,
        cache_control: None,
    }
}

/// A canonical tool call on the wire; empty arguments become `{}`.
pub(super) fn tool_call_to_chat(call: &ToolCall, with_signature: bool) -> ChatToolCall {
    let arguments = if call.arguments.trim().is_empty() {
        "{}".to_owned()
    } else {
        call.arguments.clone()
    };
    let mut extra = Map::new();
    if with_signature && let Some(sig) = &call.signature {
        extra.insert(
            "extra_content".to_owned(),
            json!({"google": {"thought_signature": sig}}),
        );
    }
    ChatToolCall {
        id: call.id.clone(),
        kind: "function".to_owned(),
        function: FunctionCall {
            name: call.name.clone(),
            arguments,
        },
        extra,
    }
}
