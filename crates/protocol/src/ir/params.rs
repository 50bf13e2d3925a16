//! Generation parameters: sampling, output format and reasoning.

use serde_json::Value;

/// Sampling and length controls. `None` means "not given": encoders omit the
/// field and let the upstream apply its default.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sampling {
    /// Maximum output tokens (OpenAI `max_completion_tokens`/`max_tokens`,
    /// Anthropic `max_tokens`, Gemini `maxOutputTokens`, Responses
    /// `max_output_tokens`). Includes reasoning tokens where the dialect
    /// counts them (Anthropic and OpenAI do).
    pub max_tokens: Option<u32>,
    /// Temperature.
    pub temperature: Option<f64>,
    /// Nucleus sampling.
    pub top_p: Option<f64>,
    /// Top-k sampling (Anthropic, Gemini; not OpenAI).
    pub top_k: Option<u32>,
    /// Stop sequences, in order; empty when none.
    pub stop: Vec<String>,
    /// Sampling seed.
    pub seed: Option<i64>,
    /// Frequency penalty.
    pub frequency_penalty: Option<f64>,
    /// Presence penalty.
    pub presence_penalty: Option<f64>,
}

/// The requested output format.
#[derive(Debug, Clone, PartialEq)]
pub enum ResponseFormat {
    /// Free text (the default).
    Text,
    /// Any JSON object.
    JsonObject,
    /// JSON matching a schema.
    JsonSchema {
        /// Schema name (OpenAI requires one).
        name: String,
        /// Human description of the schema.
        description: Option<String>,
        /// The JSON Schema, kept verbatim.
        schema: Value,
        /// Whether strict schema adherence was requested.
        strict: Option<bool>,
    },
}

/// Normalised reasoning effort, the union of every dialect's levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Effort {
    /// Reasoning off.
    None,
    /// The least reasoning a model does when it cannot turn it off.
    Minimal,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Beyond high (Anthropic `max`, OpenAI `xhigh`).
    XHigh,
}

impl Effort {
    /// Parses an effort label, accepting the aliases AI Proxy accepts
    /// (`off`/`disabled` → none, `med` → medium, `max`/`maximum` → xhigh).
    pub fn parse(label: &str) -> Option<Self> {
        Some(match label.trim().to_ascii_lowercase().as_str() {
            "none" | "off" | "disabled" => Self::None,
            "minimal" => Self::Minimal,
            "low" => Self::Low,
            "medium" | "med" => Self::Medium,
            "high" => Self::High,
            "xhigh" | "max" | "maximum" => Self::XHigh,
            _ => return None,
        })
    }

    /// The OpenAI label (`none` … `xhigh`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Minimal => "minimal",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::XHigh => "xhigh",
        }
    }

    /// The thinking budget used when a dialect wants tokens, not a label:
    /// none 0, minimal 1024, low 2048, medium 8192, high 16384, xhigh 32768
    /// (AI Proxy's table).
    pub fn budget_tokens(self) -> u32 {
        match self {
            Self::None => 0,
            Self::Minimal => 1024,
            Self::Low => 2048,
            Self::Medium => 8192,
            Self::High => 16384,
            Self::XHigh => 32768,
        }
    }

    /// The effort a token budget corresponds to: ≤0 none, ≤1024 minimal,
    /// ≤4096 low, ≤12288 medium, ≤24576 high, above that xhigh.
    pub fn from_budget(budget: i64) -> Self {
        match budget {
            i64::MIN..=0 => Self::None,
            1..=1024 => Self::Minimal,
            1025..=4096 => Self::Low,
            4097..=12288 => Self::Medium,
            12289..=24576 => Self::High,
            _ => Self::XHigh,
        }
    }
}

/// Reasoning ("thinking") configuration.
///
/// `effort` and `budget_tokens` may both be set (a dialect that gives both);
/// encoders use whichever their dialect speaks and derive the other with
/// [`Effort::budget_tokens`] / [`Effort::from_budget`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reasoning {
    /// Effort level; `Some(Effort::None)` means explicitly disabled.
    pub effort: Option<Effort>,
    /// Explicit token budget (Anthropic `budget_tokens`, Gemini
    /// `thinkingBudget`).
    pub budget_tokens: Option<u32>,
    /// Whether the client wants reasoning text returned (Gemini
    /// `includeThoughts`); `None` means the dialect's default.
    pub include_thoughts: Option<bool>,
    /// Reasoning summary mode (Responses `reasoning.summary`: `auto`,
    /// `concise`, `detailed`).
    pub summary: Option<String>,
}

impl Reasoning {
    /// Whether reasoning is switched on: an effort other than none, or a
    /// positive budget.
    pub fn enabled(&self) -> bool {
        match (self.effort, self.budget_tokens) {
            (Some(Effort::None), _) => false,
            (Some(_), _) => true,
            (None, Some(budget)) => budget > 0,
            (None, None) => self.include_thoughts == Some(true),
        }
    }

    /// The effort, derived from the budget when only a budget was given
    /// (medium when reasoning is on with neither).
    pub fn effective_effort(&self) -> Effort {
        match (self.effort, self.budget_tokens) {
            (Some(effort), _) => effort,
            (None, Some(budget)) => Effort::from_budget(i64::from(budget)),
            (None, None) if self.enabled() => Effort::Medium,
            (None, None) => Effort::None,
        }
    }

    /// The budget, derived from the effort when only an effort was given.
    pub fn effective_budget(&self) -> u32 {
        self.budget_tokens
            .unwrap_or_else(|| self.effective_effort().budget_tokens())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn effort_budget_tables() {
        assert_eq!(Effort::Low.budget_tokens(), 2048);
        assert_eq!(Effort::from_budget(0), Effort::None);
        assert_eq!(Effort::from_budget(1024), Effort::Minimal);
        assert_eq!(Effort::from_budget(2048), Effort::Low);
        assert_eq!(Effort::from_budget(8192), Effort::Medium);
        assert_eq!(Effort::from_budget(16384), Effort::High);
        assert_eq!(Effort::from_budget(31999), Effort::XHigh);
        for e in [
            Effort::Minimal,
            Effort::Low,
            Effort::Medium,
            Effort::High,
            Effort::XHigh,
        ] {
            assert_eq!(Effort::from_budget(i64::from(e.budget_tokens())), e);
        }
        assert_eq!(Effort::parse("MAX"), Some(Effort::XHigh));
        assert_eq!(Effort::parse("off"), Some(Effort::None));
        assert_eq!(Effort::parse("bogus"), None);
    }

    #[test]
    fn reasoning_derivations() {
        let r = Reasoning {
            budget_tokens: Some(3000),
            ..Reasoning::default()
        };
        assert!(r.enabled());
        assert_eq!(r.effective_effort(), Effort::Low);
        let r = Reasoning {
            effort: Some(Effort::High),
            ..Reasoning::default()
        };
        assert_eq!(r.effective_budget(), 16384);
        let off = Reasoning {
            effort: Some(Effort::None),
            budget_tokens: Some(5000),
            ..Reasoning::default()
        };
        assert!(!off.enabled());
    }
}
