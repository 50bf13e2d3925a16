//! The side endpoints a Gemini client calls besides generation:
//! `countTokens`, `embedContent` and `batchEmbedContents`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::content::Content;
use super::request::GenerateContentRequest;
use super::response::ModalityTokenCount;

/// `POST …:countTokens`: either bare `contents` or a whole
/// `generateContentRequest` (which also counts the system instruction and
/// tools).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CountTokensRequest {
    /// The contents to count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contents: Option<Vec<Content>>,
    /// A full request to count.
    #[serde(
        default,
        alias = "generate_content_request",
        skip_serializing_if = "Option::is_none"
    )]
    pub generate_content_request: Option<GenerateContentRequest>,
    /// Members this type does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The `countTokens` answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CountTokensResponse {
    /// Prompt tokens.
    #[serde(default)]
    pub total_tokens: i64,
    /// Tokens in the cached content, if one was named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_content_token_count: Option<i64>,
    /// Tokens per modality.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_tokens_details: Option<Vec<ModalityTokenCount>>,
    /// Members this type does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `POST …:embedContent`, and one entry of `batchEmbedContents`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmbedContentRequest {
    /// `models/{model}`; required inside a batch, optional otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The text (parts) to embed.
    #[serde(default)]
    pub content: Content,
    /// `RETRIEVAL_QUERY`, `RETRIEVAL_DOCUMENT`, `SEMANTIC_SIMILARITY`, ….
    #[serde(default, alias = "task_type", skip_serializing_if = "Option::is_none")]
    pub task_type: Option<String>,
    /// Document title (with `RETRIEVAL_DOCUMENT`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Truncate the embedding to this many dimensions.
    #[serde(
        default,
        alias = "output_dimensionality",
        skip_serializing_if = "Option::is_none"
    )]
    pub output_dimensionality: Option<u32>,
    /// Members this type does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One embedding vector.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ContentEmbedding {
    /// The vector.
    #[serde(default)]
    pub values: Vec<f64>,
    /// Members this type does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The `embedContent` answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EmbedContentResponse {
    /// The embedding.
    #[serde(default)]
    pub embedding: ContentEmbedding,
    /// Members this type does not model (`usageMetadata` on Vertex, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `POST …:batchEmbedContents`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BatchEmbedContentsRequest {
    /// One request per input.
    #[serde(default)]
    pub requests: Vec<EmbedContentRequest>,
    /// Members this type does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The `batchEmbedContents` answer, one embedding per request, in order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BatchEmbedContentsResponse {
    /// The embeddings.
    #[serde(default)]
    pub embeddings: Vec<ContentEmbedding>,
    /// Members this type does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embed_shapes() {
        let req: BatchEmbedContentsRequest = serde_json::from_str(
            r#"{"requests":[{"model":"models/text-embedding-004","content":{"parts":[{"text":"a"}]},
                "taskType":"RETRIEVAL_QUERY","outputDimensionality":8}]}"#,
        )
        .unwrap();
        assert_eq!(req.requests[0].output_dimensionality, Some(8));
        let resp: BatchEmbedContentsResponse =
            serde_json::from_str(r#"{"embeddings":[{"values":[0.25,-1.0]}]}"#).unwrap();
        assert_eq!(resp.embeddings[0].values, vec![0.25, -1.0]);
        let count: CountTokensRequest = serde_json::from_str(
            r#"{"generateContentRequest":{"model":"models/gemini-2.5-flash","contents":[]}}"#,
        )
        .unwrap();
        assert!(count.generate_content_request.is_some());
        let resp: CountTokensResponse = serde_json::from_str(r#"{"totalTokens":31}"#).unwrap();
        assert_eq!(resp.total_tokens, 31);
    }
}
