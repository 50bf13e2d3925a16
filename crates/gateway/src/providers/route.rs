//! Which protocol a channel speaks for a client: the channel type decides,
//! and for OpenAI channels that also serve the Responses API, the model
//! (Responses-only models are reached through `/responses` whatever the
//! client speaks). Routing uses [`supports`] to filter candidates; the
//! attempt uses [`upstream_protocol`] to pick conversions.

use super::registry::{Adaptor, ChannelTypeInfo};
use crate::relay::protocol::Protocol;

/// Name prefixes of OpenAI models served only by the Responses API (AI
/// Proxy's list; a model config of type Responses is treated the same).
const RESPONSES_ONLY_PREFIXES: &[&str] =
    &["gpt-5", "o3", "o4-mini", "codex", "o1-pro", "computer-use"];

/// Whether `model` (the upstream name) is served only by the Responses API.
/// Case-insensitive, compared in place (it runs on every attempt).
pub fn is_responses_only_model(model: &str) -> bool {
    let name = model.rsplit('/').next().unwrap_or(model);
    RESPONSES_ONLY_PREFIXES.iter().any(|prefix| {
        name.get(..prefix.len())
            .is_some_and(|start| start.eq_ignore_ascii_case(prefix))
    })
}

/// The protocol a channel of this type speaks for a `client` request
/// (`None`: it cannot serve it). `responses_only` says the model is served
/// only by the Responses API.
pub fn upstream_protocol(
    info: &ChannelTypeInfo,
    client: Protocol,
    responses_only: bool,
) -> Option<Protocol> {
    let openai_family = |responses: bool| match client {
        Protocol::Completions => Some(Protocol::Completions),
        c if c.is_embedding() => Some(Protocol::Embeddings),
        Protocol::Responses if responses => Some(Protocol::Responses),
        _ if responses && responses_only => Some(Protocol::Responses),
        _ => Some(Protocol::Chat),
    };
    match info.adaptor {
        Adaptor::OpenAi { responses, .. } => openai_family(responses),
        Adaptor::Azure { .. } | Adaptor::Fake | Adaptor::FakeError => openai_family(false),
        Adaptor::Anthropic | Adaptor::Bedrock => {
            client.is_generation().then_some(Protocol::Anthropic)
        }
        // The model decides between Gemini and Anthropic
        // ([`upstream_protocol_for_model`]); either serves the same clients.
        Adaptor::Vertex => client.is_generation().then_some(Protocol::Gemini),
        Adaptor::Gemini => match client {
            c if c.is_generation() => Some(Protocol::Gemini),
            c if c.is_embedding() => Some(Protocol::GeminiBatchEmbed),
            _ => None,
        },
    }
}

/// The protocol a channel of this type speaks for a `client` request for
/// `upstream_model` (the name sent upstream): [`upstream_protocol`] with the
/// model-dependent choices made — Responses-only OpenAI models, and Vertex
/// AI's publishers (`claude*` models speak Anthropic Messages, others Gemini).
pub fn upstream_protocol_for_model(
    info: &ChannelTypeInfo,
    client: Protocol,
    upstream_model: &str,
) -> Option<Protocol> {
    match info.adaptor {
        Adaptor::Vertex => client.is_generation().then(|| {
            match crate::providers::vertex::Publisher::for_model(upstream_model) {
                crate::providers::vertex::Publisher::Anthropic => Protocol::Anthropic,
                crate::providers::vertex::Publisher::Google => Protocol::Gemini,
            }
        }),
        _ => upstream_protocol(info, client, is_responses_only_model(upstream_model)),
    }
}

/// Whether a channel of this type can serve `client` requests at all.
pub fn supports(info: &ChannelTypeInfo, client: Protocol) -> bool {
    upstream_protocol(info, client, false).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::channel_type;

    fn route(type_id: i64, client: Protocol, responses_only: bool) -> Option<Protocol> {
        upstream_protocol(channel_type(type_id).unwrap(), client, responses_only)
    }

    #[test]
    fn protocol_matrix() {
        use Protocol::*;
        assert_eq!(route(1, Chat, false), Some(Chat));
        assert_eq!(
            route(1, Chat, true),
            Some(Responses),
            "responses-only models on OpenAI"
        );
        assert_eq!(route(1, Anthropic, true), Some(Responses));
        assert_eq!(
            route(1, Responses, false),
            Some(Responses),
            "native Responses passthrough"
        );
        assert_eq!(
            route(36, Responses, false),
            Some(Chat),
            "Responses converted for Chat-only providers"
        );
        assert_eq!(route(36, Chat, true), Some(Chat));
        assert_eq!(route(1, GeminiEmbed, false), Some(Embeddings));
        assert_eq!(route(14, Gemini, false), Some(Anthropic));
        assert_eq!(route(14, Embeddings, false), None);
        assert_eq!(route(24, Responses, false), Some(Gemini));
        assert_eq!(route(24, Embeddings, false), Some(GeminiBatchEmbed));
        assert_eq!(route(24, Completions, false), None);
        assert_eq!(route(53, Anthropic, false), Some(Chat));
        assert_eq!(route(33, Chat, false), Some(Anthropic));
        assert_eq!(route(33, Responses, false), Some(Anthropic));
        assert_eq!(route(33, Embeddings, false), None);
        assert_eq!(route(33, Completions, false), None);
        assert_eq!(route(42, Embeddings, false), None);
    }

    #[test]
    fn model_dependent_routes() {
        use Protocol::*;
        let by_model = |type_id: i64, client: Protocol, model: &str| {
            upstream_protocol_for_model(channel_type(type_id).unwrap(), client, model)
        };
        assert_eq!(
            by_model(42, Chat, "claude-sonnet-4@20250514"),
            Some(Anthropic)
        );
        assert_eq!(by_model(42, Anthropic, "gemini-2.5-pro"), Some(Gemini));
        assert_eq!(by_model(42, Gemini, "claude-opus-4"), Some(Anthropic));
        assert_eq!(by_model(42, Embeddings, "gemini-2.5-pro"), None);
        assert_eq!(by_model(1, Chat, "gpt-5"), Some(Responses));
        assert_eq!(by_model(1, Chat, "gpt-4o"), Some(Chat));
        assert_eq!(by_model(33, Gemini, "claude-sonnet-4"), Some(Anthropic));
    }

    #[test]
    fn responses_only_names() {
        for m in [
            "gpt-5",
            "gpt-5-codex",
            "o3-pro",
            "o4-mini",
            "codex-mini-latest",
            "openai/gpt-5.1",
            "Azure/GPT-5-Mini",
        ] {
            assert!(is_responses_only_model(m), "{m}");
        }
        for m in [
            "gpt-4o",
            "gpt-4.1-mini",
            "o1",
            "deepseek-chat",
            "gpt-",
            "\u{e9}o3",
            "é-gpt-5",
        ] {
            assert!(!is_responses_only_model(m), "{m}");
        }
    }
}
