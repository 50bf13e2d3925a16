//! Bedrock error answers (HTTP status, `x-amzn-errortype`, `{"message":…}`)
//! → Anthropic error bodies.

use serde::Deserialize;
use serde_json::json;

/// Longest upstream text copied into an error message.
const MAX_MESSAGE: usize = 1000;

/// The Anthropic error type for a Bedrock exception name (as in
/// `:exception-type` or `x-amzn-errortype`, any case, with or without the
/// `Exception` suffix and the `:…` namespace tail), or `None` if unknown.
pub fn anthropic_error_type(exception: &str) -> Option<&'static str> {
    let name = exception
        .split(':')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let name = name.strip_suffix("exception").unwrap_or(&name);
    Some(match name {
        "throttling" | "toomanyrequests" | "servicequotaexceeded" => "rate_limit_error",
        "validation" => "invalid_request_error",
        "serviceunavailable" | "modelnotready" => "overloaded_error",
        "accessdenied" | "unrecognizedclient" => "permission_error",
        "resourcenotfound" => "not_found_error",
        "internalserver" | "modelstreamerror" | "modeltimeout" | "modelerror" => "api_error",
        _ => return None,
    })
}

fn type_for_status(status: u16) -> &'static str {
    match status {
        400 | 422 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        503 | 529 => "overloaded_error",
        _ => "api_error",
    }
}

#[derive(Deserialize)]
struct AwsError {
    #[serde(alias = "Message")]
    message: Option<String>,
}

fn excerpt(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(MAX_MESSAGE) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// An Anthropic error body (`{"type":"error","error":{"type","message"}}`)
/// for a non-2xx Bedrock answer. The type comes from `x-amzn-errortype` when
/// known, else from the status; the message from the body's
/// `message`/`Message`, else the body text (truncated), else the status.
pub fn error_to_anthropic(status: u16, errortype_header: Option<&str>, body: &[u8]) -> Vec<u8> {
    let error_type = errortype_header
        .and_then(anthropic_error_type)
        .unwrap_or_else(|| type_for_status(status));
    let message = match serde_json::from_slice::<AwsError>(body) {
        Ok(AwsError { message: Some(m) }) => excerpt(&m),
        _ => excerpt(&String::from_utf8_lossy(body)),
    };
    let message = if message.is_empty() {
        format!("Bedrock returned HTTP {status}")
    } else {
        message
    };
    json!({"type": "error", "error": {"type": error_type, "message": message}})
        .to_string()
        .into_bytes()
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    fn convert(status: u16, header: Option<&str>, body: &str) -> Value {
        serde_json::from_slice(&error_to_anthropic(status, header, body.as_bytes())).unwrap()
    }

    #[test]
    fn maps_errortype_and_message() {
        let v = convert(
            400,
            Some("ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/"),
            r#"{"message":"max_tokens: field required"}"#,
        );
        assert_eq!(
            v,
            serde_json::json!({"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: field required"}})
        );
        let v = convert(
            429,
            Some("ThrottlingException"),
            r#"{"Message":"Too many requests"}"#,
        );
        assert_eq!(
            (v["error"]["type"].as_str(), v["error"]["message"].as_str()),
            (Some("rate_limit_error"), Some("Too many requests"))
        );
        let v = convert(
            403,
            Some("AccessDeniedException"),
            r#"{"message":"no access"}"#,
        );
        assert_eq!(v["error"]["type"], "permission_error");
    }

    #[test]
    fn falls_back_to_status_and_body_text() {
        let v = convert(503, None, "upstream unavailable");
        assert_eq!(v["error"]["type"], "overloaded_error");
        assert_eq!(v["error"]["message"], "upstream unavailable");
        let v = convert(500, Some("WeirdNewException"), "");
        assert_eq!(
            (v["error"]["type"].as_str(), v["error"]["message"].as_str()),
            (Some("api_error"), Some("Bedrock returned HTTP 500"))
        );
        let v = convert(401, None, &"x".repeat(5000));
        assert_eq!(v["error"]["type"], "authentication_error");
        assert_eq!(
            v["error"]["message"].as_str().unwrap().chars().count(),
            MAX_MESSAGE + 1
        );
    }

    #[test]
    fn exception_names() {
        assert_eq!(
            anthropic_error_type("throttlingException"),
            Some("rate_limit_error")
        );
        assert_eq!(
            anthropic_error_type("validationException"),
            Some("invalid_request_error")
        );
        assert_eq!(
            anthropic_error_type("serviceUnavailableException"),
            Some("overloaded_error")
        );
        assert_eq!(
            anthropic_error_type("modelStreamErrorException"),
            Some("api_error")
        );
        assert_eq!(
            anthropic_error_type("internalServerException"),
            Some("api_error")
        );
        assert_eq!(anthropic_error_type("somethingElse"), None);
    }
}
