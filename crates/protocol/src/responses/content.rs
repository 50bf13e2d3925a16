//! Content parts of Responses messages and function outputs: `input_text`,
//! `input_image`, `input_file`, `input_audio` (user side), `output_text`,
//! `refusal` (assistant side), and the `summary_text` / `reasoning_text`
//! parts of reasoning items. Unknown part types are kept verbatim.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::tagged::{type_of, untag};

/// A message's `content`: a plain string or a list of parts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MessageContent {
    /// Plain text.
    Text(String),
    /// Typed parts.
    Parts(Vec<ContentPart>),
}

impl Default for MessageContent {
    fn default() -> Self {
        Self::Parts(Vec::new())
    }
}

/// A `function_call_output`'s `output`: a string or a list of parts
/// (`input_text`, `input_image`, `input_file`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FunctionOutput {
    /// Plain text (usually JSON).
    Text(String),
    /// Typed parts.
    Parts(Vec<ContentPart>),
}

impl Default for FunctionOutput {
    fn default() -> Self {
        Self::Text(String::new())
    }
}

/// One content part.
#[derive(Debug, Clone, PartialEq)]
pub enum ContentPart {
    /// `input_text`.
    InputText(TextPart),
    /// `input_image`.
    InputImage(ImagePart),
    /// `input_file`.
    InputFile(FilePart),
    /// `input_audio`.
    InputAudio(InputAudioPart),
    /// `output_text` (assistant messages).
    OutputText(OutputTextPart),
    /// `refusal` (assistant messages).
    Refusal(RefusalPart),
    /// Any other part, verbatim (including its `type`).
    Other(Value),
}

impl ContentPart {
    /// An `input_text` part.
    pub fn input_text(text: impl Into<String>) -> Self {
        Self::InputText(TextPart {
            text: text.into(),
            extra: Map::new(),
        })
    }

    /// An `output_text` part without annotations.
    pub fn output_text(text: impl Into<String>) -> Self {
        Self::OutputText(OutputTextPart {
            text: text.into(),
            annotations: Vec::new(),
            extra: Map::new(),
        })
    }
}

/// `input_text`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TextPart {
    /// The text.
    #[serde(default)]
    pub text: String,
    /// Members this type does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `output_text`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OutputTextPart {
    /// The text.
    #[serde(default)]
    pub text: String,
    /// Citations and other annotations, verbatim (always written, `[]`
    /// when none).
    #[serde(default)]
    pub annotations: Vec<Value>,
    /// Members this type does not model (`logprobs`, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `refusal`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RefusalPart {
    /// The refusal text.
    #[serde(default)]
    pub refusal: String,
    /// Members this type does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `input_image`: a URL (http or `data:`) or an uploaded file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImagePart {
    /// http(s) or `data:` URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
    /// Uploaded file id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_id: Option<String>,
    /// `low`, `high` or `auto`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Members this type does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `input_file`: inline data (a `data:` URL), a URL or an uploaded file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FilePart {
    /// `data:<type>;base64,<payload>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_data: Option<String>,
    /// Uploaded file id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_id: Option<String>,
    /// A URL the upstream fetches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_url: Option<String>,
    /// File name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    /// Members this type does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `input_audio`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InputAudioPart {
    /// The audio.
    #[serde(default)]
    pub input_audio: InputAudio,
    /// Members this type does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `input_audio.input_audio`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InputAudio {
    /// Base64 audio.
    #[serde(default)]
    pub data: String,
    /// `wav`, `mp3`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
}

/// A `summary_text` or `reasoning_text` part of a reasoning item (also the
/// `part` of `response.reasoning_summary_part.*` events).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReasoningTextPart {
    /// `summary_text` (in `summary`) or `reasoning_text` (in `content`).
    #[serde(rename = "type")]
    pub kind: String,
    /// The text.
    #[serde(default)]
    pub text: String,
}

impl ReasoningTextPart {
    /// A `summary_text` part.
    pub fn summary(text: impl Into<String>) -> Self {
        Self {
            kind: "summary_text".to_owned(),
            text: text.into(),
        }
    }
}

/// The tagged form used for serialising known parts.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Tagged<'a> {
    InputText(&'a TextPart),
    InputImage(&'a ImagePart),
    InputFile(&'a FilePart),
    InputAudio(&'a InputAudioPart),
    OutputText(&'a OutputTextPart),
    Refusal(&'a RefusalPart),
}

impl Serialize for ContentPart {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::InputText(p) => Tagged::InputText(p).serialize(serializer),
            Self::InputImage(p) => Tagged::InputImage(p).serialize(serializer),
            Self::InputFile(p) => Tagged::InputFile(p).serialize(serializer),
            Self::InputAudio(p) => Tagged::InputAudio(p).serialize(serializer),
            Self::OutputText(p) => Tagged::OutputText(p).serialize(serializer),
            Self::Refusal(p) => Tagged::Refusal(p).serialize(serializer),
            Self::Other(v) => v.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for ContentPart {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        Ok(match type_of(&value) {
            "input_text" => Self::InputText(untag(value)?),
            "input_image" => Self::InputImage(untag(value)?),
            "input_file" => Self::InputFile(untag(value)?),
            "input_audio" => Self::InputAudio(untag(value)?),
            "output_text" => Self::OutputText(untag(value)?),
            "refusal" => Self::Refusal(untag(value)?),
            _ => Self::Other(value),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_round_trip() {
        let text = r#"[{"type":"input_text","text":"hi"},
            {"type":"input_image","image_url":"https://x/y.png","detail":"high"},
            {"type":"input_file","file_data":"data:application/pdf;base64,AA","filename":"a.pdf"},
            {"type":"output_text","text":"ok","annotations":[],"logprobs":[]},
            {"type":"refusal","refusal":"no"},
            {"type":"computer_screenshot","image_url":"x"}]"#;
        let parts: Vec<ContentPart> = serde_json::from_str(text).unwrap();
        assert!(matches!(parts[1], ContentPart::InputImage(_)));
        assert!(matches!(parts[5], ContentPart::Other(_)));
        let back = serde_json::to_value(&parts).unwrap();
        assert_eq!(back, serde_json::from_str::<Value>(text).unwrap());
    }
}
