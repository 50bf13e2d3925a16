//! JSON Schema ⇄ Gemini's schema dialect, for tool parameters and
//! `responseSchema`.
//!
//! Gemini's `parameters` / `responseSchema` accept an OpenAPI 3.0 subset and
//! reject (400 `Invalid JSON payload` / `Unknown name`) most other JSON
//! Schema keywords. [`clean_schema`] rewrites a client schema into that
//! subset:
//!
//! - **kept**: `type`, `format` (only `enum`, `date-time`, `float`,
//!   `double`, `int32`, `int64`), `title`, `description`, `nullable`,
//!   `enum` (only when every value is a string), `properties`, `required`
//!   (only names that are properties), `items`, `anyOf`, `minItems`,
//!   `maxItems`, `minLength`, `maxLength`, `pattern`, `minimum`, `maximum`,
//!   `minProperties`, `maxProperties`, `propertyOrdering`, `example`;
//! - **rewritten**: `type: [T, "null"]` → `type: T` + `nullable: true`
//!   (with several non-null types the first is kept); `const: v` →
//!   `enum: [v]`; `oneOf` → `anyOf`; an `anyOf` member `{"type":"null"}` →
//!   `nullable`; a single remaining `anyOf` member and every `allOf` member
//!   are merged into the schema; local `$ref`s (`#/$defs/…`,
//!   `#/definitions/…`) are inlined (8 levels deep; deeper or recursive
//!   references become `{}`); empty `properties` and `required` are
//!   omitted;
//! - **removed**: everything else, notably `$schema`, `$id`, `$ref`
//!   (unresolved), `$defs`, `definitions`, `additionalProperties`,
//!   `default`, `examples`, `exclusiveMinimum`, `exclusiveMaximum`,
//!   `patternProperties`, `unevaluatedProperties`, `not`, `if`/`then`/
//!   `else`, `dependentRequired`, `readOnly`, `writeOnly`, `deprecated`,
//!   `strict`, boolean sub-schemas.
//!
//! [`schema_from_gemini`] goes the other way for Gemini clients, whose
//! schemas other dialects would reject or misread: `type` names are
//! lower-cased (Gemini accepts `OBJECT`, `STRING`); `nullable: true`
//! becomes `type: [T, "null"]` (and `null` joins an `enum`); the Gemini-only `propertyOrdering` and
//! `format: "enum"` are removed. Everything else is kept.

use serde_json::{Map, Value};

/// Keywords copied unchanged.
const KEPT: &[&str] = &[
    "title",
    "description",
    "nullable",
    "minItems",
    "maxItems",
    "minLength",
    "maxLength",
    "pattern",
    "minimum",
    "maximum",
    "minProperties",
    "maxProperties",
    "propertyOrdering",
    "example",
];

/// `format` values Gemini accepts.
const FORMATS: &[&str] = &["enum", "date-time", "float", "double", "int32", "int64"];

/// How deep `$ref`s are inlined.
const MAX_REF_DEPTH: u32 = 8;

/// A JSON Schema rewritten into Gemini's subset (see the module docs).
pub fn clean_schema(schema: &Value) -> Value {
    let defs = definitions(schema);
    Value::Object(clean(schema, &defs, 0))
}

/// Tool parameters for a `functionDeclaration`: the cleaned schema, or
/// `None` when it declares no properties (Gemini rejects an object schema
/// with empty `properties`; a function without parameters omits them).
pub fn tool_parameters(schema: Option<&Value>) -> Option<Value> {
    let cleaned = clean_schema(schema?);
    cleaned.get("properties")?;
    Some(cleaned)
}

fn definitions(schema: &Value) -> Map<String, Value> {
    let mut defs = Map::new();
    for key in ["definitions", "$defs"] {
        if let Some(Value::Object(map)) = schema.get(key) {
            defs.extend(map.iter().map(|(k, v)| (format!("#/{key}/{k}"), v.clone())));
        }
    }
    defs
}

