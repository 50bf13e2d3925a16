//! Property tests for JSON peeking and patching, checked against serde_json:
//! every top-level member is found with a span serde_json reads back to the
//! same value, patches produce the expected objects, and no truncated body is
//! accepted.
#![allow(clippy::unwrap_used, clippy::panic)]

use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{Map, Value};
use switchyard_protocol::json::{
    Patch, ValueKind, quote_str, remove_member, replace_string_member, scan_object, set_member,
};

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z_]{1,10}",
        any::<String>(),
        "[\"\\\\/\u{0}-\u{1f}\u{7f}é😀a]{0,4}",
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        // serde_json's default float parser is not always exact; keep floats it reads back.
        (-1e300..1e300f64)
            .prop_filter("serde_json round trip", |f| {
                serde_json::from_str::<f64>(&serde_json::to_string(f).unwrap()).ok() == Some(*f)
            })
            .prop_map(Value::from),
        any::<String>().prop_map(Value::String),
        "[\"\\\\\n\t\u{0}é😀 a]{0,160}".prop_map(Value::String),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 0..6)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

fn object(max: usize) -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map(key(), value(), 0..max).prop_map(|map| map.into_iter().collect())
}

/// How to write a body: serde_json compact or pretty, or our own writer with
/// extra whitespace and every non-ASCII character (and `/`) escaped.
#[derive(Debug, Clone, Copy)]
enum Style {
    Compact,
    Pretty,
    Escaped(&'static str),
}

fn style() -> impl Strategy<Value = Style> {
    prop_oneof![
        Just(Style::Compact),
        Just(Style::Pretty),
        prop_oneof![Just(""), Just(" "), Just("\n\t"), Just(" \r\n ")].prop_map(Style::Escaped),
    ]
}

fn write(map: &Map<String, Value>, style: Style) -> Vec<u8> {
    let value = Value::Object(map.clone());
    match style {
        Style::Compact => serde_json::to_vec(&value).unwrap(),
        Style::Pretty => serde_json::to_vec_pretty(&value).unwrap(),
        Style::Escaped(ws) => {
            let mut out = String::from(ws);
            write_escaped(&mut out, &value, ws);
            out.push_str(ws);
            out.into_bytes()
        }
    }
}

fn write_escaped(out: &mut String, value: &Value, ws: &str) {
    match value {
        Value::String(s) => write_escaped_str(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                out.push_str(if i == 0 { ws } else { "," });
                out.push_str(ws);
                write_escaped(out, item, ws);
            }
            out.push_str(ws);
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(ws);
                write_escaped_str(out, key);
                out.push_str(ws);
                out.push(':');
                out.push_str(ws);
                write_escaped(out, item, ws);
                out.push_str(ws);
            }
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
    }
}

fn write_escaped_str(out: &mut String, s: &str) {
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '/' => out.push_str("\\/"),
            ' '..='~' => out.push(ch),
            _ => {
                let mut units = [0; 2];
                for unit in ch.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04X}"));
                }
            }
        }
    }
    out.push('"');
}

fn kind_of(value: &Value) -> ValueKind {
    match value {
        Value::Null => ValueKind::Null,
        Value::Bool(_) => ValueKind::Bool,
        Value::Number(_) => ValueKind::Number,
        Value::String(_) => ValueKind::String,
        Value::Array(_) => ValueKind::Array,
        Value::Object(_) => ValueKind::Object,
    }
}

