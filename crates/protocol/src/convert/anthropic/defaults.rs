//! Model-family defaults and the thinking clamps for Anthropic upstreams.
//!
//! # Default `max_tokens` (Anthropic requires one; OpenAI clients often send none)
//!
//! | model family | default = max output |
//! |---|---|
//! | Claude 3 (opus, sonnet, haiku), Claude 2, instant | 4 096 |
//! | Claude 3.5 (sonnet, haiku) | 8 192 |
//! | Claude 3.7 sonnet | 64 000 (without the 128k-output beta) |
//! | Claude Opus 4 and 4.1 | 32 000 |
//! | every other Claude 4.x (Sonnet 4/4.5, Haiku 4.5, Opus 4.5+) and later | 64 000 |
//! | not recognisably Claude (DeepSeek, Kimi… behind an Anthropic-shaped API) | 8 192, no cap |
//!
//! Names are matched by family word and version numbers anywhere after
//! `claude` (`claude-3-5-sonnet-20241022`, `claude-opus-4-1`,
//! `anthropic.claude-sonnet-4-20250514-v1:0`, `claude-opus-4@20250514`).
//! Unlike AI Proxy there is no substring rule such as `"4-1" → 204800`,
//! which exceeded Opus 4.1's real limit.
//!
//! # Thinking clamps (AI Proxy's)
//!
//! The budget is at least [`MIN_THINKING_BUDGET`]; `max_tokens` is raised
//! to at least `max(budget + 1, MIN_THINKING_MAX_TOKENS)`. When that raise
//! would exceed a known model cap, `max_tokens` is the cap and the budget
//! shrinks to `cap − 1`.

/// Smallest thinking budget Anthropic accepts.
pub const MIN_THINKING_BUDGET: u32 = 1024;

/// Smallest `max_tokens` sent with thinking on.
pub const MIN_THINKING_MAX_TOKENS: u32 = 2048;

/// Name of the tool used to force JSON output for `response_format`
/// (see [`request_from_ir`](super::request_from_ir)). Responses and streams
/// from Anthropic turn this tool's input back into text.
pub const JSON_TOOL_NAME: &str = "switchyard_json_output";

/// The default and the cap of a model's output tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputLimits {
    /// `max_tokens` to send when the client gave none.
    pub default_max_tokens: u32,
    /// The model's maximum output, when known.
    pub cap: Option<u32>,
}

/// The default `max_tokens` for a model (see the table in the module docs).
pub fn default_max_tokens(model: &str) -> u32 {
    output_limits(model).default_max_tokens
}

/// Default and cap for a model (see the table in the module docs).
pub fn output_limits(model: &str) -> OutputLimits {
    let Some((family, major, minor)) = claude_version(model) else {
        return OutputLimits {
            default_max_tokens: 8192,
            cap: None,
        };
    };
    let max = match (major, minor) {
        (0..=2, _) => 4096,
        (3, 0..=4) => 4096,
        (3, 5..=6) => 8192,
        (3, _) => 64_000,
        (4, 0..=1) if family == Some(Family::Opus) => 32_000,
        _ => 64_000,
    };
    OutputLimits {
        default_max_tokens: max,
        cap: Some(max),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Opus,
    Sonnet,
    Haiku,
    Instant,
}

/// Family and (major, minor) version of a Claude model name.
fn claude_version(model: &str) -> Option<(Option<Family>, u32, u32)> {
    let lower = model.to_ascii_lowercase();
    let start = lower.find("claude")?;
    let rest = lower.get(start + "claude".len()..)?;
    let mut family = None;
    let mut numbers = Vec::new();
    for token in rest.split(['-', '.', '@', ':', '_', '/']) {
        match token {
            "opus" => family = family.or(Some(Family::Opus)),
            "sonnet" => family = family.or(Some(Family::Sonnet)),
            "haiku" => family = family.or(Some(Family::Haiku)),
            "instant" => family = family.or(Some(Family::Instant)),
            t if !t.is_empty() && t.len() <= 2 && t.bytes().all(|b| b.is_ascii_digit()) => {
                numbers.extend(t.parse::<u32>().ok());
            }
            _ => {}
        }
    }
    if family == Some(Family::Instant) {
        return Some((family, 1, 0));
    }
    let major = *numbers.first()?;
    Some((family, major, numbers.get(1).copied().unwrap_or(0)))
}

/// Applies the thinking clamps: returns `(budget_tokens, max_tokens)`.
/// `client_max` is the client's `max_tokens`, if any.
pub fn clamp_thinking(budget: u32, client_max: Option<u32>, limits: OutputLimits) -> (u32, u32) {
    let mut budget = budget.max(MIN_THINKING_BUDGET);
    let requested = client_max.unwrap_or(limits.default_max_tokens);
    let required = budget.saturating_add(1).max(MIN_THINKING_MAX_TOKENS);
    let mut max_tokens = requested.max(required);
    if max_tokens > requested
        && let Some(cap) = limits.cap
        && max_tokens > cap
    {
        max_tokens = cap.max(MIN_THINKING_MAX_TOKENS);
        budget = budget.min(max_tokens - 1).max(MIN_THINKING_BUDGET);
    }
    (budget, max_tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn family_table() {
        let cases = [
            ("claude-3-haiku-20240307", 4096),
            ("claude-3-opus-20240229", 4096),
            ("claude-3-5-sonnet-20241022", 8192),
            ("claude-3-5-haiku-latest", 8192),
            ("claude-3-7-sonnet-20250219", 64_000),
            ("claude-opus-4-20250514", 32_000),
            ("claude-opus-4-1-20250805", 32_000),
            ("claude-opus-4-1", 32_000),
            ("claude-opus-4@20250514", 32_000),
            ("us.anthropic.claude-opus-4-1-20250805-v1:0", 32_000),
            ("claude-sonnet-4-20250514", 64_000),
            ("anthropic.claude-sonnet-4-20250514-v1:0", 64_000),
            ("claude-sonnet-4-5", 64_000),
            ("claude-haiku-4-5-20251001", 64_000),
            ("claude-opus-4-5", 64_000),
            ("claude-instant-1.2", 4096),
            ("claude-2.1", 4096),
            ("deepseek-chat", 8192),
            ("claude", 8192),
        ];
        for (model, want) in cases {
            assert_eq!(default_max_tokens(model), want, "{model}");
        }
        assert_eq!(output_limits("kimi-k2").cap, None);
    }

    #[test]
    fn thinking_clamps() {
        let sonnet = output_limits("claude-sonnet-4-5");
        // Budget below the minimum is raised; max_tokens covers it.
        assert_eq!(clamp_thinking(500, Some(100), sonnet), (1024, 2048));
        // Client max below the budget is raised to budget + 1.
        assert_eq!(clamp_thinking(16384, Some(4000), sonnet), (16384, 16385));
        // A sufficient client max is kept.
        assert_eq!(clamp_thinking(2048, Some(10_000), sonnet), (2048, 10_000));
        // No client max: the model default.
        assert_eq!(clamp_thinking(8192, None, sonnet), (8192, 64_000));
        // A raise past the model cap is capped and the budget shrinks.
        let opus4 = output_limits("claude-opus-4-1");
        assert_eq!(clamp_thinking(32768, Some(1000), opus4), (31_999, 32_000));
        // Unknown models have no cap.
        let other = output_limits("glm-4.6");
        assert_eq!(clamp_thinking(32768, None, other), (32768, 32769));
    }
}
