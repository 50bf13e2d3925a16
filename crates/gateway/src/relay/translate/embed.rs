//! Embeddings between OpenAI's shape (`/v1/embeddings`) and Gemini's
//! (`embedContent`, `batchEmbedContents`). Only text inputs are converted;
//! Gemini returns no usage, so the relay estimates it.

use base64::Engine;
use bytes::Bytes;
use serde_json::{Value, json};
use switchyard_protocol::convert::ConvertError;
use switchyard_protocol::gemini::{
    BatchEmbedContentsRequest, BatchEmbedContentsResponse, ContentEmbedding, EmbedContentRequest,
    EmbedContentResponse,
};

use super::TranslateError;
use super::response::{Answer, AnswerContext};
use crate::relay::protocol::Protocol;

fn bad(e: impl std::fmt::Display) -> TranslateError {
    TranslateError::Request(ConvertError::Invalid(e.to_string()))
}

fn bad_answer(e: impl std::fmt::Display) -> TranslateError {
    TranslateError::Response(ConvertError::Invalid(e.to_string()))
}

/// The model name as Gemini writes it in a body.
fn gemini_model(model: &str) -> String {
    if model.starts_with("models/") {
        model.to_owned()
    } else {
        format!("models/{model}")
    }
}

/// The texts of one Gemini content (its text parts, joined).
fn content_text(request: &EmbedContentRequest) -> String {
    request
        .content
        .parts
        .iter()
        .filter_map(|p| p.text.as_deref())
        .collect::<Vec<_>>()
        .join("\n")
}

/// A Gemini embedding request (one or a batch) as Gemini batch requests.
fn gemini_requests(
    client: Protocol,
    body: &[u8],
) -> Result<Vec<EmbedContentRequest>, TranslateError> {
    match client {
        Protocol::GeminiEmbed => Ok(vec![
            serde_json::from_slice::<EmbedContentRequest>(body).map_err(bad)?,
        ]),
        _ => Ok(serde_json::from_slice::<BatchEmbedContentsRequest>(body)
            .map_err(bad)?
            .requests),
    }
}

/// A `batchEmbedContents` body whose every request names `model`.
pub fn batch_with_model(body: &[u8], model: &str) -> Result<Bytes, TranslateError> {
    let mut batch = serde_json::from_slice::<BatchEmbedContentsRequest>(body).map_err(bad)?;
    for request in &mut batch.requests {
        request.model = Some(gemini_model(model));
    }
    serde_json::to_vec(&batch).map(Bytes::from).map_err(bad)
}

/// The client's embedding request for an upstream of another shape.
pub fn request_body(
    client: Protocol,
    upstream: Protocol,
    body: &[u8],
    model: &str,
) -> Result<Bytes, TranslateError> {
    let out = match (client, upstream) {
        (Protocol::Embeddings, Protocol::GeminiBatchEmbed) => openai_to_batch(body, model)?,
        (Protocol::GeminiEmbed, Protocol::GeminiBatchEmbed) => {
            let mut requests = gemini_requests(client, body)?;
            for r in &mut requests {
                r.model = Some(gemini_model(model));
            }
            serde_json::to_value(BatchEmbedContentsRequest {
                requests,
                ..BatchEmbedContentsRequest::default()
            })
            .map_err(bad)?
        }
        (Protocol::GeminiEmbed | Protocol::GeminiBatchEmbed, Protocol::Embeddings) => {
            let requests = gemini_requests(client, body)?;
            let inputs: Vec<String> = requests.iter().map(content_text).collect();
            let mut v = json!({"model": model, "input": inputs, "encoding_format": "float"});
            if let Some(d) = requests.first().and_then(|r| r.output_dimensionality) {
                v["dimensions"] = json!(d);
            }
            v
        }
        (client, upstream) => return Err(TranslateError::Unsupported { client, upstream }),
    };
    serde_json::to_vec(&out).map(Bytes::from).map_err(bad)
}

fn openai_to_batch(body: &[u8], model: &str) -> Result<Value, TranslateError> {
    let v: Value = serde_json::from_slice(body).map_err(bad)?;
    let inputs: Vec<String> = match v.get("input") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| bad("only text inputs can be sent to Gemini"))
            })
            .collect::<Result<_, _>>()?,
        _ => return Err(bad("`input` must be a string or an array of strings")),
    };
    let dimensions = v.get("dimensions").and_then(Value::as_u64);
    let requests: Vec<Value> = inputs
        .into_iter()
        .map(|text| {
            let mut r =
                json!({"model": gemini_model(model), "content": {"parts": [{"text": text}]}});
            if let Some(d) = dimensions {
                r["outputDimensionality"] = json!(d);
            }
            r
        })
        .collect();
    Ok(json!({ "requests": requests }))
}

