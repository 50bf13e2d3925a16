//! The channel type table: AI Proxy's ids, names and default base URLs, and
//! the adaptor that reaches each one.

use serde::Serialize;

/// Azure OpenAI `api-version` used when the key does not name one.
pub const AZURE_DEFAULT_API_VERSION: &str = "2025-04-01-preview";

/// How requests reach a channel type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Adaptor {
    /// OpenAI-compatible HTTP API: `{base}{path_prefix}/chat/completions`.
    OpenAi {
        /// Appended to the base URL unless it already ends with it.
        path_prefix: &'static str,
        /// The key is `api_key|extra`; only the part before `|` is sent.
        key_before_pipe: bool,
        /// The provider also serves the Responses API at `{base}{path_prefix}/responses`.
        responses: bool,
    },
    /// Azure OpenAI deployments.
    Azure {
        /// Keep dots in deployment names (type 4) or strip them (type 3).
        keep_dots: bool,
    },
    /// Anthropic Messages API: `{base}/messages`, `x-api-key`.
    Anthropic,
    /// Gemini API: `{base}/v1beta/models/{model}:generateContent`, `x-goog-api-key`.
    Gemini,
    /// AWS Bedrock: Claude through InvokeModel, Anthropic Messages bodies,
    /// SigV4-signed (see [`super::bedrock`]).
    Bedrock,
    /// Google Vertex AI: Gemini and Claude publisher models, OAuth from a
    /// service account (see [`super::vertex`]).
    Vertex,
    /// Synthesises answers locally from the channel's configs.
    Fake,
    /// Always fails with the configured error.
    FakeError,
}

/// Static description of a channel type.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ChannelTypeInfo {
    /// AI Proxy's numeric id.
    #[serde(skip)]
    pub id: i64,
    /// AI Proxy's name.
    pub name: &'static str,
    /// Default base URL (empty: must be set on the channel).
    #[serde(rename = "defaultBaseUrl")]
    pub default_base_url: &'static str,
    /// What the key looks like.
    #[serde(rename = "keyHelp")]
    pub key_help: &'static str,
    /// Short description.
    pub readme: &'static str,
    /// How it is reached.
    #[serde(skip)]
    pub adaptor: Adaptor,
}

const fn openai(
    id: i64,
    name: &'static str,
    base: &'static str,
    readme: &'static str,
) -> ChannelTypeInfo {
    ChannelTypeInfo {
        id,
        name,
        default_base_url: base,
        key_help: "API key",
        readme,
        adaptor: Adaptor::OpenAi {
            path_prefix: "",
            key_before_pipe: false,
            responses: false,
        },
    }
}

/// An OpenAI-compatible type that also serves the Responses API.
const fn with_responses(mut info: ChannelTypeInfo) -> ChannelTypeInfo {
    if let Adaptor::OpenAi {
        path_prefix,
        key_before_pipe,
        ..
    } = info.adaptor
    {
        info.adaptor = Adaptor::OpenAi {
            path_prefix,
            key_before_pipe,
            responses: true,
        };
    }
    info
}

const fn prefixed(
    id: i64,
    name: &'static str,
    base: &'static str,
    prefix: &'static str,
    readme: &'static str,
) -> ChannelTypeInfo {
    ChannelTypeInfo {
        id,
        name,
        default_base_url: base,
        key_help: "API key",
        readme,
        adaptor: Adaptor::OpenAi {
            path_prefix: prefix,
            key_before_pipe: false,
            responses: false,
        },
    }
}