fn clean(node: &Value, defs: &Map<String, Value>, depth: u32) -> Map<String, Value> {
    let Value::Object(obj) = node else {
        return Map::new();
    };
    let mut out = Map::new();
    if let Some(Value::String(reference)) = obj.get("$ref")
        && depth < MAX_REF_DEPTH
        && let Some(target) = defs.get(reference)
    {
        merge(&mut out, clean(target, defs, depth + 1));
    }
    if let Some(Value::Array(members)) = obj.get("allOf") {
        for member in members {
            merge(&mut out, clean(member, defs, depth));
        }
    }
    for (key, value) in obj {
        match key.as_str() {
            "type" => set_type(&mut out, value),
            "format" if value.as_str().is_some_and(|f| FORMATS.contains(&f)) => {
                out.insert(key.clone(), value.clone());
            }
            "enum" => set_enum(&mut out, value.as_array().map(Vec::as_slice).unwrap_or(&[])),
            "const" => set_enum(&mut out, std::slice::from_ref(value)),
            "properties" => {
                if let Value::Object(props) = value {
                    let props: Map<String, Value> = props
                        .iter()
                        .map(|(k, v)| (k.clone(), Value::Object(clean(v, defs, depth))))
                        .collect();
                    if !props.is_empty() {
                        out.insert(key.clone(), Value::Object(props));
                    }
                }
            }
            "items" => {
                let item = match value {
                    Value::Array(tuple) => tuple.first(),
                    other => Some(other),
                };
                if let Some(item @ Value::Object(_)) = item {
                    out.insert(key.clone(), Value::Object(clean(item, defs, depth)));
                }
            }
            "anyOf" | "oneOf" => set_any_of(&mut out, value, defs, depth),
            k if KEPT.contains(&k) => {
                out.insert(key.clone(), value.clone());
            }
            _ => {}
        }
    }
    fix_required(&mut out, obj.get("required"));
    out
}

/// Overlays `from` onto `into`, uniting `properties` and `required`.
fn merge(into: &mut Map<String, Value>, from: Map<String, Value>) {
    for (key, value) in from {
        match (key.as_str(), into.get_mut(&key), value) {
            ("properties", Some(Value::Object(a)), Value::Object(b)) => a.extend(b),
            ("required", Some(Value::Array(a)), Value::Array(b)) => {
                for v in b {
                    if !a.contains(&v) {
                        a.push(v);
                    }
                }
            }
            (_, _, value) => {
                into.insert(key, value);
            }
        }
    }
}

fn set_type(out: &mut Map<String, Value>, value: &Value) {
    match value {
        Value::String(t) => {
            out.insert("type".to_owned(), Value::String(t.clone()));
        }
        Value::Array(types) => {
            let mut names = types.iter().filter_map(Value::as_str);
            if types.iter().any(|t| t.as_str() == Some("null")) {
                out.insert("nullable".to_owned(), Value::Bool(true));
            }
            if let Some(first) = names.find(|t| *t != "null") {
                out.insert("type".to_owned(), Value::String(first.to_owned()));
            }
        }
        _ => {}
    }
}

fn set_enum(out: &mut Map<String, Value>, values: &[Value]) {
    if values.iter().any(Value::is_null) {
        out.insert("nullable".to_owned(), Value::Bool(true));
    }
    let strings: Vec<Value> = values.iter().filter(|v| !v.is_null()).cloned().collect();
    if strings.is_empty() || !strings.iter().all(Value::is_string) {
        return;
    }
    out.entry("type")
        .or_insert_with(|| Value::String("string".to_owned()));
    out.insert("enum".to_owned(), Value::Array(strings));
}

fn set_any_of(out: &mut Map<String, Value>, value: &Value, defs: &Map<String, Value>, depth: u32) {
    let Value::Array(members) = value else {
        return;
    };
    let mut kept = Vec::new();
    for member in members {
        if member.get("type").and_then(Value::as_str) == Some("null") {
            out.insert("nullable".to_owned(), Value::Bool(true));
        } else {
            kept.push(clean(member, defs, depth));
        }
    }
    match kept.len() {
        0 => {}
        1 => {
            if let Some(only) = kept.pop() {
                merge(out, only);
            }
        }
        _ => {
            out.insert(
                "anyOf".to_owned(),
                Value::Array(kept.into_iter().map(Value::Object).collect()),
            );
        }
    }
}

fn fix_required(out: &mut Map<String, Value>, required: Option<&Value>) {
    let mut names: Vec<Value> = match out.remove("required") {
        Some(Value::Array(merged)) => merged,
        _ => Vec::new(),
    };
    if let Some(Value::Array(own)) = required {
        for v in own {
            if !names.contains(v) {
                names.push(v.clone());
            }
        }
    }
    let props = out.get("properties").and_then(Value::as_object);
    names.retain(|n| {
        n.as_str()
            .is_some_and(|n| props.is_some_and(|p| p.contains_key(n)))
    });
    if !names.is_empty() {
        out.insert("required".to_owned(), Value::Array(names));
    }
}

