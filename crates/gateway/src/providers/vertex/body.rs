//! Anthropic Messages request body → the body of Vertex's `rawPredict` /
//! `streamRawPredict`: the model moves to the URL, `anthropic_version` is
//! Vertex's. Patched in place: the rest of the body is forwarded byte for byte.

use bytes::Bytes;
use switchyard_protocol::json::{Patch, quote_str, remove_member, scan_object, set_member};

use super::VertexError;

/// The `anthropic_version` Vertex requires in the body.
pub const VERTEX_ANTHROPIC_VERSION: &str = "vertex-2023-10-16";

/// Drop the top-level `model` and set `anthropic_version` to
/// [`VERTEX_ANTHROPIC_VERSION`]; `stream` stays (Vertex reads it).
pub fn to_raw_predict_body(body: &[u8]) -> Result<Bytes, VertexError> {
    let scan = scan_object(body).map_err(|e| VertexError::Body(e.to_string()))?;
    let mut patch = Patch::new();
    remove_member(&mut patch, body, &scan, "model");
    set_member(
        &mut patch,
        body,
        &scan,
        "anthropic_version",
        &quote_str(VERTEX_ANTHROPIC_VERSION),
    );
    patch
        .apply(body)
        .map_err(|e| VertexError::Body(e.to_string()))
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    #[test]
    fn model_removed_version_set() {
        let body = br#"{"model":"claude-sonnet-4","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"hi"}]}"#;
        let out: Value = serde_json::from_slice(&to_raw_predict_body(body).unwrap()).unwrap();
        assert_eq!(
            out,
            json!({"max_tokens":5,"stream":true,"messages":[{"role":"user","content":"hi"}],
                   "anthropic_version":"vertex-2023-10-16"})
        );
        let out: Value = serde_json::from_slice(
            &to_raw_predict_body(br#"{"anthropic_version":"bedrock-2023-05-31","max_tokens":1}"#)
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"anthropic_version":"vertex-2023-10-16","max_tokens":1})
        );
    }

    #[test]
    fn non_objects_are_rejected() {
        assert!(matches!(
            to_raw_predict_body(b"[1]"),
            Err(VertexError::Body(_))
        ));
        assert!(to_raw_predict_body(b"{\"a\":").is_err());
    }
}
