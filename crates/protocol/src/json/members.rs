//! Member-level edits of a scanned object: set, add and remove `"key": value`
//! pairs while keeping commas right.
//!
//! The adaptor uses these to rewrite `model`, insert
//! `"stream_options":{"include_usage":true}` and drop fields a provider does
//! not accept; the streaming relay uses [`replace_string_member`] to put the
//! client's model name back into every chunk. Edits are recorded per object in
//! the [`Patch`] and turned into byte edits when it is applied, once the final
//! set of surviving members is known.

use std::ops::Range;

use bytes::Bytes;

use super::escape::quote_str;
use super::patch::{Edit, splice};
use super::{JsonScanError, ObjectScan, Patch, ValueKind, ValueSpan, scan_object};

/// Sets the member `key` of the object `scan` describes to the raw JSON text
/// `raw_json_value`.
///
/// Every member with that key is replaced (duplicates included, so a decoder
/// that lets the last duplicate win sees the new value too). If there is none,
/// the member is added after the last surviving member, or inside the braces of
/// an object left empty. The value is not validated: pass well-formed JSON,
/// e.g. from [`quote_str`] or `serde_json::to_vec`.
pub fn set_member(
    patch: &mut Patch,
    body: &[u8],
    scan: &ObjectScan,
    key: &str,
    raw_json_value: &[u8],
) {
    let value = Bytes::copy_from_slice(raw_json_value);
    let edit = patch.object_edit(scan);
    let mut found = false;
    for (slot, member) in edit.slots.iter_mut().zip(scan.members()) {
        if member.key_eq(body, key) {
            slot.op = Op::Replace(value.clone());
            found = true;
        }
    }
    if found {
        return;
    }
    let mut member = quote_str(key);
    member.push(b':');
    member.extend_from_slice(raw_json_value);
    let member = Bytes::from(member);
    match edit.appended.iter_mut().find(|added| added.key == key) {
        Some(added) => added.member = member,
        None => edit.appended.push(Appended {
            key: key.to_owned(),
            member,
        }),
    }
}

/// Removes every member `key` of the object `scan` describes, together with
/// the comma that separated it from its neighbours.
///
/// Returns whether the patched object had such a member: one of the body's not
/// already removed, or one added earlier by [`set_member`] on the same patch.
pub fn remove_member(patch: &mut Patch, body: &[u8], scan: &ObjectScan, key: &str) -> bool {
    let edit = patch.object_edit(scan);
    let mut found = false;
    for (slot, member) in edit.slots.iter_mut().zip(scan.members()) {
        if member.key_eq(body, key) {
            found |= !matches!(slot.op, Op::Remove);
            slot.op = Op::Remove;
        }
    }
    let before = edit.appended.len();
    edit.appended.retain(|added| added.key != key);
    found || edit.appended.len() != before
}

/// Sets the string member `key` of the object `body` to `new_value`, if the
/// member is present.
///
/// Returns `None` when the body has no such member or every occurrence already
/// equals `new_value`, so the caller forwards the original bytes untouched.
/// A present member whose value is not a string is replaced too.
pub fn replace_string_member(
    body: &[u8],
    key: &str,
    new_value: &str,
) -> Result<Option<Bytes>, JsonScanError> {
    let scan = scan_object(body)?;
    let mut matches = scan
        .members()
        .iter()
        .filter(|member| member.key_eq(body, key))
        .peekable();
    if matches.peek().is_none() {
        return Ok(None);
    }
    let already = |value: &ValueSpan| {
        value.kind == ValueKind::String && value.read_str(body).is_ok_and(|s| s == new_value)
    };
    if matches.clone().all(|member| already(member.value())) {
        return Ok(None);
    }
    let quoted = Bytes::from(quote_str(new_value));
    let edits: Vec<Edit> = matches
        .map(|member| Edit {
            range: member.value().range.clone(),
            bytes: quoted.clone(),
        })
        .collect();
    Ok(Some(splice(body, &edits)))
}

/// The pending member edits of one object inside a [`Patch`].
#[derive(Debug, Clone)]
pub(super) struct ObjectEdit {
    open: usize,
    close: usize,
    slots: Vec<Slot>,
    appended: Vec<Appended>,
}

/// One member of the scanned object and what happens to it.
#[derive(Debug, Clone)]
struct Slot {
    member: Range<usize>,
    value: Range<usize>,
    op: Op,
}

#[derive(Debug, Clone)]
enum Op {
    Keep,
    Replace(Bytes),
    Remove,
}

