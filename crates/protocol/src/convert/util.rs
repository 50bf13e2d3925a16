//! Small helpers shared by the converters: data URLs, lenient argument
//! parsing, tool-id sanitising and a JSON completeness tracker.

use serde_json::{Map, Value};

/// Splits a `data:<media type>;base64,<payload>` URL. Returns `None` for
/// anything else (http URLs, non-base64 data URLs).
pub fn parse_data_url(url: &str) -> Option<(String, String)> {
    let rest = url.strip_prefix("data:")?;
    let (meta, data) = rest.split_once(',')?;
    let media_type = meta.strip_suffix(";base64")?;
    let media_type = if media_type.is_empty() {
        "application/octet-stream"
    } else {
        media_type
    };
    Some((media_type.to_owned(), data.to_owned()))
}

/// Builds a base64 `data:` URL.
pub fn data_url(media_type: &str, data: &str) -> String {
    format!("data:{media_type};base64,{data}")
}

/// The key under which unparseable tool-call arguments are kept when a
/// dialect needs an object (Anthropic `tool_use.input`).
pub const RAW_ARGUMENTS_KEY: &str = "_raw_arguments";

/// Parses tool-call arguments text into the JSON object Anthropic wants.
///
/// Empty text or `null` becomes `{}`; an object is used as is; anything
/// else (invalid JSON, an array, a scalar) is wrapped as
/// `{"_raw_arguments": "<text>"}` so nothing is lost and nothing panics.
pub fn arguments_to_object(arguments: &str) -> Value {
    let trimmed = arguments.trim();
    if trimmed.is_empty() {
        return Value::Object(Map::new());
    }
    match serde_json::from_str::<Value>(trimmed) {
        Ok(Value::Object(map)) => Value::Object(map),
        Ok(Value::Null) => Value::Object(Map::new()),
        _ => {
            let mut map = Map::new();
            map.insert(
                RAW_ARGUMENTS_KEY.to_owned(),
                Value::String(arguments.to_owned()),
            );
            Value::Object(map)
        }
    }
}

/// Serialises a tool input object back to arguments text (`{}` for null).
pub fn object_to_arguments(input: &Value) -> String {
    if input.is_null() {
        return "{}".to_owned();
    }
    if let Some(Value::String(raw)) = input.get(RAW_ARGUMENTS_KEY)
        && input.as_object().is_some_and(|m| m.len() == 1)
    {
        return raw.clone();
    }
    input.to_string()
}

/// Makes a tool-call id acceptable to Anthropic (`^[a-zA-Z0-9_-]+$`):
/// other characters become `_`; an empty id becomes `toolu_empty`. The
/// mapping is deterministic, so a call and its result stay paired.
pub fn sanitize_tool_id(id: &str) -> String {
    if id.is_empty() {
        return "toolu_empty".to_owned();
    }
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Tracks whether streamed JSON text has closed its top-level object or
/// array, so a stream decoder can tell a finished tool call from one whose
/// arguments are still arriving.
#[derive(Debug, Clone, Default)]
pub struct JsonCompletion {
    depth: u32,
    opened: bool,
    in_string: bool,
    escaped: bool,
}

impl JsonCompletion {
    /// Feeds the next fragment.
    pub fn feed(&mut self, fragment: &str) {
        for b in fragment.bytes() {
            if self.in_string {
                match (self.escaped, b) {
                    (true, _) => self.escaped = false,
                    (false, b'\\') => self.escaped = true,
                    (false, b'"') => self.in_string = false,
                    _ => {}
                }
                continue;
            }
            match b {
                b'"' => self.in_string = true,
                b'{' | b'[' => {
                    self.opened = true;
                    self.depth += 1;
                }
                b'}' | b']' => self.depth = self.depth.saturating_sub(1),
                _ => {}
            }
        }
    }

    /// Whether a top-level object or array was opened and has closed.
    pub fn is_complete(&self) -> bool {
        self.opened && self.depth == 0 && !self.in_string
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_urls() {
        assert_eq!(
            parse_data_url("data:image/png;base64,AAAA"),
            Some(("image/png".to_owned(), "AAAA".to_owned()))
        );
        assert_eq!(parse_data_url("https://x/y.png"), None);
        assert_eq!(parse_data_url("data:text/plain,hi"), None);
        assert_eq!(data_url("image/png", "AAAA"), "data:image/png;base64,AAAA");
    }

    #[test]
    fn lenient_arguments() {
        assert_eq!(arguments_to_object(""), serde_json::json!({}));
        assert_eq!(arguments_to_object("{\"a\":1}"), serde_json::json!({"a":1}));
        let raw = arguments_to_object("{\"a\":");
        assert_eq!(raw, serde_json::json!({"_raw_arguments":"{\"a\":"}));
        assert_eq!(object_to_arguments(&raw), "{\"a\":");
        assert_eq!(
            arguments_to_object("[1]"),
            serde_json::json!({"_raw_arguments":"[1]"})
        );
    }

    #[test]
    fn ids_are_sanitised() {
        assert_eq!(sanitize_tool_id("functions.get:0"), "functions_get_0");
        assert_eq!(sanitize_tool_id("call_Ab-9"), "call_Ab-9");
        assert_eq!(sanitize_tool_id(""), "toolu_empty");
    }

    #[test]
    fn completion_tracker() {
        let mut c = JsonCompletion::default();
        c.feed("{\"a\":\"}");
        assert!(!c.is_complete());
        c.feed("\\\"\"}");
        assert!(c.is_complete());
        let mut c = JsonCompletion::default();
        c.feed("  ");
        assert!(!c.is_complete());
    }
}
