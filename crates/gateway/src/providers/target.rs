//! The upstream URL, credential and extra headers of one request: per
//! channel type, the base URL (the channel's, or the type's default), the
//! path of the protocol the attempt speaks, and the key in the header the
//! provider expects.

use http::{HeaderName, HeaderValue};

use super::registry::{self, Adaptor, ChannelTypeInfo, channel_type};
use super::{ANTHROPIC_VERSION, ClientHints, ProviderError, UpstreamTarget};
use crate::header_text::joined_value;
use crate::model::channel::Channel;
use crate::relay::protocol::Protocol;

/// What the target depends on besides the channel.
#[derive(Debug, Clone, Copy)]
pub struct TargetRequest<'a> {
    /// Protocol of the upstream request.
    pub protocol: Protocol,
    /// Model name sent upstream.
    pub upstream_model: &'a str,
    /// A streamed answer is asked for (Gemini puts it in the path).
    pub stream: bool,
    /// Client headers some upstreams need.
    pub hints: &'a ClientHints,
}

/// The upstream path below an OpenAI-style `/v1` base for a protocol.
fn openai_path(protocol: Protocol) -> Option<&'static str> {
    match protocol {
        Protocol::Chat => Some("/chat/completions"),
        Protocol::Completions => Some("/completions"),
        Protocol::Embeddings => Some("/embeddings"),
        Protocol::Responses => Some("/responses"),
        _ => None,
    }
}

fn base_url<'a>(channel: &'a Channel, info: &'a ChannelTypeInfo) -> Result<&'a str, ProviderError> {
    let base = if channel.base_url.is_empty() {
        info.default_base_url
    } else {
        channel.base_url.as_str()
    };
    if base.is_empty() {
        return Err(ProviderError::MissingBaseUrl(channel.id));
    }
    Ok(base.trim_end_matches('/'))
}

/// A credential header value: `parts` joined, marked sensitive.
fn secret(channel: &Channel, parts: &[&[u8]]) -> Result<HeaderValue, ProviderError> {
    let mut value = joined_value(parts).ok_or(ProviderError::BadKey(channel.id))?;
    value.set_sensitive(true);
    Ok(value)
}

fn bearer(
    channel: &Channel,
    key: &str,
) -> Result<Option<(HeaderName, HeaderValue)>, ProviderError> {
    if key.is_empty() {
        return Ok(None);
    }
    Ok(Some((
        http::header::AUTHORIZATION,
        secret(channel, &[b"Bearer ", key.as_bytes()])?,
    )))
}

fn unsupported(channel: &Channel, protocol: Protocol) -> ProviderError {
    ProviderError::UnsupportedMode {
        channel_type: channel.channel_type,
        mode: protocol.upstream_mode(),
    }
}

/// Build the upstream target of an HTTP channel.
pub fn target(channel: &Channel, req: &TargetRequest<'_>) -> Result<UpstreamTarget, ProviderError> {
    let info = channel_type(channel.channel_type)
        .ok_or(ProviderError::UnknownType(channel.channel_type))?;
    match info.adaptor {
        Adaptor::Anthropic => anthropic_target(channel, info, req.hints, "/messages"),
        Adaptor::Gemini => gemini_target(channel, info, req),
        Adaptor::OpenAi {
            path_prefix,
            key_before_pipe,
            ..
        } => {
            let path =
                openai_path(req.protocol).ok_or_else(|| unsupported(channel, req.protocol))?;
            let base = base_url(channel, info)?;
            let prefix = if base.ends_with(path_prefix) {
                ""
            } else {
                path_prefix
            };
            let key = if key_before_pipe {
                channel.key.split('|').next().unwrap_or("")
            } else {
                channel.key.as_str()
            };
            Ok(UpstreamTarget {
                url: [base, prefix, path].concat(),
                auth: bearer(channel, key.trim())?,
                headers: Vec::new(),
            })
        }
        Adaptor::Azure { keep_dots } => azure_target(channel, info, req, keep_dots),
        // Signed or token-authorized per request by the relay (`relay::attempt`).
        Adaptor::Fake | Adaptor::FakeError | Adaptor::Bedrock | Adaptor::Vertex => {
            Err(unsupported(channel, req.protocol))
        }
    }
}