fn parse(bytes: &[u8]) -> Map<String, Value> {
    match serde_json::from_slice(bytes).unwrap() {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

/// One member edit, applied both to the body (via a patch) and to the model.
#[derive(Debug, Clone)]
enum Edit {
    Set(Index, Value),
    SetNew(String, Value),
    Remove(Index),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<Index>(), value()).prop_map(|(at, value)| Edit::Set(at, value)),
        (key(), value()).prop_map(|(key, value)| Edit::SetNew(key, value)),
        any::<Index>().prop_map(Edit::Remove),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn scan_finds_every_member(map in object(10), style in style()) {
        let body = write(&map, style);
        let scan = scan_object(&body).unwrap();
        prop_assert_eq!(scan.len(), map.len());
        for (member, (key, _)) in scan.members().iter().zip(&map) {
            prop_assert_eq!(&member.key(&body).unwrap(), key);
        }
        for (key, value) in &map {
            let span = scan.get(&body, key).unwrap();
            prop_assert_eq!(span.kind, kind_of(value));
            let raw = span.raw(&body).unwrap();
            prop_assert_eq!(&serde_json::from_slice::<Value>(raw).unwrap(), value);
            match value {
                Value::String(s) => prop_assert_eq!(&span.read_str(&body).unwrap(), s),
                Value::Bool(b) => prop_assert_eq!(span.read_bool(&body).unwrap(), *b),
                Value::Number(n) => {
                    prop_assert_eq!(span.read_f64(&body).ok(), n.as_f64());
                    if let Some(i) = n.as_i64() {
                        prop_assert_eq!(span.read_i64(&body).unwrap(), i);
                    }
                    if let Some(u) = n.as_u64() {
                        prop_assert_eq!(span.read_u64(&body).unwrap(), u);
                    }
                }
                _ => {}
            }
        }
    }

    #[test]
    fn edits_produce_the_expected_object(
        map in object(8),
        style in style(),
        edits in prop::collection::vec(edit(), 1..6),
    ) {
        let body = write(&map, style);
        let scan = scan_object(&body).unwrap();
        let keys: Vec<&String> = map.keys().collect();
        let mut expected = map.clone();
        let mut patch = Patch::new();
        for edit in edits {
            match edit {
                Edit::Set(at, value) if !keys.is_empty() => {
                    let key = keys[at.index(keys.len())];
                    set_member(&mut patch, &body, &scan, key, &serde_json::to_vec(&value).unwrap());
                    expected.insert(key.clone(), value);
                }
                Edit::SetNew(key, value) => {
                    set_member(&mut patch, &body, &scan, &key, &serde_json::to_vec(&value).unwrap());
                    expected.insert(key, value);
                }
                Edit::Remove(at) if !keys.is_empty() => {
                    let key = keys[at.index(keys.len())];
                    let present = expected.remove(key.as_str()).is_some();
                    prop_assert_eq!(remove_member(&mut patch, &body, &scan, key), present);
                }
                _ => {}
            }
        }
        let out = patch.apply(&body).unwrap();
        prop_assert_eq!(parse(&out), expected.clone());
        // No duplicate keys were introduced.
        prop_assert_eq!(scan_object(&out).unwrap().len(), expected.len());
    }

    #[test]
    fn replace_string_member_sets_existing_only(
        map in object(8),
        style in style(),
        pick in any::<Index>(),
        new_key in key(),
        new_value in any::<String>(),
        existing in any::<bool>(),
    ) {
        let body = write(&map, style);
        let key = match map.keys().nth(pick.index(map.len().max(1))) {
            Some(key) if existing => key.clone(),
            _ => new_key,
        };
        let out = replace_string_member(&body, &key, &new_value).unwrap();
        match map.get(&key) {
            None => prop_assert!(out.is_none()),
            Some(Value::String(old)) if *old == new_value => prop_assert!(out.is_none()),
            Some(_) => {
                let mut expected = map.clone();
                expected.insert(key, Value::String(new_value));
                prop_assert_eq!(parse(&out.unwrap()), expected);
            }
        }
    }

    #[test]
    fn every_strict_prefix_is_rejected(map in object(4), style in style()) {
        let body = write(&map, style);
        let last_brace = body.iter().rposition(|&b| b == b'}').unwrap();
        for len in 0..=last_brace {
            prop_assert!(scan_object(&body[..len]).is_err(), "accepted {} of {} bytes", len, body.len());
        }
    }

    #[test]
    fn garbage_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let _ = scan_object(&bytes);
        let _ = replace_string_member(&bytes, "model", "x");
    }

    #[test]
    fn mutations_never_panic_and_accepted_bodies_stay_consistent(
        map in object(6),
        at in any::<Index>(),
        byte in prop_oneof![any::<u8>(), prop::sample::select(b"{}[]\",:\\ 0-etrufalsn".to_vec())],
    ) {
        let mut body = write(&map, Style::Compact);
        let at = at.index(body.len());
        body[at] = byte;
        let scanned = scan_object(&body);
        if let Ok(Value::Object(parsed)) = serde_json::from_slice::<Value>(&body) {
            // Whatever serde_json accepts as an object, the scanner accepts too.
            let scan = scanned.unwrap();
            for (key, value) in &parsed {
                if scan.count(&body, key) == 1 {
                    let span = scan.get(&body, key).unwrap();
                    let raw = span.raw(&body).unwrap();
                    prop_assert_eq!(&serde_json::from_slice::<Value>(raw).unwrap(), value);
                }
            }
        }
    }
}

#[test]
fn quote_str_matches_serde_json() {
    for s in ["", "a", "\u{0}\u{1f}\"\\/é😀\u{2028}"] {
        assert_eq!(quote_str(s), serde_json::to_vec(s).unwrap());
    }
}
