//! What the gateway needs to know about a same-protocol answer it forwards
//! byte for byte: usage, the upstream id, whether an event carries output
//! (so a failure before it can still be retried elsewhere), whether it is an
//! error or the end of the stream. Each dialect module provides functions
//! that fill these in from one event or one response body; they never
//! modify what is forwarded.

use crate::Usage;

/// Facts about one upstream stream event.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventFacts {
    /// Usage carried by the event. Dialects that report cumulative totals
    /// (every Gemini chunk, Anthropic's `message_start` + `message_delta`)
    /// are merged by [`UsageTracker`].
    pub usage: Option<UsageReport>,
    /// Upstream response id, when the event names it.
    pub upstream_id: Option<String>,
    /// The event carries output a client would see: text, reasoning, a tool
    /// call, or a finish reason.
    pub has_output: bool,
    /// The event is an error, with its message.
    pub error: Option<String>,
    /// The event ends the stream (`[DONE]`, `message_stop`, `response.completed`, …).
    pub is_end: bool,
    /// The event only carries usage (OpenAI's `choices: []` chunk).
    pub usage_only: bool,
}

/// A usage report and how it combines with earlier ones.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum UsageReport {
    /// The final totals: replaces anything seen before.
    Total(Usage),
    /// Input side only (Anthropic `message_start`): kept, output added later.
    Input(Usage),
    /// Output side only (Anthropic `message_delta`): merged with the input side.
    Output(Usage),
}

/// Facts about a whole (non-stream) upstream answer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResponseFacts {
    /// Reported usage.
    pub usage: Option<Usage>,
    /// Upstream response id.
    pub upstream_id: Option<String>,
    /// The body is only an error object (some providers send errors with 200).
    pub error: Option<String>,
}

/// Folds a stream's usage reports into one total, reported once.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct UsageTracker {
    input: Option<Usage>,
    output: Option<Usage>,
    total: Option<Usage>,
}

impl UsageTracker {
    /// Account one report.
    pub fn add(&mut self, report: UsageReport) {
        match report {
            UsageReport::Total(u) => self.total = Some(u),
            UsageReport::Input(u) => self.input = Some(u),
            UsageReport::Output(u) => self.output = Some(u),
        }
    }

    /// The usage so far, `None` when nothing was reported.
    pub fn usage(&self) -> Option<Usage> {
        if let Some(total) = self.total {
            return Some(total);
        }
        match (self.input, self.output) {
            (None, None) => None,
            (input, output) => {
                let i = input.unwrap_or_default();
                let o = output.unwrap_or_default();
                let mut u = Usage {
                    input_tokens: i.input_tokens.max(o.input_tokens),
                    image_input_tokens: i.image_input_tokens.max(o.image_input_tokens),
                    audio_input_tokens: i.audio_input_tokens.max(o.audio_input_tokens),
                    video_input_tokens: i.video_input_tokens.max(o.video_input_tokens),
                    cached_tokens: i.cached_tokens.max(o.cached_tokens),
                    cache_creation_tokens: i.cache_creation_tokens.max(o.cache_creation_tokens),
                    output_tokens: o.output_tokens.max(i.output_tokens),
                    image_output_tokens: o.image_output_tokens,
                    audio_output_tokens: o.audio_output_tokens,
                    reasoning_tokens: o.reasoning_tokens,
                    web_search_count: i.web_search_count.max(o.web_search_count),
                    total_tokens: 0,
                };
                u.total_tokens = u.input_tokens + u.output_tokens;
                Some(u)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_and_output_reports_merge_once() {
        let mut t = UsageTracker::default();
        assert_eq!(t.usage(), None);
        t.add(UsageReport::Input(Usage {
            input_tokens: 10,
            cached_tokens: 4,
            ..Usage::default()
        }));
        t.add(UsageReport::Output(Usage {
            output_tokens: 3,
            ..Usage::default()
        }));
        t.add(UsageReport::Output(Usage {
            output_tokens: 7,
            ..Usage::default()
        }));
        let u = t.usage().unwrap();
        assert_eq!(
            (
                u.input_tokens,
                u.output_tokens,
                u.total_tokens,
                u.cached_tokens
            ),
            (10, 7, 17, 4)
        );
    }

    #[test]
    fn totals_replace() {
        let mut t = UsageTracker::default();
        t.add(UsageReport::Total(Usage::from_counts(1, 1)));
        t.add(UsageReport::Total(Usage::from_counts(5, 9)));
        assert_eq!(t.usage().unwrap().total_tokens, 14);
    }
}