fn azure_target(
    channel: &Channel,
    info: &ChannelTypeInfo,
    req: &TargetRequest<'_>,
    keep_dots: bool,
) -> Result<UpstreamTarget, ProviderError> {
    let path = openai_path(req.protocol).ok_or_else(|| unsupported(channel, req.protocol))?;
    let base = base_url(channel, info)?;
    let (key, version) = match channel.key.split_once('|') {
        Some((k, v)) if !v.trim().is_empty() => (k.trim(), v.trim()),
        Some((k, _)) => (k.trim(), registry::AZURE_DEFAULT_API_VERSION),
        None => (channel.key.trim(), registry::AZURE_DEFAULT_API_VERSION),
    };
    let deployment = if keep_dots {
        req.upstream_model.to_owned()
    } else {
        req.upstream_model.replace('.', "")
    };
    Ok(UpstreamTarget {
        url: format!("{base}/openai/deployments/{deployment}{path}?api-version={version}"),
        auth: Some((
            HeaderName::from_static("api-key"),
            secret(channel, &[key.as_bytes()])?,
        )),
        headers: Vec::new(),
    })
}

/// The `count_tokens` endpoint of an Anthropic channel (`None` for other types).
pub fn anthropic_count_tokens_target(
    channel: &Channel,
    hints: &ClientHints,
) -> Option<Result<UpstreamTarget, ProviderError>> {
    let info = channel_type(channel.channel_type)?;
    matches!(info.adaptor, Adaptor::Anthropic)
        .then(|| anthropic_target(channel, info, hints, "/messages/count_tokens"))
}

fn anthropic_target(
    channel: &Channel,
    info: &ChannelTypeInfo,
    hints: &ClientHints,
    path: &str,
) -> Result<UpstreamTarget, ProviderError> {
    let base = base_url(channel, info)?;
    let query = if hints.beta_query { "?beta=true" } else { "" };
    let version = hints
        .anthropic_version
        .clone()
        .unwrap_or(HeaderValue::from_static(ANTHROPIC_VERSION));
    let mut headers = vec![(HeaderName::from_static("anthropic-version"), version)];
    if let Some(beta) = &hints.anthropic_beta {
        headers.push((HeaderName::from_static("anthropic-beta"), beta.clone()));
    }
    Ok(UpstreamTarget {
        url: format!("{base}{path}{query}"),
        auth: Some((
            HeaderName::from_static("x-api-key"),
            secret(channel, &[channel.key.trim().as_bytes()])?,
        )),
        headers,
    })
}

