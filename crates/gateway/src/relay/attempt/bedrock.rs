//! One attempt on an AWS Bedrock channel (type 33): the Anthropic Messages
//! body rewritten for `InvokeModel`, signed with SigV4 (or sent with a
//! Bedrock API key), and the answer made to look like the Anthropic API's —
//! the `application/vnd.amazon.eventstream` body decoded into Anthropic SSE
//! as each chunk arrives, Bedrock error answers turned into Anthropic error
//! bodies — so the rest of the relay treats it as an Anthropic upstream.

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_util::{StreamExt, stream};
use http::{HeaderMap, HeaderName, HeaderValue};

use super::{AttemptInput, Failure, MAX_ERROR_BODY};
use crate::providers::UpstreamTarget;
use crate::providers::bedrock::{
    BedrockKey, BedrockToSse, SignRequest, bedrock_model_id, error_to_anthropic, invoke_url,
    to_invoke_body,
};
use crate::relay::upstream::{BodyStream, UpstreamResponse, post_exact};
use crate::snapshot::ChannelEntry;

/// The content type of Bedrock's streamed answers.
const EVENT_STREAM: &str = "application/vnd.amazon.eventstream";

/// Send the Anthropic `body` to Bedrock and return an Anthropic-shaped answer.
pub(super) async fn send(
    input: &AttemptInput<'_>,
    channel: &ChannelEntry,
    upstream_model: &str,
    body: &Bytes,
) -> Result<UpstreamResponse, Failure> {
    let channel = &channel.channel;
    let key = BedrockKey::parse(&channel.key).map_err(|e| Failure::misconfigured(e.to_string()))?;
    let stream = input.head.stream;
    let model_id = bedrock_model_id(upstream_model, &key.region);
    let url = invoke_url(&channel.base_url, &key.region, &model_id, stream);
    let beta = input
        .hints
        .anthropic_beta
        .as_ref()
        .and_then(|v| v.to_str().ok());
    let body = to_invoke_body(body, beta).map_err(|e| Failure::client(e.to_string()))?;
    let headers = request_headers(stream);
    let signable: Vec<(&str, &str)> = headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.to_str().unwrap_or_default()))
        .collect();
    let request = SignRequest {
        method: "POST",
        url: &url,
        headers: &signable,
        body: &body,
    };
    let mut signed = key
        .auth_headers(&request, SystemTime::now())
        .map_err(|e| Failure::misconfigured(e.to_string()))?;
    signed.extend(headers.iter().cloned());
    let target = UpstreamTarget {
        url,
        auth: None,
        headers: signed,
    };
    let client = input.upstream_client(channel)?;
    let response = post_exact(&client, &target, body, input.ttfb)
        .await
        .map_err(|e| Failure::transport(&e))?;
    Ok(as_anthropic(response, input.app.config.stream_idle_timeout).await)
}

/// The headers sent (and signed): the body's type, and the answer's.
fn request_headers(stream: bool) -> Vec<(HeaderName, HeaderValue)> {
    let json = HeaderValue::from_static("application/json");
    let mut headers = vec![(http::header::CONTENT_TYPE, json.clone())];
    if stream {
        headers.push((http::header::ACCEPT, HeaderValue::from_static(EVENT_STREAM)));
        headers.push((HeaderName::from_static("x-amzn-bedrock-accept"), json));
    } else {
        headers.push((http::header::ACCEPT, json));
    }
    headers
}

/// Bedrock's answer as the Anthropic API would have given it.
async fn as_anthropic(response: UpstreamResponse, idle: Duration) -> UpstreamResponse {
    let status = response.status;
    if !status.is_success() {
        let errortype = response
            .headers
            .get("x-amzn-errortype")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let raw = response
            .read_all(MAX_ERROR_BODY, idle)
            .await
            .unwrap_or_default();
        let body = error_to_anthropic(status.as_u16(), errortype.as_deref(), &raw);
        return UpstreamResponse {
            status,
            headers: content_type("application/json"),
            body: Box::pin(stream::once(async move { Ok(Bytes::from(body)) })),
        };
    }
    let is_event_stream = response
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with(EVENT_STREAM));
    if !is_event_stream {
        return response;
    }
    UpstreamResponse {
        status,
        headers: content_type("text/event-stream"),
        body: event_stream_to_sse(response.body),
    }
}

fn content_type(value: &'static str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static(value));
    headers
}