/// A Gemini schema as JSON Schema for other dialects (see the module
/// docs).
pub fn schema_from_gemini(mut schema: Value) -> Value {
    to_json_schema(&mut schema);
    schema
}

fn to_json_schema(node: &mut Value) {
    match node {
        Value::Object(map) => {
            map.remove("propertyOrdering");
            if map.get("format").and_then(Value::as_str) == Some("enum") {
                map.remove("format");
            }
            if map.get("nullable") == Some(&Value::Bool(true))
                && let Some(Value::String(t)) = map.get("type")
            {
                let types = vec![Value::String(t.clone()), Value::String("null".to_owned())];
                map.insert("type".to_owned(), Value::Array(types));
                map.remove("nullable");
                if let Some(Value::Array(values)) = map.get_mut("enum") {
                    values.push(Value::Null);
                }
            }
            for (key, value) in map.iter_mut() {
                match (key.as_str(), value) {
                    ("type", Value::String(t)) => *t = t.to_ascii_lowercase(),
                    ("type", Value::Array(ts)) => {
                        for t in ts.iter_mut() {
                            if let Value::String(s) = t {
                                *s = s.to_ascii_lowercase();
                            }
                        }
                    }
                    ("enum" | "const" | "example" | "default", _) => {}
                    (_, value) => to_json_schema(value),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(to_json_schema),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn unsupported_keywords_are_removed_and_refs_inlined() {
        let schema = json!({
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "city": {"type": "string", "default": "Paris", "format": "uri", "minLength": 1},
                "unit": {"type": ["string", "null"], "enum": ["c", "f", null]},
                "when": {"type": "string", "format": "date-time"},
                "n": {"type": "integer", "enum": [1, 2], "exclusiveMinimum": 0},
                "place": {"$ref": "#/$defs/Place"},
                "kind": {"const": "fixed"},
                "tags": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "null"}]}}
            },
            "required": ["city", "ghost"],
            "$defs": {"Place": {"type": "object", "properties": {"lat": {"type": "number"}}, "additionalProperties": false}}
        });
        assert_eq!(
            clean_schema(&schema),
            json!({
                "type": "object",
                "properties": {
                    "city": {"type": "string", "minLength": 1},
                    "unit": {"type": "string", "nullable": true, "enum": ["c", "f"]},
                    "when": {"type": "string", "format": "date-time"},
                    "n": {"type": "integer"},
                    "place": {"type": "object", "properties": {"lat": {"type": "number"}}},
                    "kind": {"type": "string", "enum": ["fixed"]},
                    "tags": {"type": "array", "items": {"type": "string", "nullable": true}}
                },
                "required": ["city"]
            })
        );
    }

    #[test]
    fn recursive_refs_stop() {
        let schema = json!({"type": "object", "properties": {"node": {"$ref": "#/definitions/N"}},
            "definitions": {"N": {"type": "object", "properties": {"next": {"$ref": "#/definitions/N"}}}}});
        let cleaned = clean_schema(&schema);
        assert!(
            cleaned
                .pointer("/properties/node/properties/next")
                .is_some()
        );
    }

    #[test]
    fn all_of_and_one_of() {
        let schema = json!({"allOf": [
            {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
            {"properties": {"b": {"oneOf": [{"type": "string"}, {"type": "number"}]}}, "required": ["b"]}
        ]});
        assert_eq!(
            clean_schema(&schema),
            json!({
                "type": "object",
                "properties": {"a": {"type": "string"}, "b": {"anyOf": [{"type": "string"}, {"type": "number"}]}},
                "required": ["a", "b"]
            })
        );
    }

    #[test]
    fn parameterless_tools_omit_the_schema() {
        assert_eq!(
            tool_parameters(Some(&json!({"type": "object", "properties": {}}))),
            None
        );
        assert_eq!(tool_parameters(None), None);
        assert!(
            tool_parameters(Some(
                &json!({"type": "object", "properties": {"a": {"type": "string"}}})
            ))
            .is_some()
        );
    }

    #[test]
    fn gemini_schemas_become_json_schema() {
        let schema = json!({"type": "OBJECT", "propertyOrdering": ["type"], "properties": {
            "type": {"type": "STRING", "enum": ["A"], "format": "enum", "nullable": true}}});
        assert_eq!(
            schema_from_gemini(schema),
            json!({"type": "object", "properties": {
            "type": {"type": ["string", "null"], "enum": ["A", null]}}})
        );
    }
}
