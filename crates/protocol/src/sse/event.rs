//! The items an SSE stream decodes into: events and comments.

use bytes::Bytes;

/// One dispatched event: the fields collected since the previous blank line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field, if the event named its type (`None` means the
    /// default type, "message"; an empty `event:` also reads as `None`).
    pub event: Option<Bytes>,
    /// The `data:` lines, joined with `\n`.
    pub data: Bytes,
    /// The `id:` field given in this event's own lines, if any. Unlike a
    /// browser's `lastEventId`, it is not carried over to later events.
    pub id: Option<Bytes>,
}

impl SseEvent {
    /// An event with just `data`, of the default type.
    pub fn from_data(data: impl Into<Bytes>) -> Self {
        Self {
            event: None,
            data: data.into(),
            id: None,
        }
    }

    /// Whether this is OpenAI's end-of-stream marker, `data: [DONE]`.
    pub fn is_done(&self) -> bool {
        is_done_data(&self.data)
    }

    /// The event type as text, if set and valid UTF-8.
    pub fn event_name(&self) -> Option<&str> {
        self.event
            .as_deref()
            .and_then(|name| std::str::from_utf8(name).ok())
    }

    /// The data as text, if valid UTF-8.
    pub fn data_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.data).ok()
    }
}

/// Whether an event's `data` is OpenAI's end-of-stream marker, `[DONE]`
/// (surrounding whitespace allowed).
pub fn is_done_data(data: &[u8]) -> bool {
    data.trim_ascii() == b"[DONE]"
}

/// What the decoder yields: an event, or a comment line (`: text`).
///
/// Comments are surfaced because upstreams use them as keep-alives
/// (`: ping`), which the relay may pass on to keep client connections open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SseItem {
    /// A dispatched event.
    Event(SseEvent),
    /// A comment line's text, after the colon and one optional space.
    Comment(Bytes),
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn done_marker() {
        assert!(SseEvent::from_data("[DONE]").is_done());
        assert!(SseEvent::from_data(" [DONE] ").is_done());
        assert!(!SseEvent::from_data("[DONE]x").is_done());
        assert!(!SseEvent::from_data("{}").is_done());
    }

    #[test]
    fn names_and_text() {
        let event = SseEvent {
            event: Some(Bytes::from_static(b"ping")),
            data: Bytes::from_static(b"\xff"),
            id: None,
        };
        assert_eq!(event.event_name(), Some("ping"));
        assert_eq!(event.data_str(), None);
        assert_eq!(SseEvent::from_data("x").event_name(), None);
    }
}
