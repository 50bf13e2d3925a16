//! Gemini `Content` and `Part`, shared by requests (`contents`,
//! `systemInstruction`), responses (`candidates[].content`) and stream
//! chunks.
//!
//! A [`Part`] is a struct of optional members rather than an enum: Gemini's
//! data members (`text`, `inlineData`, `functionCall`, …) are a protobuf
//! `oneof`, but the metadata members (`thought`, `thoughtSignature`) sit
//! beside them, and unknown members (`executableCode`, `videoMetadata`, …)
//! must survive a round trip in `extra`. The REST API also accepts the
//! snake_case spelling of every member (`inline_data`, `mime_type`), which
//! Google's own curl examples use, so each field has that alias.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One turn: a role and its parts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Content {
    /// `user` or `model`; absent in `systemInstruction` and sometimes in
    /// client requests (read as `user`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// The parts, in order.
    #[serde(default)]
    pub parts: Vec<Part>,
    /// Members this type does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One part of a turn.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Part {
    /// Text (also the text of a thought when `thought` is true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Inline bytes.
    #[serde(
        default,
        alias = "inline_data",
        skip_serializing_if = "Option::is_none"
    )]
    pub inline_data: Option<Blob>,
    /// A file by URI (`gs://…`, a Files API URI, or an http URL).
    #[serde(default, alias = "file_data", skip_serializing_if = "Option::is_none")]
    pub file_data: Option<FileData>,
    /// A function call made by the model.
    #[serde(
        default,
        alias = "function_call",
        skip_serializing_if = "Option::is_none"
    )]
    pub function_call: Option<FunctionCall>,
    /// The result of a function call, sent by the client.
    #[serde(
        default,
        alias = "function_response",
        skip_serializing_if = "Option::is_none"
    )]
    pub function_response: Option<FunctionResponse>,
    /// The part is a thought (reasoning summary), not answer text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thought: Option<bool>,
    /// Opaque signature of the model's reasoning state, to be sent back
    /// verbatim on the next turn (required on `functionCall` parts by
    /// Gemini 3).
    #[serde(
        default,
        alias = "thought_signature",
        skip_serializing_if = "Option::is_none"
    )]
    pub thought_signature: Option<String>,
    /// Members this type does not model (`executableCode`,
    /// `codeExecutionResult`, `videoMetadata`, `partMetadata`, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Part {
    /// A plain text part.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: Some(text.into()),
            ..Self::default()
        }
    }

    /// Whether this is a thought part.
    pub fn is_thought(&self) -> bool {
        self.thought == Some(true)
    }
}

/// `inlineData`: base64 bytes with their MIME type.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Blob {
    /// MIME type, e.g. `image/png`.
    #[serde(default, alias = "mime_type")]
    pub mime_type: String,
    /// Base64 payload.
    #[serde(default)]
    pub data: String,
    /// Members this type does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `fileData`: a file referenced by URI.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileData {
    /// MIME type, when given.
    #[serde(default, alias = "mime_type", skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// The URI.
    #[serde(default, alias = "file_uri")]
    pub file_uri: String,
    /// Members this type does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `functionCall`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FunctionCall {
    /// Call id; the Gemini API usually omits it (Vertex and newer models
    /// may send one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Function name.
    #[serde(default)]
    pub name: String,
    /// Arguments object; always complete (Gemini never streams fragments).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<Value>,
    /// Members this type does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `functionResponse`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FunctionResponse {
    /// The id of the call this answers, when the call had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Function name (required by Gemini).
    #[serde(default)]
    pub name: String,
    /// The result object. By Google's convention an `output` member holds
    /// the output and an `error` member the error; otherwise the whole
    /// object is the output.
    #[serde(default)]
    pub response: Value,
    /// Members this type does not model (`parts`, `willContinue`, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camel_and_snake_case_parse_and_camel_case_is_written() {
        let snake = r#"{"role":"user","parts":[{"inline_data":{"mime_type":"image/png","data":"AA=="}},
            {"text":"hi","thought_signature":"c2ln"}]}"#;
        let content: Content = serde_json::from_str(snake).unwrap();
        assert_eq!(
            content.parts[0].inline_data.as_ref().unwrap().mime_type,
            "image/png"
        );
        assert_eq!(content.parts[1].thought_signature.as_deref(), Some("c2ln"));
        let back = serde_json::to_value(&content).unwrap();
        assert_eq!(back["parts"][0]["inlineData"]["mimeType"], "image/png");
        assert_eq!(back["parts"][1]["thoughtSignature"], "c2ln");
    }

    #[test]
    fn unknown_members_round_trip() {
        let text = r#"{"role":"model","parts":[{"executableCode":{"language":"PYTHON","code":"1"}},
            {"functionCall":{"name":"f","args":{"a":1}},"thoughtSignature":"s"},
            {"text":"t","thought":true}]}"#;
        let content: Content = serde_json::from_str(text).unwrap();
        let orig: Value = serde_json::from_str(text).unwrap();
        assert_eq!(serde_json::to_value(&content).unwrap(), orig);
        assert!(content.parts[2].is_thought());
    }
}