/// `{base}/v1beta/models/{model}:{action}`; a base that already names an
/// API version (`…/v1beta`, `…/v1`) is used as is.
fn gemini_target(
    channel: &Channel,
    info: &ChannelTypeInfo,
    req: &TargetRequest<'_>,
) -> Result<UpstreamTarget, ProviderError> {
    let base = base_url(channel, info)?;
    let version = if base.ends_with("/v1beta") || base.ends_with("/v1") {
        ""
    } else {
        "/v1beta"
    };
    let action = match req.protocol {
        Protocol::Gemini if req.stream => "streamGenerateContent?alt=sse",
        Protocol::Gemini => "generateContent",
        Protocol::GeminiBatchEmbed => "batchEmbedContents",
        Protocol::GeminiEmbed => "embedContent",
        other => return Err(unsupported(channel, other)),
    };
    let model = req.upstream_model.trim_start_matches("models/");
    Ok(UpstreamTarget {
        url: format!("{base}{version}/models/{model}:{action}"),
        auth: Some((
            HeaderName::from_static("x-goog-api-key"),
            secret(channel, &[channel.key.trim().as_bytes()])?,
        )),
        headers: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::channel::ChannelWrite;

    fn req(protocol: Protocol, upstream_model: &str) -> TargetRequest<'_> {
        static NO_HINTS: ClientHints = ClientHints {
            anthropic_version: None,
            anthropic_beta: None,
            beta_query: false,
        };
        TargetRequest {
            protocol,
            upstream_model,
            stream: false,
            hints: &NO_HINTS,
        }
    }

    fn channel(json: &str) -> Channel {
        let w: ChannelWrite = serde_json::from_str(json).unwrap();
        let key = w.key.clone().unwrap_or_default();
        Channel::from_create(&w, key, 0)
    }

    #[test]
    fn openai_default_and_custom_base() {
        let c = channel(r#"{"type":1,"name":"a","key":"sk-x"}"#);
        let t = target(&c, &req(Protocol::Chat, "gpt-4o")).unwrap();
        assert_eq!(t.url, "https://api.openai.com/v1/chat/completions");
        assert_eq!(t.auth.unwrap().1.to_str().unwrap(), "Bearer sk-x");
        let c = channel(r#"{"type":1,"name":"a","base_url":"http://127.0.0.1:9/v1/"}"#);
        let t = target(&c, &req(Protocol::Embeddings, "e")).unwrap();
        assert_eq!(t.url, "http://127.0.0.1:9/v1/embeddings");
        assert!(t.auth.is_none());
    }

    #[test]
    fn path_prefix_types() {
        let c = channel(r#"{"type":17,"name":"ali","key":"k"}"#);
        assert_eq!(
            target(&c, &req(Protocol::Chat, "qwen")).unwrap().url,
            "https://dashscope.aliyuncs.com/compatible-mode/v1/chat/completions"
        );
        let c = channel(
            r#"{"type":40,"name":"d","key":"k","base_url":"https://ark.cn-beijing.volces.com/api/v3"}"#,
        );
        assert_eq!(
            target(&c, &req(Protocol::Chat, "x")).unwrap().url,
            "https://ark.cn-beijing.volces.com/api/v3/chat/completions"
        );
    }

    #[test]
    fn azure_deployment_and_version() {
        let c = channel(
            r#"{"type":3,"name":"az","key":"k|2024-10-21","base_url":"https://r.openai.azure.com"}"#,
        );
        let t = target(&c, &req(Protocol::Chat, "gpt-3.5-turbo")).unwrap();
        assert_eq!(
            t.url,
            "https://r.openai.azure.com/openai/deployments/gpt-35-turbo/chat/completions?api-version=2024-10-21"
        );
        let (name, value) = t.auth.unwrap();
        assert_eq!((name.as_str(), value.to_str().unwrap()), ("api-key", "k"));
        let c =
            channel(r#"{"type":4,"name":"az","key":"k","base_url":"https://r.openai.azure.com"}"#);
        let t = target(&c, &req(Protocol::Embeddings, "text-embedding-3.small")).unwrap();
        assert!(
            t.url
                .contains("/deployments/text-embedding-3.small/embeddings?api-version=")
        );
    }

    #[test]
    fn anthropic_headers_and_paths() {
        let c = channel(r#"{"type":14,"name":"a","key":"sk-ant"}"#);
        let hints = ClientHints {
            anthropic_version: None,
            anthropic_beta: Some(HeaderValue::from_static("interleaved-thinking-2025-05-14")),
            beta_query: true,
        };
        let t = target(
            &c,
            &TargetRequest {
                hints: &hints,
                ..req(Protocol::Anthropic, "claude")
            },
        )
        .unwrap();
        assert_eq!(t.url, "https://api.anthropic.com/v1/messages?beta=true");
        let (name, value) = t.auth.unwrap();
        assert_eq!(
            (name.as_str(), value.to_str().unwrap()),
            ("x-api-key", "sk-ant")
        );
        let headers: Vec<_> = t
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.to_str().unwrap()))
            .collect();
        assert_eq!(
            headers,
            [
                ("anthropic-version", ANTHROPIC_VERSION),
                ("anthropic-beta", "interleaved-thinking-2025-05-14")
            ]
        );
        let count = anthropic_count_tokens_target(&c, &ClientHints::default())
            .unwrap()
            .unwrap();
        assert_eq!(
            count.url,
            "https://api.anthropic.com/v1/messages/count_tokens"
        );
        let openai = channel(r#"{"type":1,"name":"o","key":"k"}"#);
        assert!(anthropic_count_tokens_target(&openai, &ClientHints::default()).is_none());
    }

    #[test]
    fn gemini_paths_and_key() {
        let c = channel(r#"{"type":24,"name":"g","key":"AIza"}"#);
        let t = target(&c, &req(Protocol::Gemini, "gemini-2.5-flash")).unwrap();
        assert_eq!(
            t.url,
            "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent"
        );
        let (name, value) = t.auth.unwrap();
        assert_eq!(
            (name.as_str(), value.to_str().unwrap()),
            ("x-goog-api-key", "AIza")
        );
        let stream = TargetRequest {
            stream: true,
            ..req(Protocol::Gemini, "gemini-2.5-flash")
        };
        assert!(
            target(&c, &stream)
                .unwrap()
                .url
                .ends_with(":streamGenerateContent?alt=sse")
        );
        let c =
            channel(r#"{"type":24,"name":"g","key":"k","base_url":"http://127.0.0.1:9/v1beta/"}"#);
        assert_eq!(
            target(&c, &req(Protocol::GeminiBatchEmbed, "text-embedding-004"))
                .unwrap()
                .url,
            "http://127.0.0.1:9/v1beta/models/text-embedding-004:batchEmbedContents"
        );
        let openai = channel(r#"{"type":1,"name":"o","key":"k"}"#);
        assert_eq!(
            target(&openai, &req(Protocol::Responses, "gpt-5"))
                .unwrap()
                .url,
            "https://api.openai.com/v1/responses"
        );
    }

    #[test]
    fn minimax_key_group_suffix_is_dropped() {
        let c = channel(r#"{"type":27,"name":"m","key":"abc|group1"}"#);
        assert_eq!(
            target(&c, &req(Protocol::Chat, "m"))
                .unwrap()
                .auth
                .unwrap()
                .1
                .to_str()
                .unwrap(),
            "Bearer abc"
        );
    }
}
