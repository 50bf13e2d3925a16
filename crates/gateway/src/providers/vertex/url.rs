//! Vertex publisher endpoints:
//! `https://{region}-aiplatform.googleapis.com/v1/projects/{project}/locations/{region}/publishers/{publisher}/models/{model}:{action}`
//! (host `aiplatform.googleapis.com` for `global`; without the project part
//! for express-mode API keys).

use super::VertexKey;

/// Which publisher serves a model, and so which protocol it speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Publisher {
    /// Gemini models: `generateContent` / `streamGenerateContent?alt=sse`.
    Google,
    /// Claude models: Anthropic Messages through `rawPredict` / `streamRawPredict`.
    Anthropic,
}

impl Publisher {
    /// `claude*` models (any name containing `claude`) belong to Anthropic,
    /// every other model to Google.
    pub fn for_model(model: &str) -> Self {
        if model.to_ascii_lowercase().contains("claude") {
            Self::Anthropic
        } else {
            Self::Google
        }
    }

    /// The publisher's path segment.
    pub fn name(self) -> &'static str {
        match self {
            Self::Google => "google",
            Self::Anthropic => "anthropic",
        }
    }

    fn action(self, stream: bool) -> &'static str {
        match (self, stream) {
            (Self::Google, false) => "generateContent",
            (Self::Google, true) => "streamGenerateContent?alt=sse",
            (Self::Anthropic, false) => "rawPredict",
            (Self::Anthropic, true) => "streamRawPredict",
        }
    }
}

/// The default scheme and host for a region.
pub fn host(region: &str) -> String {
    if region.is_empty() || region == "global" {
        "https://aiplatform.googleapis.com".to_owned()
    } else {
        format!("https://{region}-aiplatform.googleapis.com")
    }
}

/// The endpoint of `model` at `publisher`. A non-empty `base_url` replaces
/// the scheme and host (tests point it at a local fake server); the model is
/// percent-encoded as one path segment (`@` kept, as in `claude-sonnet-4@20250514`).
pub fn endpoint_url(
    base_url: &str,
    key: &VertexKey,
    publisher: Publisher,
    model: &str,
    stream: bool,
) -> String {
    let base = base_url.trim().trim_end_matches('/');
    let host = if base.is_empty() {
        host(&key.region)
    } else {
        base.to_owned()
    };
    let model = urlencoding::encode(model.trim_start_matches("models/")).replace("%40", "@");
    let scope = match &key.project_id {
        Some(project) => format!(
            "/projects/{}/locations/{}",
            urlencoding::encode(project),
            key.region
        ),
        None => String::new(),
    };
    format!(
        "{host}/v1{scope}/publishers/{}/models/{model}:{}",
        publisher.name(),
        publisher.action(stream)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::vertex::VertexAuth;

    fn key(region: &str, project: Option<&str>) -> VertexKey {
        VertexKey {
            region: region.into(),
            project_id: project.map(str::to_owned),
            auth: VertexAuth::ApiKey("k".into()),
        }
    }

    #[test]
    fn publishers() {
        assert_eq!(
            Publisher::for_model("claude-sonnet-4@20250514"),
            Publisher::Anthropic
        );
        assert_eq!(
            Publisher::for_model("Claude-3-5-Haiku"),
            Publisher::Anthropic
        );
        assert_eq!(Publisher::for_model("gemini-2.5-pro"), Publisher::Google);
        assert_eq!(Publisher::for_model("text-bison"), Publisher::Google);
    }

    #[test]
    fn regional_and_global_hosts() {
        let k = key("us-east5", Some("proj-1"));
        assert_eq!(
            endpoint_url(
                "",
                &k,
                Publisher::Anthropic,
                "claude-sonnet-4@20250514",
                false
            ),
            "https://us-east5-aiplatform.googleapis.com/v1/projects/proj-1/locations/us-east5/publishers/anthropic/models/claude-sonnet-4@20250514:rawPredict"
        );
        assert_eq!(
            endpoint_url("", &k, Publisher::Anthropic, "claude-opus-4", true),
            "https://us-east5-aiplatform.googleapis.com/v1/projects/proj-1/locations/us-east5/publishers/anthropic/models/claude-opus-4:streamRawPredict"
        );
        let g = key("global", Some("proj-1"));
        assert_eq!(
            endpoint_url("", &g, Publisher::Google, "gemini-2.5-flash", true),
            "https://aiplatform.googleapis.com/v1/projects/proj-1/locations/global/publishers/google/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
        );
        assert_eq!(
            endpoint_url("", &g, Publisher::Google, "models/gemini-2.5-flash", false),
            "https://aiplatform.googleapis.com/v1/projects/proj-1/locations/global/publishers/google/models/gemini-2.5-flash:generateContent"
        );
    }

    #[test]
    fn express_mode_and_base_url_override() {
        let k = key("global", None);
        assert_eq!(
            endpoint_url("", &k, Publisher::Google, "gemini-2.5-pro", false),
            "https://aiplatform.googleapis.com/v1/publishers/google/models/gemini-2.5-pro:generateContent"
        );
        let k = key("europe-west1", Some("p"));
        assert_eq!(
            endpoint_url(
                "http://127.0.0.1:9/",
                &k,
                Publisher::Google,
                "gemini-2.5-pro",
                false
            ),
            "http://127.0.0.1:9/v1/projects/p/locations/europe-west1/publishers/google/models/gemini-2.5-pro:generateContent"
        );
        assert!(
            endpoint_url("", &k, Publisher::Google, "a/b?c", false)
                .contains("/models/a%2Fb%3Fc:generateContent")
        );
    }
}