/// Decode the event stream chunk by chunk into Anthropic SSE. An exception
/// frame becomes an Anthropic `error` event and ends the stream; so does a
/// frame that cannot be decoded.
fn event_stream_to_sse(body: BodyStream) -> BodyStream {
    let state = Some((body, BedrockToSse::new()));
    Box::pin(stream::unfold(state, |state| async move {
        let (mut body, mut converter) = state?;
        loop {
            let Some(chunk) = body.next().await else {
                // A body cut inside a frame is an error the client must see.
                return match converter.finish() {
                    Ok(()) => None,
                    Err(e) => Some((Ok(Bytes::from(e.to_anthropic_sse())), None)),
                };
            };
            let chunk = match chunk {
                Ok(chunk) => chunk,
                Err(e) => return Some((Err(e), None)),
            };
            match converter.push(&chunk) {
                Ok(out) if out.is_empty() && converter.exception().is_none() => {}
                Ok(out) => {
                    let next = converter.exception().is_none().then_some((body, converter));
                    return Some((Ok(Bytes::from(out)), next));
                }
                Err(e) => return Some((Ok(Bytes::from(e.to_anthropic_sse())), None)),
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use futures_util::stream;

    use super::*;
    use crate::providers::bedrock::{encode_chunk_frame, encode_exception_frame};
    use crate::relay::upstream::UpstreamError;

    fn body_of(chunks: Vec<Vec<u8>>) -> BodyStream {
        Box::pin(stream::iter(
            chunks
                .into_iter()
                .map(|c| Ok::<_, UpstreamError>(Bytes::from(c))),
        ))
    }

    async fn collect(body: BodyStream) -> String {
        let parts: Vec<_> = body.collect().await;
        parts
            .into_iter()
            .map(|p| String::from_utf8(p.unwrap().to_vec()).unwrap())
            .collect()
    }

    #[tokio::test]
    async fn frames_split_anywhere_become_sse_events() {
        let mut bytes = encode_chunk_frame(br#"{"type":"message_start","message":{}}"#);
        bytes.extend(encode_chunk_frame(br#"{"type":"message_stop"}"#));
        let chunks: Vec<Vec<u8>> = bytes.chunks(7).map(<[u8]>::to_vec).collect();
        let sse = collect(event_stream_to_sse(body_of(chunks))).await;
        assert_eq!(
            sse,
            "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{}}\n\n\
             event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"
        );
    }

    #[tokio::test]
    async fn exception_ends_the_stream_with_an_error_event() {
        let mut first = encode_chunk_frame(br#"{"type":"ping"}"#);
        first.extend(encode_exception_frame("throttlingException", "slow down"));
        let later = encode_chunk_frame(br#"{"type":"message_stop"}"#);
        let sse = collect(event_stream_to_sse(body_of(vec![first, later]))).await;
        let events: Vec<&str> = sse.split_terminator("\n\n").collect();
        assert_eq!(events.len(), 2, "{sse}");
        assert_eq!(events[0], "event: ping\ndata: {\"type\":\"ping\"}");
        let error = events[1].strip_prefix("event: error\ndata: ").unwrap();
        let error: serde_json::Value = serde_json::from_str(error).unwrap();
        assert_eq!(
            error,
            serde_json::json!({"type":"error","error":{"type":"rate_limit_error","message":"slow down"}})
        );
        assert!(!sse.contains("message_stop"), "{sse}");
    }

    #[tokio::test]
    async fn truncated_body_is_an_error_event() {
        let frame = encode_chunk_frame(br#"{"type":"ping"}"#);
        let sse = collect(event_stream_to_sse(body_of(vec![frame[..10].to_vec()]))).await;
        assert!(
            sse.starts_with("event: error\n") && sse.contains("api_error"),
            "{sse}"
        );
    }

    #[tokio::test]
    async fn error_answers_become_anthropic_errors() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-amzn-errortype",
            HeaderValue::from_static("ValidationException:http://internal"),
        );
        let response = UpstreamResponse {
            status: http::StatusCode::BAD_REQUEST,
            headers,
            body: body_of(vec![br#"{"message":"max_tokens: required"}"#.to_vec()]),
        };
        let converted = as_anthropic(response, Duration::from_secs(1)).await;
        assert_eq!(converted.status, 400);
        let body: serde_json::Value = serde_json::from_str(&collect(converted.body).await).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: required"}})
        );
    }

    #[test]
    fn stream_requests_ask_for_the_event_stream() {
        let names = |stream| {
            request_headers(stream)
                .into_iter()
                .map(|(n, v)| format!("{n}: {}", v.to_str().unwrap()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(true),
            [
                "content-type: application/json",
                "accept: application/vnd.amazon.eventstream",
                "x-amzn-bedrock-accept: application/json"
            ]
        );
        assert_eq!(
            names(false),
            ["content-type: application/json", "accept: application/json"]
        );
    }
}
