//! Content parts: Responses wire ⇄ canonical (user input, assistant text,
//! function outputs).

use serde_json::Map;

use crate::convert::util::{data_url, parse_data_url};
use crate::ir::{AudioPart, DocumentPart, ImagePart, MediaSource, Part};
use crate::responses::{
    ContentPart, FilePart, FunctionOutput, ImagePart as WireImage, InputAudio, InputAudioPart,
    MessageContent, RefusalPart,
};

/// A message's content as canonical parts (empty texts skipped, unknown
/// part types dropped).
pub(super) fn parts_from_content(content: MessageContent) -> Vec<Part> {
    match content {
        MessageContent::Text(text) if text.is_empty() => Vec::new(),
        MessageContent::Text(text) => vec![Part::text(text)],
        MessageContent::Parts(parts) => parts.into_iter().filter_map(part_to_ir).collect(),
    }
}

/// A function output as canonical parts.
pub(super) fn parts_from_output(output: FunctionOutput) -> Vec<Part> {
    match output {
        FunctionOutput::Text(text) if text.is_empty() => Vec::new(),
        FunctionOutput::Text(text) => vec![Part::text(text)],
        FunctionOutput::Parts(parts) => parts.into_iter().filter_map(part_to_ir).collect(),
    }
}

/// One wire part as a canonical part.
pub(super) fn part_to_ir(part: ContentPart) -> Option<Part> {
    match part {
        ContentPart::InputText(p) => (!p.text.is_empty()).then(|| Part::text(p.text)),
        ContentPart::OutputText(p) => (!p.text.is_empty()).then(|| Part::text(p.text)),
        ContentPart::Refusal(p) => Some(Part::Refusal(p.refusal)),
        ContentPart::InputImage(p) => {
            let source = match (p.image_url, p.file_id) {
                (Some(url), _) => source_from_url(&url, "image/png"),
                (None, Some(id)) => MediaSource::FileId(id),
                (None, None) => return None,
            };
            Some(Part::Image(ImagePart {
                source,
                detail: p.detail,
                cache_control: None,
            }))
        }
        ContentPart::InputFile(p) => {
            let source = match (p.file_data, p.file_id, p.file_url) {
                (Some(data), _, _) => source_from_url(&data, "application/pdf"),
                (None, Some(id), _) => MediaSource::FileId(id),
                (None, None, Some(url)) => MediaSource::Url(url),
                (None, None, None) => return None,
            };
            Some(Part::Document(DocumentPart {
                source,
                filename: p.filename,
                title: None,
                context: None,
                cache_control: None,
            }))
        }
        ContentPart::InputAudio(p) => {
            let format = p.input_audio.format;
            let media_type = format!("audio/{}", format.as_deref().unwrap_or("wav"));
            Some(Part::Audio(AudioPart {
                source: MediaSource::Base64 {
                    media_type,
                    data: p.input_audio.data,
                },
                format,
            }))
        }
        ContentPart::Other(_) => None,
    }
}

/// A URL or inline data as a media source: `data:` URLs become base64; a
/// bare base64 payload (some clients send one for `file_data`) gets
/// `default_type`; anything else is a URL.
fn source_from_url(url: &str, default_type: &str) -> MediaSource {
    if let Some((media_type, data)) = parse_data_url(url) {
        return MediaSource::Base64 { media_type, data };
    }
    if url.contains("://") || url.starts_with("data:") {
        return MediaSource::Url(url.to_owned());
    }
    MediaSource::Base64 {
        media_type: default_type.to_owned(),
        data: url.to_owned(),
    }
}

/// A canonical user-side part as an input content part, if the Responses
/// API can carry it (tool calls, results and thinking are items, not parts).
pub(super) fn part_to_input(part: &Part) -> Option<ContentPart> {
    Some(match part {
        Part::Text { text, .. } | Part::Refusal(text) => ContentPart::input_text(text.clone()),
        Part::Image(image) => {
            let (image_url, file_id) = match &image.source {
                MediaSource::Url(url) => (Some(url.clone()), None),
                MediaSource::Base64 { media_type, data } => {
                    (Some(data_url(media_type, data)), None)
                }
                MediaSource::FileId(id) => (None, Some(id.clone())),
                MediaSource::Text { .. } => return None,
            };
            ContentPart::InputImage(WireImage {
                image_url,
                file_id,
                detail: Some(image.detail.clone().unwrap_or_else(|| "auto".to_owned())),
                extra: Map::new(),
            })
        }
        Part::Document(doc) => {
            let mut file = FilePart {
                filename: doc.filename.clone().or_else(|| doc.title.clone()),
                ..FilePart::default()
            };
            match &doc.source {
                MediaSource::Base64 { media_type, data } => {
                    file.file_data = Some(data_url(media_type, data));
                    if file.filename.is_none() {
                        file.filename = Some(default_filename(media_type));
                    }
                }
                MediaSource::FileId(id) => file.file_id = Some(id.clone()),
                MediaSource::Url(url) => file.file_url = Some(url.clone()),
                MediaSource::Text { text, .. } => {
                    return Some(ContentPart::input_text(text.clone()));
                }
            }
            ContentPart::InputFile(file)
        }
        Part::Audio(audio) => {
            let MediaSource::Base64 { media_type, data } = &audio.source else {
                return None;
            };
            ContentPart::InputAudio(InputAudioPart {
                input_audio: InputAudio {
                    data: data.clone(),
                    format: audio
                        .format
                        .clone()
                        .or_else(|| media_type.strip_prefix("audio/").map(str::to_owned)),
                },
                extra: Map::new(),
            })
        }
        Part::ToolCall(_)
        | Part::ToolResult(_)
        | Part::Thinking { .. }
        | Part::RedactedThinking { .. } => return None,
    })
}

/// A file name for inline data without one (the API requires a name with
/// `file_data`).
fn default_filename(media_type: &str) -> String {
    let ext = media_type
        .rsplit('/')
        .next()
        .filter(|e| !e.is_empty() && e.chars().all(|c| c.is_ascii_alphanumeric()))
        .unwrap_or("bin");
    format!("file.{ext}")
}

/// A canonical assistant text or refusal part as an output content part.
pub(super) fn part_to_output(part: &Part) -> Option<ContentPart> {
    match part {
        Part::Text { text, .. } => Some(ContentPart::output_text(text.clone())),
        Part::Refusal(text) => Some(ContentPart::Refusal(RefusalPart {
            refusal: text.clone(),
            extra: Map::new(),
        })),
        _ => None,
    }
}

/// A tool result's content as a function output: a string when it is only
/// text (joined with newlines), else a list of input parts.
pub(super) fn output_from_parts(parts: &[Part]) -> FunctionOutput {
    if parts.iter().all(|p| matches!(p, Part::Text { .. })) {
        let texts: Vec<&str> = parts.iter().filter_map(Part::as_text).collect();
        return FunctionOutput::Text(texts.join("\n"));
    }
    FunctionOutput::Parts(parts.iter().filter_map(part_to_input).collect())
}
