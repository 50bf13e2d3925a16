//! One attempt on a Vertex AI channel (type 42): the publisher endpoint of
//! the model (Anthropic for `claude*`, Google otherwise), the body the
//! publisher expects (Anthropic Messages with Vertex's `anthropic_version`
//! and the model in the URL, or Gemini `generateContent`), and the
//! credential — an API key, or the service account's cached OAuth token.
//! Vertex answers in the publisher's own protocol, so the relay reads it as
//! an Anthropic or Gemini upstream.

use bytes::Bytes;
use http::HeaderName;

use super::{AttemptInput, Failure};
use crate::providers::UpstreamTarget;
use crate::providers::vertex::{Publisher, endpoint_url, to_raw_predict_body};
use crate::providers::vertex_auth::TokenError;
use crate::relay::protocol::Protocol;
use crate::relay::upstream::{UpstreamResponse, post_json};
use crate::snapshot::ChannelEntry;

/// Send `body` (already in `upstream`'s protocol) to the model's publisher.
pub(super) async fn send(
    input: &AttemptInput<'_>,
    channel: &ChannelEntry,
    upstream: Protocol,
    upstream_model: &str,
    body: Bytes,
) -> Result<UpstreamResponse, Failure> {
    let channel = &channel.channel;
    let credentials = input
        .app
        .vertex
        .credentials(&channel.key)
        .map_err(|e| Failure::misconfigured(e.to_string()))?;
    let (publisher, body) = match upstream {
        Protocol::Anthropic => (
            Publisher::Anthropic,
            to_raw_predict_body(&body).map_err(|e| Failure::client(e.to_string()))?,
        ),
        _ => (Publisher::Google, body),
    };
    let token_client = input
        .app
        .http
        .get(&channel.proxy_url, channel.skip_tls_verify)
        .map_err(|e| Failure::misconfigured(e.to_string()))?;
    let auth = credentials
        .auth_header(&token_client, input.ttfb)
        .await
        .map_err(|e| token_failure(&e))?;
    let mut headers = Vec::new();
    if publisher == Publisher::Anthropic
        && let Some(beta) = &input.hints.anthropic_beta
    {
        headers.push((HeaderName::from_static("anthropic-beta"), beta.clone()));
    }
    let target = UpstreamTarget {
        url: endpoint_url(
            &channel.base_url,
            &credentials.key,
            publisher,
            upstream_model,
            input.head.stream,
        ),
        auth: Some(auth),
        headers,
    };
    let client = input.upstream_client(channel)?;
    post_json(&client, &target, body, input.head.stream, input.ttfb)
        .await
        .map_err(|e| Failure::transport(&e))
}

/// A token that could not be had: the channel's credentials are refused
/// (the channel is left out, like one whose key the upstream rejects) or
/// the token endpoint is down (retried elsewhere). Either way the client
/// gets a 502, never the token endpoint's answer as its own.
fn token_failure(error: &TokenError) -> Failure {
    match error {
        TokenError::Refused(_) => Failure::misconfigured(error.to_string()),
        TokenError::Unavailable(_) => Failure::stream(error.to_string()),
    }
}
