//! The Feishu/Lark custom-bot message: an interactive card whose header is
//! coloured by level (info green, warn orange, error red), with the message
//! as Markdown and the `NotifyNote` option appended.

use serde_json::{Value, json};

use super::{Alert, Level};

/// Header colour of a level.
pub fn template(level: Level) -> &'static str {
    match level {
        Level::Info => "green",
        Level::Warn => "orange",
        Level::Error => "red",
    }
}

/// The card body posted to the bot webhook.
pub fn card(alert: &Alert) -> Value {
    let mut content = alert.message.clone();
    if !alert.note.trim().is_empty() {
        content.push_str("\n\n");
        content.push_str(alert.note.trim());
    }
    json!({
        "msg_type": "interactive",
        "card": {
            "config": {"wide_screen_mode": true},
            "header": {
                "template": template(alert.level),
                "title": {"tag": "plain_text", "content": alert.title},
            },
            "elements": [{"tag": "markdown", "content": content}],
        },
    })
}

/// Feishu answers HTTP 200 with `{"code": n}`; a non-zero code is a failure.
pub async fn check_answer(response: reqwest::Response) {
    let Ok(bytes) = response.bytes().await else {
        return;
    };
    let Ok(body) = serde_json::from_slice::<Value>(&bytes) else {
        return;
    };
    if let Some(code) = body.get("code").and_then(Value::as_i64)
        && code != 0
    {
        let msg = body.get("msg").map(Value::to_string).unwrap_or_default();
        tracing::warn!(code, msg, "feishu rejected the alert");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(level: Level, note: &str) -> Alert {
        Alert {
            level,
            key: "k".into(),
            title: "Title".into(),
            message: "body".into(),
            note: note.into(),
            timestamp: 1,
            window: std::time::Duration::ZERO,
        }
    }

    #[test]
    fn colour_by_level_and_note_appended() {
        let c = card(&alert(Level::Warn, "on-call: ops"));
        assert_eq!(c["msg_type"], "interactive");
        assert_eq!(c["card"]["header"]["template"], "orange");
        assert_eq!(c["card"]["header"]["title"]["content"], "Title");
        assert_eq!(c["card"]["elements"][0]["content"], "body\n\non-call: ops");
        let c = card(&alert(Level::Info, ""));
        assert_eq!(c["card"]["header"]["template"], "green");
        assert_eq!(c["card"]["elements"][0]["content"], "body");
        assert_eq!(template(Level::Error), "red");
    }
}
