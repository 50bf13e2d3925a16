//! `GET /v1/models` response shapes.

use serde::Serialize;

/// `{"object":"list","data":[…]}`.
#[derive(Debug, Clone, Serialize)]
pub struct ModelList {
    /// Always `list`.
    pub object: &'static str,
    /// The models.
    pub data: Vec<ModelEntry>,
}

/// One model entry.
#[derive(Debug, Clone, Serialize)]
pub struct ModelEntry {
    /// Model name.
    pub id: String,
    /// Always `model`.
    pub object: &'static str,
    /// Creation time (seconds); AI Proxy reports a fixed value.
    pub created: i64,
    /// Owner, e.g. `openai`.
    pub owned_by: String,
}

/// The fixed `created` value AI Proxy reports for every model.
pub const MODEL_CREATED: i64 = 1_626_777_600;

impl ModelEntry {
    /// A model entry with the conventional fixed creation time.
    pub fn new(id: impl Into<String>, owned_by: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            object: "model",
            created: MODEL_CREATED,
            owned_by: owned_by.into(),
        }
    }
}

impl ModelList {
    /// Wrap entries into a list document.
    pub fn new(data: Vec<ModelEntry>) -> Self {
        Self {
            object: "list",
            data,
        }
    }
}
