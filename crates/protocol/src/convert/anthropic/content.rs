//! Content blocks ⇄ canonical parts.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::defaults::JSON_TOOL_NAME;
use crate::anthropic::{
    CacheControl as WireCache, ContentBlock, MediaBlock, RedactedThinkingBlock, Source, TextBlock,
    ThinkingBlock, ToolResultBlock, ToolResultContent, ToolUseBlock,
};
use crate::convert::util::{arguments_to_object, object_to_arguments, sanitize_tool_id};
use crate::ir::{CacheControl, DocumentPart, ImagePart, MediaSource, Part, ToolCall, ToolResult};

pub(super) fn cache_from_wire(cc: Option<WireCache>) -> Option<CacheControl> {
    cc.map(|c| CacheControl {
        kind: c.kind,
        ttl: c.ttl,
    })
}

pub(super) fn cache_to_wire(cc: &Option<CacheControl>) -> Option<WireCache> {
    cc.as_ref().map(|c| WireCache {
        kind: c.kind.clone(),
        ttl: c.ttl.clone(),
        extra: Map::new(),
    })
}

/// Decodes one block. `names` maps tool-use ids seen so far to tool names
/// (to name tool results). Unsupported blocks (server tools, search
/// results, …) yield `None`. A `tool_use` of the JSON-output tool is read
/// back as text.
pub(super) fn block_to_part(
    block: ContentBlock,
    names: &mut HashMap<String, String>,
) -> Option<Part> {
    Some(match block {
        ContentBlock::Text(b) => Part::Text {
            text: b.text,
            cache_control: cache_from_wire(b.cache_control),
        },
        ContentBlock::Image(b) => Part::Image(ImagePart {
            source: source_to_ir(b.source)?,
            detail: None,
            cache_control: cache_from_wire(b.cache_control),
        }),
        ContentBlock::Document(b) => Part::Document(DocumentPart {
            source: source_to_ir(b.source)?,
            filename: None,
            title: b.title,
            context: b.context,
            cache_control: cache_from_wire(b.cache_control),
        }),
        ContentBlock::ToolUse(b) if b.name == JSON_TOOL_NAME => Part::text(b.input.to_string()),
        ContentBlock::ToolUse(b) => {
            names.insert(b.id.clone(), b.name.clone());
            Part::ToolCall(ToolCall {
                arguments: object_to_arguments(&b.input),
                id: b.id,
                name: b.name,
                signature: None,
                cache_control: cache_from_wire(b.cache_control),
            })
        }
        ContentBlock::ToolResult(b) => {
            let content = match b.content {
                None => Vec::new(),
                Some(ToolResultContent::Text(text)) => vec![Part::text(text)],
                Some(ToolResultContent::Blocks(blocks)) => blocks
                    .into_iter()
                    .filter_map(|b| block_to_part(b, names))
                    .collect(),
            };
            Part::ToolResult(ToolResult {
                name: names.get(&b.tool_use_id).cloned(),
                call_id: b.tool_use_id,
                content,
                is_error: b.is_error.unwrap_or(false),
                cache_control: cache_from_wire(b.cache_control),
            })
        }
        ContentBlock::Thinking(b) => Part::Thinking {
            text: b.thinking,
            signature: b.signature.filter(|s| !s.is_empty()),
        },
        ContentBlock::RedactedThinking(b) => Part::RedactedThinking { data: b.data },
        ContentBlock::Other(_) => return None,
    })
}

fn source_to_ir(source: Source) -> Option<MediaSource> {
    Some(match source.kind.as_str() {
        "base64" => MediaSource::Base64 {
            media_type: source.media_type.unwrap_or_default(),
            data: source.data?,
        },
        "url" => MediaSource::Url(source.url?),
        "text" => MediaSource::Text {
            media_type: source.media_type.unwrap_or_else(|| "text/plain".to_owned()),
            text: source.data?,
        },
        "file" => MediaSource::FileId(source.file_id?),
        _ => return None,
    })
}

fn source_to_wire(source: &MediaSource) -> Source {
    let mut out = Source::default();
    match source {
        MediaSource::Base64 { media_type, data } => {
            out.kind = "base64".to_owned();
            out.media_type = Some(media_type.clone());
            out.data = Some(data.clone());
        }
        MediaSource::Url(url) => {
            out.kind = "url".to_owned();
            out.url = Some(url.clone());
        }
        MediaSource::Text { media_type, text } => {
            out.kind = "text".to_owned();
            out.media_type = Some(media_type.clone());
            out.data = Some(text.clone());
        }
        MediaSource::FileId(id) => {
            out.kind = "file".to_owned();
            out.file_id = Some(id.clone());
        }
    }
    out
}

/// Encodes one part as a block, or `None` when Anthropic cannot carry it:
/// empty text, audio, thinking without a signature (Anthropic rejects
/// unsigned thinking in history), text-source images.
pub(super) fn part_to_block(part: &Part) -> Option<ContentBlock> {
    Some(match part {
        Part::Text {
            text,
            cache_control,
        } => {
            if text.is_empty() {
                return None;
            }
            ContentBlock::Text(TextBlock {
                text: text.clone(),
                cache_control: cache_to_wire(cache_control),
                extra: Map::new(),
            })
        }
        Part::Refusal(text) if !text.is_empty() => ContentBlock::text(text.clone()),
        Part::Refusal(_) | Part::Audio(_) => return None,
        Part::Image(image) => {
            if matches!(image.source, MediaSource::Text { .. }) {
                return None;
            }
            ContentBlock::Image(MediaBlock {
                source: source_to_wire(&image.source),
                cache_control: cache_to_wire(&image.cache_control),
                ..MediaBlock::default()
            })
        }
        Part::Document(doc) => ContentBlock::Document(MediaBlock {
            source: source_to_wire(&doc.source),
            title: doc.title.clone().or_else(|| doc.filename.clone()),
            context: doc.context.clone(),
            cache_control: cache_to_wire(&doc.cache_control),
            extra: Map::new(),
        }),
        Part::ToolCall(call) => ContentBlock::ToolUse(ToolUseBlock {
            id: sanitize_tool_id(&call.id),
            name: call.name.clone(),
            input: arguments_to_object(&call.arguments),
            cache_control: cache_to_wire(&call.cache_control),
            extra: Map::new(),
        }),
        Part::ToolResult(result) => {
            let blocks: Vec<ContentBlock> =
                result.content.iter().filter_map(part_to_block).collect();
            let content = match blocks.as_slice() {
                [] => None,
                [ContentBlock::Text(t)] if t.cache_control.is_none() => {
                    Some(ToolResultContent::Text(t.text.clone()))
                }
                _ => Some(ToolResultContent::Blocks(blocks)),
            };
            ContentBlock::ToolResult(ToolResultBlock {
                tool_use_id: sanitize_tool_id(&result.call_id),
                content,
                is_error: result.is_error.then_some(true),
                cache_control: cache_to_wire(&result.cache_control),
                extra: Map::new(),
            })
        }
        Part::Thinking { text, signature } => {
            let signature = signature.as_ref().filter(|s| !s.is_empty())?;
            ContentBlock::Thinking(ThinkingBlock {
                thinking: text.clone(),
                signature: Some(signature.clone()),
                extra: Map::new(),
            })
        }
        Part::RedactedThinking { data } => ContentBlock::RedactedThinking(RedactedThinkingBlock {
            data: data.clone(),
            extra: Map::new(),
        }),
    })
}

/// An empty JSON object.
pub(super) fn empty_object() -> Value {
    Value::Object(Map::new())
}