/// Every supported channel type, by id.
pub const CHANNEL_TYPES: &[ChannelTypeInfo] = &[
    with_responses(openai(
        1,
        "openai",
        "https://api.openai.com/v1",
        "OpenAI or any OpenAI-compatible server; the base URL includes /v1. Serves Chat, Responses (native), Anthropic and Gemini clients; Responses-only models (gpt-5*, o3*, o4-mini*, codex*) are reached through /responses.",
    )),
    ChannelTypeInfo {
        id: 3,
        name: "azure (deprecated)",
        default_base_url: "",
        key_help: "key or key|api-version",
        readme: "Azure OpenAI; base URL https://{resource}.openai.azure.com; dots are removed from deployment names.",
        adaptor: Adaptor::Azure { keep_dots: false },
    },
    ChannelTypeInfo {
        id: 4,
        name: "azure",
        default_base_url: "",
        key_help: "key or key|api-version",
        readme: "Azure OpenAI / AI Foundry; base URL https://{resource}.openai.azure.com; deployment = model name.",
        adaptor: Adaptor::Azure { keep_dots: true },
    },
    ChannelTypeInfo {
        id: 14,
        name: "anthropic",
        default_base_url: "https://api.anthropic.com/v1",
        key_help: "API key (sent as x-api-key)",
        readme: "Anthropic Messages API; OpenAI clients are converted; the base URL includes /v1.",
        adaptor: Adaptor::Anthropic,
    },
    openai(
        12,
        "google gemini (openai)",
        "https://generativelanguage.googleapis.com/v1beta/openai",
        "Gemini through its OpenAI-compatible endpoint.",
    ),
    openai(
        16,
        "zhipu",
        "https://open.bigmodel.cn/api/paas/v4",
        "Zhipu GLM.",
    ),
    with_responses(prefixed(
        17,
        "ali",
        "https://dashscope.aliyuncs.com",
        "/compatible-mode/v1",
        "Alibaba DashScope, OpenAI-compatible mode (Chat and Responses).",
    )),
    openai(19, "ai360", "https://ai.360.cn/v1", "360 AI."),
    openai(
        20,
        "openrouter",
        "https://openrouter.ai/api/v1",
        "OpenRouter.",
    ),
    openai(
        23,
        "tencent",
        "https://api.hunyuan.cloud.tencent.com/v1",
        "Tencent Hunyuan.",
    ),
    ChannelTypeInfo {
        id: 24,
        name: "google gemini",
        default_base_url: "https://generativelanguage.googleapis.com",
        key_help: "API key (sent as x-goog-api-key)",
        readme: "Gemini API, native generateContent/streamGenerateContent (alt=sse) and batchEmbedContents; every client protocol is converted.",
        adaptor: Adaptor::Gemini,
    },
    openai(
        25,
        "moonshot",
        "https://api.moonshot.cn/v1",
        "Moonshot / Kimi.",
    ),
    openai(
        26,
        "baichuan",
        "https://api.baichuan-ai.com/v1",
        "Baichuan.",
    ),
    ChannelTypeInfo {
        id: 27,
        name: "minimax",
        default_base_url: "https://api.minimaxi.com/v1",
        key_help: "api_key or api_key|group_id",
        readme: "MiniMax, OpenAI-compatible endpoint.",
        adaptor: Adaptor::OpenAi {
            path_prefix: "",
            key_before_pipe: true,
            responses: false,
        },
    },
    openai(28, "mistral", "https://api.mistral.ai/v1", "Mistral."),
    openai(29, "groq", "https://api.groq.com/openai/v1", "Groq."),
    ChannelTypeInfo {
        id: 30,
        name: "ollama",
        default_base_url: "http://localhost:11434",
        key_help: "usually empty",
        readme: "Ollama through its OpenAI-compatible /v1 endpoint.",
        adaptor: Adaptor::OpenAi {
            path_prefix: "/v1",
            key_before_pipe: false,
            responses: false,
        },
    },
    openai(
        31,
        "lingyiwanwu",
        "https://api.lingyiwanwu.com/v1",
        "01.AI.",
    ),
    openai(32, "stepfun", "https://api.stepfun.com/v1", "StepFun."),
    ChannelTypeInfo {
        id: 33,
        name: "aws",
        default_base_url: "",
        key_help: "region|access_key_id|secret_access_key[|session_token] or region|api_key",
        readme: "AWS Bedrock: Claude models through InvokeModel / InvokeModelWithResponseStream (SigV4-signed, or a Bedrock API key as bearer); every generation client is converted to Anthropic Messages; Claude names map to Bedrock model ids (cross-region inference profiles by region; ids and ARNs pass through); base_url, if set, replaces https://bedrock-runtime.{region}.amazonaws.com.",
        adaptor: Adaptor::Bedrock,
    },
    openai(36, "deepseek", "https://api.deepseek.com/v1", "DeepSeek."),
    with_responses(prefixed(
        40,
        "doubao",
        "https://ark.cn-beijing.volces.com",
        "/api/v3",
        "Volcengine Ark (Doubao), Chat and Responses.",
    )),
    openai(
        41,
        "novita",
        "https://api.novita.ai/v3/openai",
        "Novita AI.",
    ),
    ChannelTypeInfo {
        id: 42,
        name: "vertexai",
        default_base_url: "",
        key_help: "region|{service account JSON}, region|api_key or region|project_id|api_key",
        readme: "Google Vertex AI: models whose name contains `claude` go to the Anthropic publisher (rawPredict/streamRawPredict), all others to the Google publisher (generateContent/streamGenerateContent); a service-account key is exchanged for an OAuth token (cached, refreshed before expiry); every generation client is converted; base_url, if set, replaces https://{region}-aiplatform.googleapis.com.",
        adaptor: Adaptor::Vertex,
    },
    openai(
        43,
        "siliconflow",
        "https://api.siliconflow.cn/v1",
        "SiliconFlow.",
    ),
    openai(45, "xai", "https://api.x.ai/v1", "xAI Grok."),
    openai(47, "jina", "https://api.jina.ai/v1", "Jina AI embeddings."),
    openai(
        49,
        "qianfan",
        "https://qianfan.baidubce.com/v2",
        "Baidu Qianfan v2 (key bce-v3/…).",
    ),
    openai(
        50,
        "Sangfor AICP",
        "",
        "Sangfor AICP; the base URL must be set.",
    ),
    openai(
        51,
        "Streamlake",
        "https://wanqing.streamlakeapi.com/api/gateway/v1/endpoints",
        "StreamLake.",
    ),
    prefixed(
        52,
        "zhipu coding",
        "https://open.bigmodel.cn",
        "/api/coding/paas/v4",
        "Zhipu coding plan.",
    ),
    ChannelTypeInfo {
        id: 53,
        name: "fake",
        default_base_url: "https://fake.local/v1",
        key_help: "any",
        readme: "Answers locally without any network call; configs: static_text, response_prefix, response_suffix, reasoning_text, delay_ms, chunk_delay_ms, stream_chunks, stream_chunk_size, usage{input_tokens,output_tokens,cached_tokens,reasoning_tokens}, omit_usage, embedding{dimensions}.",
        adaptor: Adaptor::Fake,
    },
    prefixed(
        54,
        "antling",
        "https://api.tbox.cn/api",
        "/llm/v1",
        "Antling (Tbox).",
    ),
    ChannelTypeInfo {
        id: 55,
        name: "fake-error",
        default_base_url: "https://fake.local/v1",
        key_help: "any",
        readme: "Always fails locally; configs: error_status_code (default 400), error_message, error_code.",
        adaptor: Adaptor::FakeError,
    },
];

/// Look up a channel type by id.
pub fn channel_type(id: i64) -> Option<&'static ChannelTypeInfo> {
    CHANNEL_TYPES.iter().find(|t| t.id == id)
}
