//! Anthropic Messages request body → Bedrock `InvokeModel` body, patched in
//! place (the rest of the body is forwarded byte for byte, never re-parsed).

use bytes::Bytes;
use serde_json::Value;
use switchyard_protocol::json::{Patch, quote_str, remove_member, scan_object, set_member};

use super::BedrockError;

/// The `anthropic_version` Bedrock requires in the body.
pub const BEDROCK_ANTHROPIC_VERSION: &str = "bedrock-2023-05-31";

/// Prefixes of the `anthropic-beta` values Bedrock's Invoke API accepts
/// (per the AWS Claude Messages parameters page); any other beta makes
/// Bedrock answer "invalid beta flag", so it is dropped.
pub const SUPPORTED_BETA_PREFIXES: &[&str] = &[
    "computer-use-",
    "token-efficient-tools-",
    "interleaved-thinking-",
    "output-128k-",
    "dev-full-thinking-",
    "context-1m-",
    "context-management-",
    "effort-",
    "tool-search-tool-",
    "tool-examples-",
];

/// Top-level fields removed from the body: `model` and `stream` (carried by
/// the URL) and Anthropic-API-only features Bedrock rejects as extraneous
/// keys (MCP connector, code-execution container, service tier).
pub const STRIPPED_FIELDS: &[&str] = &[
    "model",
    "stream",
    "mcp_servers",
    "container",
    "service_tier",
];

fn supported_beta(beta: &str) -> bool {
    SUPPORTED_BETA_PREFIXES.iter().any(|p| beta.starts_with(p))
}

/// The betas named by the body's own `anthropic_beta` (array or string).
fn body_betas(raw: Option<&[u8]>) -> Vec<String> {
    match raw.and_then(|r| serde_json::from_slice::<Value>(r).ok()) {
        Some(Value::Array(values)) => values
            .into_iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        Some(Value::String(s)) => vec![s],
        _ => Vec::new(),
    }
}

/// Rewrite an Anthropic Messages request body for Bedrock: drop
/// [`STRIPPED_FIELDS`], set `anthropic_version` to
/// [`BEDROCK_ANTHROPIC_VERSION`], and set `anthropic_beta` to the supported
/// betas from the client's `anthropic-beta` header (comma-separated) and any
/// `anthropic_beta` already in the body, deduplicated, in order (removed
/// when none is left).
pub fn to_invoke_body(body: &[u8], anthropic_beta: Option<&str>) -> Result<Bytes, BedrockError> {
    let scan = scan_object(body).map_err(|e| BedrockError::Body(e.to_string()))?;
    let raw_betas = scan
        .get(body, "anthropic_beta")
        .map(|v| v.raw(body))
        .transpose()
        .map_err(|e| BedrockError::Body(e.to_string()))?;
    let from_header = anthropic_beta
        .unwrap_or("")
        .split(',')
        .map(|s| s.trim().to_owned());
    let mut betas: Vec<String> = Vec::new();
    for beta in body_betas(raw_betas).into_iter().chain(from_header) {
        if supported_beta(&beta) && !betas.contains(&beta) {
            betas.push(beta);
        }
    }
    let mut patch = Patch::new();
    for field in STRIPPED_FIELDS {
        remove_member(&mut patch, body, &scan, field);
    }
    set_member(
        &mut patch,
        body,
        &scan,
        "anthropic_version",
        &quote_str(BEDROCK_ANTHROPIC_VERSION),
    );
    if betas.is_empty() {
        remove_member(&mut patch, body, &scan, "anthropic_beta");
    } else {
        let list = serde_json::to_vec(&betas).map_err(|e| BedrockError::Body(e.to_string()))?;
        set_member(&mut patch, body, &scan, "anthropic_beta", &list);
    }
    patch
        .apply(body)
        .map_err(|e| BedrockError::Body(e.to_string()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn shape(body: Value, beta: Option<&str>) -> Value {
        let out = to_invoke_body(&serde_json::to_vec(&body).unwrap(), beta).unwrap();
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn strips_model_and_stream_and_sets_version() {
        let out = shape(
            json!({"model":"claude-sonnet-4-20250514","stream":true,"max_tokens":10,
                   "messages":[{"role":"user","content":"hi"}],"metadata":{"user_id":"u"},
                   "mcp_servers":[],"container":"c","service_tier":"auto","anthropic_version":"x"}),
            None,
        );
        assert_eq!(
            out,
            json!({"max_tokens":10,"messages":[{"role":"user","content":"hi"}],
                   "metadata":{"user_id":"u"},"anthropic_version":"bedrock-2023-05-31"})
        );
    }

    #[test]
    fn filters_betas_to_the_allow_list() {
        let out = shape(
            json!({"max_tokens":1,"anthropic_beta":["output-128k-2025-02-19","bogus-1"]}),
            Some(
                "interleaved-thinking-2025-05-14, mcp-servers-2025-12-04,context-1m-2025-08-07,,output-128k-2025-02-19",
            ),
        );
        assert_eq!(
            out["anthropic_beta"],
            json!([
                "output-128k-2025-02-19",
                "interleaved-thinking-2025-05-14",
                "context-1m-2025-08-07"
            ])
        );
        let out = shape(json!({"max_tokens":1}), Some("prompt-caching-2024-07-31"));
        assert!(out.get("anthropic_beta").is_none());
    }

    #[test]
    fn rejects_non_objects() {
        assert!(matches!(
            to_invoke_body(b"[1]", None),
            Err(BedrockError::Body(_))
        ));
        assert!(matches!(
            to_invoke_body(b"{", None),
            Err(BedrockError::Body(_))
        ));
    }
}
