//! Input and output items: `message`, `function_call`,
//! `function_call_output`, `reasoning` and `item_reference`. The same types
//! serve a request's `input` and a response's `output`; any other item type
//! (built-in tool calls such as `web_search_call`) is kept verbatim.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::content::{FunctionOutput, MessageContent, ReasoningTextPart};
use super::tagged::{type_of, untag};

/// One item.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// `message` (also an input object with a `role` and no `type`).
    Message(MessageItem),
    /// `function_call`: the model calls a function.
    FunctionCall(FunctionCallItem),
    /// `function_call_output`: the client's result for a call.
    FunctionCallOutput(FunctionCallOutputItem),
    /// `reasoning`: the model's reasoning (summary, raw text, encrypted).
    Reasoning(ReasoningItem),
    /// `item_reference`: an item stored upstream, by id.
    ItemReference(ItemReference),
    /// Any other item, verbatim (including its `type`).
    Other(Value),
}

impl Item {
    /// The item's `type` name.
    pub fn type_name(&self) -> &str {
        match self {
            Self::Message(_) => "message",
            Self::FunctionCall(_) => "function_call",
            Self::FunctionCallOutput(_) => "function_call_output",
            Self::Reasoning(_) => "reasoning",
            Self::ItemReference(_) => "item_reference",
            Self::Other(v) => type_of(v),
        }
    }
}

/// A `message` item.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MessageItem {
    /// Item id (`msg_…`); present on output items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `user`, `assistant`, `system` or `developer`.
    #[serde(default)]
    pub role: String,
    /// Text or parts.
    #[serde(default)]
    pub content: MessageContent,
    /// `in_progress`, `completed` or `incomplete` (output items).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Members this type does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A `function_call` item.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FunctionCallItem {
    /// Item id (`fc_…`), distinct from `call_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Call id (`call_…`); the output refers to it.
    #[serde(default)]
    pub call_id: String,
    /// Function name.
    #[serde(default)]
    pub name: String,
    /// Arguments as JSON text.
    #[serde(default)]
    pub arguments: String,
    /// `in_progress`, `completed` or `incomplete`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Members this type does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A `function_call_output` item.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FunctionCallOutputItem {
    /// Item id, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The call this answers.
    #[serde(default)]
    pub call_id: String,
    /// The result.
    #[serde(default)]
    pub output: FunctionOutput,
    /// Item status, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Members this type does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A `reasoning` item.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReasoningItem {
    /// Item id (`rs_…`). Omitted when sending encrypted reasoning back to a
    /// `store: false` upstream, which would otherwise look the id up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Reasoning summary parts (`summary_text`); always written.
    #[serde(default)]
    pub summary: Vec<ReasoningTextPart>,
    /// Raw reasoning parts (`reasoning_text`), for models that expose them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<Vec<ReasoningTextPart>>,
    /// Opaque encrypted reasoning (with `include:
    /// ["reasoning.encrypted_content"]`); must be sent back verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encrypted_content: Option<String>,
    /// Item status, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Members this type does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An `item_reference`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ItemReference {
    /// The referenced item's id.
    #[serde(default)]
    pub id: String,
    /// Members this type does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The tagged form used for serialising known items.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Tagged<'a> {
    Message(&'a MessageItem),
    FunctionCall(&'a FunctionCallItem),
    FunctionCallOutput(&'a FunctionCallOutputItem),
    Reasoning(&'a ReasoningItem),
    ItemReference(&'a ItemReference),
}

impl Serialize for Item {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Message(i) => Tagged::Message(i).serialize(serializer),
            Self::FunctionCall(i) => Tagged::FunctionCall(i).serialize(serializer),
            Self::FunctionCallOutput(i) => Tagged::FunctionCallOutput(i).serialize(serializer),
            Self::Reasoning(i) => Tagged::Reasoning(i).serialize(serializer),
            Self::ItemReference(i) => Tagged::ItemReference(i).serialize(serializer),
            Self::Other(v) => v.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Item {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        Ok(match type_of(&value) {
            "message" => Self::Message(untag(value)?),
            "" if value.get("role").is_some() => Self::Message(untag(value)?),
            "function_call" => Self::FunctionCall(untag(value)?),
            "function_call_output" => Self::FunctionCallOutput(untag(value)?),
            "reasoning" => Self::Reasoning(untag(value)?),
            "item_reference" => Self::ItemReference(untag(value)?),
            _ => Self::Other(value),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_decode_and_round_trip() {
        let text = r#"[{"type":"message","role":"user","content":"hi"},
            {"type":"function_call","id":"fc_1","call_id":"call_1","name":"f","arguments":"{}","status":"completed"},
            {"type":"function_call_output","call_id":"call_1","output":"42"},
            {"type":"reasoning","id":"rs_1","summary":[{"type":"summary_text","text":"t"}],"encrypted_content":"gAAAA"},
            {"type":"item_reference","id":"msg_9"},
            {"type":"web_search_call","id":"ws_1","status":"completed"}]"#;
        let items: Vec<Item> = serde_json::from_str(text).unwrap();
        assert_eq!(items[5].type_name(), "web_search_call");
        let back = serde_json::to_value(&items).unwrap();
        assert_eq!(back, serde_json::from_str::<Value>(text).unwrap());
        // An easy input message has no `type`.
        let easy: Item =
            serde_json::from_str(r#"{"role":"developer","content":"be brief"}"#).unwrap();
        assert!(matches!(easy, Item::Message(m) if m.role == "developer"));
    }
}
