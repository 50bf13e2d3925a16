//! The generic JSON webhook: the alert as one flat object
//! `{level, key, title, message, note, timestamp}` for any receiver
//! (Slack relays, PagerDuty bridges, scripts).

use serde_json::{Value, json};

use super::Alert;

/// The body posted to `NOTIFY_WEBHOOK`.
pub fn body(alert: &Alert) -> Value {
    json!({
        "level": alert.level,
        "key": alert.key,
        "title": alert.title,
        "message": alert.message,
        "note": alert.note,
        "timestamp": alert.timestamp,
    })
}
