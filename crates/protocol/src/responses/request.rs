//! The Responses request body (`POST /v1/responses`), typed for the fields
//! the converters read and lossless for the rest.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::item::Item;
use super::tagged::{type_of, untag};

/// A Responses request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResponsesRequest {
    /// Model name.
    #[serde(default)]
    pub model: String,
    /// The conversation: one user string, or items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Input>,
    /// System (developer) instructions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    /// Declared tools.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<ResponsesTool>>,
    /// Tool choice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ResponsesToolChoice>,
    /// Whether several tool calls may be made in one turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
    /// Output limit, reasoning included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_output_tokens: Option<u32>,
    /// Temperature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Nucleus sampling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    /// Text output options (`format`, `verbosity`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<TextConfig>,
    /// Reasoning options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<ReasoningConfig>,
    /// Whether the upstream stores the response (default `true` upstream).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<bool>,
    /// Continue from a stored response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_response_id: Option<String>,
    /// Stream the answer as SSE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    /// Free-form metadata (string values).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Map<String, Value>>,
    /// End-user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Extra output to include, e.g. `reasoning.encrypted_content`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include: Option<Vec<String>>,
    /// Members this type does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `input`: a string (one user message) or a list of items.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Input {
    /// One user message.
    Text(String),
    /// Items in order.
    Items(Vec<Item>),
}

/// A tool declaration: a function, or a built-in tool kept verbatim
/// (`web_search`, `file_search`, `code_interpreter`, `mcp`, `custom`, …).
#[derive(Debug, Clone, PartialEq)]
pub enum ResponsesTool {
    /// `{"type":"function", …}` (flat: no nested `function` object).
    Function(FunctionTool),
    /// Any other tool, verbatim.
    Other(Value),
}

/// A function tool.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FunctionTool {
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// JSON Schema of the arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
    /// Strict schema adherence (the Responses API defaults it to `true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
    /// Members this type does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum TaggedTool<'a> {
    Function(&'a FunctionTool),
}

impl Serialize for ResponsesTool {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Function(f) => TaggedTool::Function(f).serialize(serializer),
            Self::Other(v) => v.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for ResponsesTool {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        Ok(match type_of(&value) {
            "function" => Self::Function(untag(value)?),
            _ => Self::Other(value),
        })
    }
}

/// `tool_choice`: a mode string or an object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ResponsesToolChoice {
    /// `none`, `auto` or `required`.
    Mode(String),
    /// `{"type":"function","name":…}`, a built-in tool type, or
    /// `{"type":"allowed_tools",…}`.
    Object(NamedToolChoice),
}

/// The object form of `tool_choice`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NamedToolChoice {
    /// `function`, a built-in tool type, `allowed_tools`, …
    #[serde(rename = "type", default)]
    pub kind: String,
    /// The function name, for `function`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Members this type does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `text`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TextConfig {
    /// Output format.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<TextFormat>,
    /// Members this type does not model (`verbosity`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `text.format`: `text`, `json_object`, or `json_schema` with the schema
/// fields flat on the object (unlike Chat's nested `json_schema`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TextFormat {
    /// `text`, `json_object` or `json_schema`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// Schema name (`json_schema`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Schema description (`json_schema`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The schema (`json_schema`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<Value>,
    /// Strict adherence (`json_schema`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
    /// Members this type does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `reasoning`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReasoningConfig {
    /// `none`, `minimal`, `low`, `medium`, `high` or `xhigh`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effort: Option<String>,
    /// `auto`, `concise` or `detailed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Members this type does not model (`generate_summary`, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_round_trip() {
        let text = r#"{"model":"o3","input":"hi","instructions":"be nice",
            "tools":[{"type":"function","name":"f","parameters":{"type":"object"},"strict":false},
                     {"type":"web_search_preview"}],
            "tool_choice":{"type":"function","name":"f"},
            "text":{"format":{"type":"json_schema","name":"x","schema":{"type":"object"},"strict":true},"verbosity":"low"},
            "reasoning":{"effort":"high","summary":"auto"},"store":false,
            "include":["reasoning.encrypted_content"],"truncation":"auto"}"#;
        let req: ResponsesRequest = serde_json::from_str(text).unwrap();
        assert!(matches!(req.input, Some(Input::Text(_))));
        assert!(matches!(
            req.tools.as_deref(),
            Some([ResponsesTool::Function(_), ResponsesTool::Other(_)])
        ));
        assert_eq!(req.extra.get("truncation"), Some(&Value::from("auto")));
        let back = serde_json::to_value(&req).unwrap();
        assert_eq!(back, serde_json::from_str::<Value>(text).unwrap());
        let mode: ResponsesToolChoice = serde_json::from_str(r#""required""#).unwrap();
        assert_eq!(mode, ResponsesToolChoice::Mode("required".to_owned()));
    }
}
