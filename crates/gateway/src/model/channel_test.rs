//! The result of testing one model on one channel, as the channel-test
//! endpoints answer it and as `channel_tests` stores it (last result per
//! channel × model).

use serde::{Deserialize, Serialize};

/// One channel × model test.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ChannelTestResult {
    /// Channel id (0 for an unsaved channel).
    pub channel_id: i64,
    /// Channel name.
    pub channel_name: String,
    /// Channel type id.
    pub channel_type: i64,
    /// Model as the channel lists it.
    pub model: String,
    /// Model name sent upstream (after the channel's mapping).
    pub actual_model: String,
    /// Relay mode id of the test request (1 chat, 3 embeddings, …).
    pub mode: i64,
    /// When the test ran (ms).
    pub test_at: i64,
    /// Seconds the test took (AI Proxy's field).
    pub took: f64,
    /// Milliseconds the test took.
    pub duration_ms: i64,
    /// The upstream answered successfully.
    pub success: bool,
    /// Upstream status (0 for transport errors and timeouts).
    pub code: i64,
    /// The answer body on success (see `success_body`), the error otherwise.
    pub response: String,
    /// Why it failed; absent on success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}