/// A member added by `set_member`, rendered as `"key":value`.
#[derive(Debug, Clone)]
struct Appended {
    key: String,
    member: Bytes,
}

impl ObjectEdit {
    pub(super) fn new(scan: &ObjectScan) -> Self {
        Self {
            open: scan.open(),
            close: scan.close(),
            slots: scan
                .members()
                .iter()
                .map(|member| Slot {
                    member: member.range(),
                    value: member.value().range.clone(),
                    op: Op::Keep,
                })
                .collect(),
            appended: Vec::new(),
        }
    }

    pub(super) fn open(&self) -> usize {
        self.open
    }

    pub(super) fn is_noop(&self) -> bool {
        self.appended.is_empty() && self.slots.iter().all(|slot| matches!(slot.op, Op::Keep))
    }

    /// Turns the member edits into byte edits, now that the final set of
    /// surviving members is known.
    pub(super) fn materialize(&self, out: &mut Vec<Edit>) {
        let slots = &self.slots;
        let alive = |i: usize| {
            slots
                .get(i)
                .is_some_and(|slot| !matches!(slot.op, Op::Remove))
        };
        for slot in slots {
            if let Op::Replace(value) = &slot.op {
                out.push(Edit {
                    range: slot.value.clone(),
                    bytes: value.clone(),
                });
            }
        }
        // Each maximal run first..=last of removed members goes with one comma:
        // the one before it if a member survives before it, else the one after.
        let mut i = 0;
        while i < slots.len() {
            if alive(i) {
                i += 1;
                continue;
            }
            let first = i;
            while i < slots.len() && !alive(i) {
                i += 1;
            }
            let member = |index: usize| slots.get(index).map(|slot| slot.member.clone());
            let (Some(first_member), Some(last_member)) = (member(first), member(i - 1)) else {
                break;
            };
            let range = match (first.checked_sub(1).and_then(member), member(i)) {
                (Some(before), _) => before.end..last_member.end,
                (None, Some(after)) => first_member.start..after.start,
                (None, None) => first_member.start..last_member.end,
            };
            out.push(Edit {
                range,
                bytes: Bytes::new(),
            });
        }
        if self.appended.is_empty() {
            return;
        }
        let last_alive = (0..slots.len()).rev().find(|&i| alive(i));
        let (at, mut comma) = match last_alive.and_then(|i| slots.get(i)) {
            Some(slot) => (slot.member.end, true),
            None => (self.close, false),
        };
        let len = self
            .appended
            .iter()
            .map(|added| added.member.len() + 1)
            .sum();
        let mut bytes = Vec::with_capacity(len);
        for added in &self.appended {
            if comma {
                bytes.push(b',');
            }
            bytes.extend_from_slice(&added.member);
            comma = true;
        }
        out.push(Edit {
            range: at..at,
            bytes: bytes.into(),
        });
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::json::scan_object_at;

    /// Applies `edit` to `body` and returns the result as text.
    fn edited(body: &str, edit: impl FnOnce(&mut Patch, &[u8], &ObjectScan)) -> String {
        let bytes = body.as_bytes();
        let scan = scan_object(bytes).unwrap();
        let mut patch = Patch::new();
        edit(&mut patch, bytes, &scan);
        let out = patch.apply(bytes).unwrap();
        String::from_utf8(out.to_vec()).unwrap()
    }

    #[test]
    fn set_replaces_or_adds() {
        let out = edited(r#"{"model":"a","n":1}"#, |p, b, s| {
            set_member(p, b, s, "model", &quote_str("b\"c"));
            set_member(p, b, s, "stream_options", br#"{"include_usage":true}"#);
        });
        assert_eq!(
            out,
            r#"{"model":"b\"c","n":1,"stream_options":{"include_usage":true}}"#
        );
        let out = edited("{ }", |p, b, s| {
            set_member(p, b, s, "a", b"1");
            set_member(p, b, s, "b", b"2");
            set_member(p, b, s, "a", b"3");
        });
        assert_eq!(out, r#"{ "a":3,"b":2}"#);
    }

    #[test]
    fn set_replaces_every_duplicate() {
        let out = edited(r#"{"model":"a","model":"b"}"#, |p, b, s| {
            set_member(p, b, s, "model", b"\"c\"");
        });
        assert_eq!(out, r#"{"model":"c","model":"c"}"#);
    }

    #[test]
    fn remove_takes_one_comma() {
        let body = r#"{ "a": 1, "b": 2, "c": 3 }"#;
        let remove = |keys: &[&str]| {
            edited(body, |p, b, s| {
                for key in keys {
                    assert!(remove_member(p, b, s, key));
                }
            })
        };
        assert_eq!(remove(&["a"]), r#"{ "b": 2, "c": 3 }"#);
        assert_eq!(remove(&["b"]), r#"{ "a": 1, "c": 3 }"#);
        assert_eq!(remove(&["c"]), r#"{ "a": 1, "b": 2 }"#);
        assert_eq!(remove(&["a", "b"]), r#"{ "c": 3 }"#);
        assert_eq!(remove(&["c", "b"]), r#"{ "a": 1 }"#);
        assert_eq!(remove(&["a", "c"]), r#"{ "b": 2 }"#);
        assert_eq!(remove(&["c", "a", "b"]), "{  }");
        assert!(!edited(body, |p, b, s| assert!(!remove_member(p, b, s, "zz"))).is_empty());
    }

    #[test]
    fn remove_and_set_compose_in_any_order() {
        let body = r#"{"a":1,"b":2}"#;
        let out = edited(body, |p, b, s| {
            set_member(p, b, s, "x", b"true");
            remove_member(p, b, s, "a");
            remove_member(p, b, s, "b");
        });
        assert_eq!(out, r#"{"x":true}"#);
        let out = edited(body, |p, b, s| {
            remove_member(p, b, s, "b");
            set_member(p, b, s, "x", b"true");
            set_member(p, b, s, "a", b"0");
        });
        assert_eq!(out, r#"{"a":0,"x":true}"#);
        let out = edited(body, |p, b, s| {
            set_member(p, b, s, "x", b"true");
            assert!(remove_member(p, b, s, "x"));
        });
        assert_eq!(out, body);
        let out = edited(body, |p, b, s| {
            remove_member(p, b, s, "a");
            set_member(p, b, s, "a", b"5");
        });
        assert_eq!(out, r#"{"a":5,"b":2}"#);
    }

    #[test]
    fn nested_object_edits() {
        let body = br#"{"stream":true,"stream_options":{"include_usage":false},"x":1}"#;
        let scan = scan_object(body).unwrap();
        let options = scan.get(body, "stream_options").unwrap();
        let nested = scan_object_at(body, &options).unwrap();
        let mut patch = Patch::new();
        set_member(&mut patch, body, &nested, "include_usage", b"true");
        remove_member(&mut patch, body, &scan, "x");
        assert_eq!(
            &patch.apply(body).unwrap()[..],
            br#"{"stream":true,"stream_options":{"include_usage":true}}"#
        );
        // Editing the member and its inside at once is refused, not mangled.
        set_member(&mut patch, body, &scan, "stream_options", b"{}");
        assert!(matches!(
            patch.apply(body),
            Err(crate::json::PatchError::Overlap { .. })
        ));
    }

    #[test]
    fn noop_patches_are_empty() {
        let body = br#"{"a":1}"#;
        let scan = scan_object(body).unwrap();
        let mut patch = Patch::new();
        remove_member(&mut patch, body, &scan, "missing");
        assert!(patch.is_empty());
        set_member(&mut patch, body, &scan, "a", b"1");
        assert!(!patch.is_empty());
    }

    #[test]
    fn replace_string_member_only_when_needed() {
        let chunk = br#"{"id":"c1","model":"gpt-4o-2024-08-06","choices":[]}"#;
        let out = replace_string_member(chunk, "model", "gpt-4o")
            .unwrap()
            .unwrap();
        assert_eq!(&out[..], br#"{"id":"c1","model":"gpt-4o","choices":[]}"#);
        assert_eq!(replace_string_member(&out, "model", "gpt-4o"), Ok(None));
        assert_eq!(replace_string_member(b"{\"a\":1}", "model", "x"), Ok(None));
        let escaped = br#"{"model":"a\u0062"}"#;
        assert_eq!(replace_string_member(escaped, "model", "ab"), Ok(None));
        let out = replace_string_member(br#"{"model":null}"#, "model", "m\n").unwrap();
        assert_eq!(out.as_deref(), Some(&br#"{"model":"m\n"}"#[..]));
        assert_eq!(
            replace_string_member(b"{\"model\":", "model", "x"),
            Err(JsonScanError::UnexpectedEnd {
                at: 9,
                expected: "a JSON value"
            })
        );
    }
}