/// An embedding answer converted for the client's shape.
pub fn convert_answer(
    client: Protocol,
    upstream: Protocol,
    body: &[u8],
    ctx: &AnswerContext<'_>,
) -> Result<Answer, TranslateError> {
    let vectors: Vec<Vec<f64>> = match upstream {
        Protocol::GeminiBatchEmbed => serde_json::from_slice::<BatchEmbedContentsResponse>(body)
            .map_err(bad_answer)?
            .embeddings
            .into_iter()
            .map(|e| e.values)
            .collect(),
        Protocol::GeminiEmbed => vec![
            serde_json::from_slice::<EmbedContentResponse>(body)
                .map_err(bad_answer)?
                .embedding
                .values,
        ],
        _ => openai_vectors(body)?,
    };
    let out = match client {
        Protocol::Embeddings => openai_answer(&vectors, ctx.requested_model, ctx.embedding_base64),
        Protocol::GeminiEmbed => {
            let values = vectors.into_iter().next().unwrap_or_default();
            serde_json::to_value(EmbedContentResponse {
                embedding: ContentEmbedding {
                    values,
                    ..ContentEmbedding::default()
                },
                ..EmbedContentResponse::default()
            })
            .map_err(bad_answer)?
        }
        _ => {
            let embeddings = vectors
                .into_iter()
                .map(|values| ContentEmbedding {
                    values,
                    ..ContentEmbedding::default()
                })
                .collect();
            serde_json::to_value(BatchEmbedContentsResponse {
                embeddings,
                ..BatchEmbedContentsResponse::default()
            })
            .map_err(bad_answer)?
        }
    };
    let usage = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("usage").cloned())
        .and_then(|u| serde_json::from_value::<switchyard_protocol::openai::OpenAiUsage>(u).ok())
        .map(|u| u.to_usage());
    Ok(Answer {
        body: Bytes::from(serde_json::to_vec(&out).map_err(bad_answer)?),
        usage,
        upstream_id: String::new(),
    })
}

fn openai_vectors(body: &[u8]) -> Result<Vec<Vec<f64>>, TranslateError> {
    let v: Value = serde_json::from_slice(body).map_err(bad_answer)?;
    let data = v
        .get("data")
        .and_then(Value::as_array)
        .ok_or_else(|| bad_answer("no `data` in the embeddings answer"))?;
    data.iter()
        .map(|item| match item.get("embedding") {
            Some(Value::Array(values)) => Ok(values.iter().filter_map(Value::as_f64).collect()),
            Some(Value::String(b64)) => decode_base64_floats(b64),
            _ => Err(bad_answer("an embedding is missing")),
        })
        .collect()
}

fn decode_base64_floats(text: &str) -> Result<Vec<f64>, TranslateError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(bad_answer)?;
    Ok(bytes
        .chunks_exact(4)
        .map(|c| f64::from(f32::from_le_bytes([c[0], c[1], c[2], c[3]])))
        .collect())
}

/// An OpenAI embeddings answer; `base64` packs each vector as
/// little-endian `f32`s, as OpenAI does for `encoding_format: base64`.
pub fn openai_answer(vectors: &[Vec<f64>], model: &str, base64: bool) -> Value {
    let data: Vec<Value> = vectors
        .iter()
        .enumerate()
        .map(|(index, values)| {
            let embedding = if base64 {
                #[allow(clippy::cast_possible_truncation)]
                let bytes: Vec<u8> = values
                    .iter()
                    .flat_map(|v| (*v as f32).to_le_bytes())
                    .collect();
                Value::String(base64::engine::general_purpose::STANDARD.encode(bytes))
            } else {
                json!(values)
            };
            json!({"object": "embedding", "index": index, "embedding": embedding})
        })
        .collect();
    json!({"object": "list", "data": data, "model": model, "usage": {"prompt_tokens": 0, "total_tokens": 0}})
}

#[cfg(test)]
mod tests {
    use super::*;

    const CTX: AnswerContext<'static> = AnswerContext {
        requested_model: "asked",
        created: 0,
        embedding_base64: false,
    };

    #[test]
    fn openai_request_to_gemini_batch() {
        let out = request_body(
            Protocol::Embeddings,
            Protocol::GeminiBatchEmbed,
            br#"{"model":"m","input":["a","b"],"dimensions":8}"#,
            "text-embedding-004",
        )
        .unwrap();
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["requests"][1]["model"], "models/text-embedding-004");
        assert_eq!(v["requests"][1]["content"]["parts"][0]["text"], "b");
        assert_eq!(v["requests"][0]["outputDimensionality"], 8);
    }

    #[test]
    fn gemini_request_to_openai_and_answer_back() {
        let out = request_body(
            Protocol::GeminiEmbed,
            Protocol::Embeddings,
            br#"{"content":{"parts":[{"text":"hello"}]},"outputDimensionality":4}"#,
            "emb",
        )
        .unwrap();
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            v,
            json!({"model": "emb", "input": ["hello"], "encoding_format": "float", "dimensions": 4})
        );
        let answer = br#"{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.5,-1.0]}],"model":"emb","usage":{"prompt_tokens":2,"total_tokens":2}}"#;
        let a = convert_answer(Protocol::GeminiEmbed, Protocol::Embeddings, answer, &CTX).unwrap();
        let v: Value = serde_json::from_slice(&a.body).unwrap();
        assert_eq!(v["embedding"]["values"], json!([0.5, -1.0]));
        assert_eq!(a.usage.unwrap().input_tokens, 2);
    }

    #[test]
    fn gemini_batch_answer_for_openai_clients() {
        let answer = br#"{"embeddings":[{"values":[1.0]},{"values":[2.0,3.0]}]}"#;
        let a = convert_answer(
            Protocol::Embeddings,
            Protocol::GeminiBatchEmbed,
            answer,
            &CTX,
        )
        .unwrap();
        let v: Value = serde_json::from_slice(&a.body).unwrap();
        assert_eq!(v["data"][1]["embedding"], json!([2.0, 3.0]));
        assert_eq!(v["data"][1]["index"], 1);
        assert_eq!(v["model"], "asked");
        let packed = openai_answer(&[vec![0.5, 2.0]], "m", true);
        let decoded =
            decode_base64_floats(packed["data"][0]["embedding"].as_str().unwrap()).unwrap();
        assert_eq!(decoded, vec![0.5, 2.0]);
    }
}
