//! The records the relay produces for the log sink: one [`LogRecord`] per
//! client request (with optional bodies) and one [`RetryRecord`] per failed
//! attempt that was retried.

use serde::Serialize;
use switchyard_protocol::Usage;

use crate::billing::Charge;
use crate::model::is_zero;

/// One row of the `logs` table, also its JSON shape in the admin API.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct LogRecord {
    /// Row id (0 until stored).
    pub id: i64,
    /// Unique request id (UUIDv7, hex).
    pub request_id: String,
    /// Arrival time (ms).
    pub request_at: i64,
    /// Start of the last retry (ms), omitted when none.
    #[serde(skip_serializing_if = "is_zero")]
    pub retry_at: i64,
    /// Completion time (ms).
    pub created_at: i64,
    /// Arrival to first byte sent to the client.
    pub ttfb_milliseconds: i64,
    /// Group.
    #[serde(rename = "group")]
    pub group_id: String,
    /// Token id (0 for internal keys).
    pub token_id: i64,
    /// Token name.
    pub token_name: String,
    /// Model the client asked for.
    pub model: String,
    /// Model sent upstream (after mapping).
    pub actual_model: String,
    /// Final channel (0: none reached).
    #[serde(rename = "channel")]
    pub channel_id: i64,
    /// Relay mode id.
    pub mode: i64,
    /// Request path.
    pub endpoint: String,
    /// Status returned to the client (499: client went away).
    pub code: i64,
    /// Error text, empty on success.
    pub content: String,
    /// Client IP.
    pub ip: String,
    /// Retries made.
    pub retry_times: i64,
    /// End-user id from the request (`user`).
    pub user: String,
    /// Request `metadata` object, if any.
    #[serde(skip_serializing_if = "serde_json::Value::is_null")]
    pub metadata: serde_json::Value,
    /// Upstream response id.
    pub upstream_id: String,
    /// Streamed response.
    pub stream: bool,
    /// Token usage.
    pub usage: Usage,
    /// Usage was counted by the gateway, not reported by the upstream.
    pub usage_estimated: bool,
    /// Amount charged (the total of `amount`).
    pub used_amount: f64,
    /// The price applied and the amount by component (`price` and
    /// `amount` in JSON; absent when the model is free).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub charge: Option<Charge>,
}

/// Captured bodies for a log row.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct LogDetail {
    /// Request body (possibly truncated).
    pub request_body: String,
    /// Response body or error (possibly truncated).
    pub response_body: String,
    /// The request body was cut.
    pub request_body_truncated: bool,
    /// The response body was cut.
    pub response_body_truncated: bool,
}

/// One failed attempt that was followed by a retry.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct RetryRecord {
    /// Row id (0 until stored).
    pub id: i64,
    /// The client request it belongs to.
    pub request_id: String,
    /// Client request arrival (ms).
    pub request_at: i64,
    /// Start of this attempt (ms).
    pub retry_at: i64,
    /// End of this attempt (ms).
    pub created_at: i64,
    /// Attempt start to upstream first byte.
    pub ttfb_milliseconds: i64,
    /// Group.
    #[serde(rename = "group")]
    pub group_id: String,
    /// Token name.
    pub token_name: String,
    /// Requested model.
    pub model: String,
    /// Upstream model.
    pub actual_model: String,
    /// Channel tried.
    #[serde(rename = "channel")]
    pub channel_id: i64,
    /// Relay mode id.
    pub mode: i64,
    /// Upstream status (0: transport error).
    pub code: i64,
    /// Attempt number (0 = first).
    pub attempt: i64,
    /// Error text.
    pub content: String,
    /// Bodies, when captured.
    #[serde(flatten)]
    pub detail: LogDetail,
}

/// What the sink carries.
#[derive(Debug, Clone)]
pub enum LogEntry {
    /// A finished client request.
    Request {
        /// The row.
        record: Box<LogRecord>,
        /// Bodies to store with it.
        detail: Option<Box<LogDetail>>,
    },
    /// A failed attempt.
    Retry(Box<RetryRecord>),
    /// A finished request that updates usage counters but is not stored
    /// (request logging is disabled with `LogStorageHours` < 0).
    CountOnly(Box<LogRecord>),
}

/// Cut `text` to at most `max` bytes on a character boundary; `max == 0`
/// keeps everything, `max < 0` keeps nothing. Returns the text and whether it was cut.
pub fn cap_text(text: &[u8], max: i64) -> (String, bool) {
    if max < 0 {
        return (String::new(), !text.is_empty());
    }
    let text = String::from_utf8_lossy(text);
    let Ok(limit) = usize::try_from(max) else {
        return (text.into_owned(), false);
    };
    if limit == 0 || text.len() <= limit {
        return (text.into_owned(), false);
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    (format!("{}...", &text[..end]), true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_on_char_boundary() {
        assert_eq!(cap_text(b"hello", 0), ("hello".into(), false));
        assert_eq!(cap_text(b"hello", 3), ("hel...".into(), true));
        assert_eq!(cap_text(b"hello", -1), (String::new(), true));
        let (s, cut) = cap_text("héllo".as_bytes(), 2);
        assert!(cut);
        assert_eq!(s, "h...");
    }
}
