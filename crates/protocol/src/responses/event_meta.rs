//! Names and sequence numbers of [`ResponsesStreamEvent`]s.

use super::stream::ResponsesStreamEvent;

/// Applies `$body` to the `sequence_number` of any known event.
macro_rules! with_sequence {
    ($event:expr, $n:ident => $body:expr, $unknown:expr) => {
        match $event {
            Self::Created {
                sequence_number: $n,
                ..
            }
            | Self::Queued {
                sequence_number: $n,
                ..
            }
            | Self::InProgress {
                sequence_number: $n,
                ..
            }
            | Self::Completed {
                sequence_number: $n,
                ..
            }
            | Self::Incomplete {
                sequence_number: $n,
                ..
            }
            | Self::Failed {
                sequence_number: $n,
                ..
            }
            | Self::OutputItemAdded {
                sequence_number: $n,
                ..
            }
            | Self::OutputItemDone {
                sequence_number: $n,
                ..
            }
            | Self::ContentPartAdded {
                sequence_number: $n,
                ..
            }
            | Self::ContentPartDone {
                sequence_number: $n,
                ..
            }
            | Self::OutputTextDelta {
                sequence_number: $n,
                ..
            }
            | Self::OutputTextDone {
                sequence_number: $n,
                ..
            }
            | Self::RefusalDelta {
                sequence_number: $n,
                ..
            }
            | Self::RefusalDone {
                sequence_number: $n,
                ..
            }
            | Self::FunctionCallArgumentsDelta {
                sequence_number: $n,
                ..
            }
            | Self::FunctionCallArgumentsDone {
                sequence_number: $n,
                ..
            }
            | Self::ReasoningSummaryPartAdded {
                sequence_number: $n,
                ..
            }
            | Self::ReasoningSummaryPartDone {
                sequence_number: $n,
                ..
            }
            | Self::ReasoningSummaryTextDelta {
                sequence_number: $n,
                ..
            }
            | Self::ReasoningSummaryTextDone {
                sequence_number: $n,
                ..
            }
            | Self::ReasoningTextDelta {
                sequence_number: $n,
                ..
            }
            | Self::ReasoningTextDone {
                sequence_number: $n,
                ..
            }
            | Self::Error {
                sequence_number: $n,
                ..
            } => $body,
            Self::Unknown => $unknown,
        }
    };
}

impl ResponsesStreamEvent {
    /// The event's `sequence_number` (0 for [`Self::Unknown`]).
    pub fn sequence_number(&self) -> u64 {
        with_sequence!(self, n => *n, 0)
    }

    /// Sets the event's `sequence_number` (no-op for [`Self::Unknown`]).
    pub fn set_sequence_number(&mut self, value: u64) {
        with_sequence!(self, n => *n = value, ())
    }

    /// The SSE event name (the JSON `type`).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Created { .. } => "response.created",
            Self::Queued { .. } => "response.queued",
            Self::InProgress { .. } => "response.in_progress",
            Self::Completed { .. } => "response.completed",
            Self::Incomplete { .. } => "response.incomplete",
            Self::Failed { .. } => "response.failed",
            Self::OutputItemAdded { .. } => "response.output_item.added",
            Self::OutputItemDone { .. } => "response.output_item.done",
            Self::ContentPartAdded { .. } => "response.content_part.added",
            Self::ContentPartDone { .. } => "response.content_part.done",
            Self::OutputTextDelta { .. } => "response.output_text.delta",
            Self::OutputTextDone { .. } => "response.output_text.done",
            Self::RefusalDelta { .. } => "response.refusal.delta",
            Self::RefusalDone { .. } => "response.refusal.done",
            Self::FunctionCallArgumentsDelta { .. } => "response.function_call_arguments.delta",
            Self::FunctionCallArgumentsDone { .. } => "response.function_call_arguments.done",
            Self::ReasoningSummaryPartAdded { .. } => "response.reasoning_summary_part.added",
            Self::ReasoningSummaryPartDone { .. } => "response.reasoning_summary_part.done",
            Self::ReasoningSummaryTextDelta { .. } => "response.reasoning_summary_text.delta",
            Self::ReasoningSummaryTextDone { .. } => "response.reasoning_summary_text.done",
            Self::ReasoningTextDelta { .. } => "response.reasoning_text.delta",
            Self::ReasoningTextDone { .. } => "response.reasoning_text.done",
            Self::Error { .. } => "error",
            Self::Unknown => "unknown",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_decode() {
        let e: ResponsesStreamEvent = serde_json::from_str(
            r#"{"type":"response.output_text.delta","item_id":"msg_1","output_index":0,
                "content_index":0,"delta":"Hi","logprobs":[],"sequence_number":4,"obfuscation":"x"}"#,
        )
        .unwrap();
        assert_eq!(e.name(), "response.output_text.delta");
        assert!(
            matches!(e, ResponsesStreamEvent::OutputTextDelta { ref delta, sequence_number: 4, .. } if delta == "Hi")
        );
        let u: ResponsesStreamEvent =
            serde_json::from_str(r#"{"type":"response.web_search_call.searching","item_id":"ws"}"#)
                .unwrap();
        assert_eq!(u, ResponsesStreamEvent::Unknown);
        let err: ResponsesStreamEvent = serde_json::from_str(
            r#"{"type":"error","code":"rate_limit_exceeded","message":"slow down","param":null,"sequence_number":2}"#,
        )
        .unwrap();
        assert!(
            matches!(err, ResponsesStreamEvent::Error { ref message, .. } if message == "slow down")
        );
    }
}
