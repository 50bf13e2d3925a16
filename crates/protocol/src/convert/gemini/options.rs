//! Per-upstream switches for encoding a request to a Gemini upstream (the
//! channel configuration decides them; the body does not say).

/// Switches for [`request_from_ir`](super::request_from_ir).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeminiRequestOptions {
    /// When set, `safetySettings` with this threshold (`BLOCK_NONE`,
    /// `OFF`, `BLOCK_ONLY_HIGH`, …) for the four harm categories
    /// (harassment, hate speech, sexually explicit, dangerous content).
    /// AI Proxy's channel `safety` option; AI Proxy sends `BLOCK_NONE`
    /// when the option is empty, so the gateway should pass that for
    /// drop-in behaviour. Default `None`: no `safetySettings`.
    pub safety_threshold: Option<String>,
    /// When the client configured no reasoning, still ask thinking models
    /// (Gemini 2.5 except Flash-Lite, Gemini 3 and later; not image or TTS
    /// models) for thought summaries (`includeThoughts: true`), so clients
    /// see the reasoning as AI Proxy shows it. Default `true`.
    pub auto_include_thoughts: bool,
    /// Send `http(s)://` media URLs as `fileData` (Vertex AI, or a Gemini
    /// API that fetches public URLs). When `false` (the default) such a URL
    /// should have been fetched and inlined by the gateway before encoding;
    /// one that was not becomes a text part naming it. `gs://` and Files
    /// API URIs are always sent as `fileData`.
    pub http_urls_as_file_data: bool,
}

impl Default for GeminiRequestOptions {
    fn default() -> Self {
        Self {
            safety_threshold: None,
            auto_include_thoughts: true,
            http_urls_as_file_data: false,
        }
    }
}
