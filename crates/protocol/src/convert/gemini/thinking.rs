//! Reasoning ⇄ `generationConfig.thinkingConfig`, with the per-model rules
//! (AI Proxy's, from its reasoning compatibility notes).
//!
//! # Model families ([`thinking_family`], matched on `gemini-<version>`
//! anywhere in the name, so `models/…` and Vertex publisher paths work)
//!
//! | family | control | range | `none` becomes |
//! |---|---|---|---|
//! | Gemini 3 and later, Pro | `thinkingLevel` `low`/`high` | high, xhigh → `high`; else `low` | `low` |
//! | Gemini 3 and later, others | `thinkingLevel` | none, minimal → `minimal`; low; medium; high, xhigh → `high` | `minimal` |
//! | `gemini-2.5-pro` | `thinkingBudget` | 128 ‥ 32 768 | 128 (cannot disable) |
//! | `gemini-2.5-flash` | `thinkingBudget` | 1 ‥ 24 576 | 0 |
//! | `gemini-2.5-flash-lite` | `thinkingBudget` | 512 ‥ 24 576 | 0 |
//! | Gemini 1.x / 2.0, Gemma, image and TTS models | none sent | | |
//! | anything else (`gemini-flash-latest`, non-Gemini names) | `thinkingBudget` unclamped | | `includeThoughts: false` only |
//!
//! The budget comes from [`Reasoning::effective_budget`] (effort table
//! 1024/2048/8192/16384/32768) and, as in AI Proxy, is not clamped to
//! `maxOutputTokens`: Gemini accepts a budget above the limit and simply
//! stops at the limit. `includeThoughts` is the
//! client's choice when given, else true when reasoning is on and false
//! when it is off.
//!
//! # Decoding ([`reasoning_from_wire`])
//!
//! `thinkingLevel` → effort; else `thinkingBudget`: −1 (dynamic) → medium,
//! 0 → none, n > 0 → budget n; else `includeThoughts: true` alone →
//! reasoning on with the default (medium) effort. An empty config is no
//! reasoning.

use serde_json::Map;

use crate::gemini::ThinkingConfig;
use crate::ir::{Effort, Reasoning};

/// How a model takes its thinking configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThinkingFamily {
    /// Gemini 3 and later: `thinkingLevel`.
    Level {
        /// Pro models accept only `low` and `high`.
        pro: bool,
    },
    /// Gemini 2.5: `thinkingBudget` within a range.
    Budget {
        /// Smallest budget when thinking is on.
        min: u32,
        /// Largest budget.
        max: u32,
        /// Whether `thinkingBudget: 0` turns thinking off.
        can_disable: bool,
    },
    /// No thinking support: send no `thinkingConfig`.
    NoThinking,
    /// Not recognised: send the budget as is.
    Unknown,
}

/// The family of a model name (see the module table).
pub fn thinking_family(model: &str) -> ThinkingFamily {
    let lower = model.to_ascii_lowercase();
    if lower.contains("gemma") || lower.contains("image") || lower.contains("tts") {
        return ThinkingFamily::NoThinking;
    }
    let Some(start) = lower.find("gemini-") else {
        return ThinkingFamily::Unknown;
    };
    let rest = lower.get(start + "gemini-".len()..).unwrap_or_default();
    let (version, name) = rest.split_once('-').unwrap_or((rest, ""));
    let mut numbers = version.split('.').map(str::parse::<u32>);
    let (Some(Ok(major)), minor) = (numbers.next(), numbers.next()) else {
        return ThinkingFamily::Unknown;
    };
    let minor = minor.and_then(Result::ok).unwrap_or(0);
    match (major, minor) {
        (0..=1, _) | (2, 0..=4) => ThinkingFamily::NoThinking,
        (2, _) if name.contains("flash-lite") => ThinkingFamily::Budget {
            min: 512,
            max: 24_576,
            can_disable: true,
        },
        (2, _) if name.contains("pro") => ThinkingFamily::Budget {
            min: 128,
            max: 32_768,
            can_disable: false,
        },
        (2, _) => ThinkingFamily::Budget {
            min: 1,
            max: 24_576,
            can_disable: true,
        },
        _ => ThinkingFamily::Level {
            pro: name.contains("pro"),
        },
    }
}

/// The `thinkingConfig` to send to `model` for the canonical reasoning
/// (`None`: send none). `auto_include` asks thinking models for thought
/// summaries when the client configured no reasoning.
pub fn thinking_config_from_ir(
    model: &str,
    reasoning: Option<&Reasoning>,
    auto_include: bool,
) -> Option<ThinkingConfig> {
    let family = thinking_family(model);
    let Some(reasoning) = reasoning else {
        let thinks = match family {
            ThinkingFamily::Level { .. } => true,
            // Flash-Lite does not think unless asked to.
            ThinkingFamily::Budget { .. } => !model.to_ascii_lowercase().contains("flash-lite"),
            ThinkingFamily::NoThinking | ThinkingFamily::Unknown => false,
        };
        return (auto_include && thinks).then(|| config(Some(true), None, None));
    };
    let on = reasoning.enabled();
    let include = if on {
        reasoning.include_thoughts.unwrap_or(true)
    } else {
        false
    };
    match family {
        ThinkingFamily::NoThinking => None,
        ThinkingFamily::Level { pro } => {
            let effort = if on {
                reasoning.effective_effort()
            } else {
                Effort::None
            };
            let level = match (pro, effort) {
                (true, Effort::High | Effort::XHigh) => "high",
                (true, _) => "low",
                (false, Effort::None | Effort::Minimal) => "minimal",
                (false, Effort::Low) => "low",
                (false, Effort::Medium) => "medium",
                (false, Effort::High | Effort::XHigh) => "high",
            };
            Some(config(Some(include), None, Some(level)))
        }
        ThinkingFamily::Budget {
            min,
            max,
            can_disable,
        } => {
            let budget = match (on, can_disable) {
                (true, _) => reasoning.effective_budget().clamp(min, max),
                (false, true) => 0,
                (false, false) => min,
            };
            Some(config(Some(include), Some(i64::from(budget)), None))
        }
        ThinkingFamily::Unknown if on => Some(config(
            Some(include),
            Some(i64::from(reasoning.effective_budget())),
            None,
        )),
        ThinkingFamily::Unknown => Some(config(Some(false), None, None)),
    }
}

fn config(include: Option<bool>, budget: Option<i64>, level: Option<&str>) -> ThinkingConfig {
    ThinkingConfig {
        include_thoughts: include,
        thinking_budget: budget,
        thinking_level: level.map(str::to_owned),
        extra: Map::new(),
    }
}

/// The canonical reasoning a `thinkingConfig` asks for (see the module
/// docs); `None` for an absent or empty config.
pub fn reasoning_from_wire(config: Option<&ThinkingConfig>) -> Option<Reasoning> {
    let config = config?;
    let include_thoughts = config.include_thoughts;
    if let Some(effort) = config.thinking_level.as_deref().and_then(Effort::parse) {
        return Some(Reasoning {
            effort: Some(effort),
            include_thoughts,
            ..Reasoning::default()
        });
    }
    if let Some(budget) = config.thinking_budget {
        let (effort, budget_tokens) = match budget {
            i64::MIN..=-1 => (Some(Effort::Medium), None),
            0 => (Some(Effort::None), None),
            n => (None, Some(u32::try_from(n).unwrap_or(u32::MAX))),
        };
        return Some(Reasoning {
            effort,
            budget_tokens,
            include_thoughts,
            summary: None,
        });
    }
    include_thoughts.map(|include| Reasoning {
        include_thoughts: Some(include),
        ..Reasoning::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn effort(e: Effort) -> Reasoning {
        Reasoning {
            effort: Some(e),
            ..Reasoning::default()
        }
    }

    fn budget(b: u32) -> Reasoning {
        Reasoning {
            budget_tokens: Some(b),
            ..Reasoning::default()
        }
    }

    fn sent(model: &str, r: &Reasoning) -> (Option<bool>, Option<i64>, Option<String>) {
        let c = thinking_config_from_ir(model, Some(r), true).unwrap();
        (c.include_thoughts, c.thinking_budget, c.thinking_level)
    }

    #[test]
    fn families() {
        use ThinkingFamily::*;
        assert_eq!(
            thinking_family("gemini-2.5-pro"),
            Budget {
                min: 128,
                max: 32_768,
                can_disable: false
            }
        );
        assert_eq!(
            thinking_family("models/gemini-2.5-flash-lite-preview-06-17"),
            Budget {
                min: 512,
                max: 24_576,
                can_disable: true
            }
        );
        assert_eq!(
            thinking_family("publishers/google/models/gemini-2.5-flash"),
            Budget {
                min: 1,
                max: 24_576,
                can_disable: true
            }
        );
        assert_eq!(thinking_family("gemini-3-pro-preview"), Level { pro: true });
        assert_eq!(thinking_family("gemini-3.1-flash"), Level { pro: false });
        assert_eq!(thinking_family("gemini-2.0-flash"), NoThinking);
        assert_eq!(thinking_family("gemini-2.5-flash-image"), NoThinking);
        assert_eq!(thinking_family("gemma-3-27b-it"), NoThinking);
        assert_eq!(thinking_family("gemini-flash-latest"), Unknown);
        assert_eq!(thinking_family("gpt-4o"), Unknown);
    }

    #[test]
    fn budgets_are_clamped_per_family() {
        assert_eq!(
            sent("gemini-2.5-pro", &effort(Effort::High)),
            (Some(true), Some(16_384), None)
        );
        assert_eq!(
            sent("gemini-2.5-pro", &budget(50)),
            (Some(true), Some(128), None)
        );
        assert_eq!(
            sent("gemini-2.5-pro", &effort(Effort::None)),
            (Some(false), Some(128), None)
        );
        assert_eq!(
            sent("gemini-2.5-flash", &effort(Effort::XHigh)),
            (Some(true), Some(24_576), None)
        );
        assert_eq!(
            sent("gemini-2.5-flash", &effort(Effort::None)),
            (Some(false), Some(0), None)
        );
        assert_eq!(
            sent("gemini-2.5-flash-lite", &budget(100)),
            (Some(true), Some(512), None)
        );
        assert_eq!(
            sent("other-model", &budget(100_000)),
            (Some(true), Some(100_000), None)
        );
        assert_eq!(
            sent("other-model", &effort(Effort::None)),
            (Some(false), None, None)
        );
    }

    #[test]
    fn levels_for_gemini_3() {
        let level = |m: &str, e| sent(m, &effort(e)).2.unwrap();
        assert_eq!(level("gemini-3-pro", Effort::None), "low");
        assert_eq!(level("gemini-3-pro", Effort::Medium), "low");
        assert_eq!(level("gemini-3-pro", Effort::XHigh), "high");
        assert_eq!(level("gemini-3-flash", Effort::None), "minimal");
        assert_eq!(level("gemini-3-flash", Effort::Medium), "medium");
        assert_eq!(
            sent("gemini-3-pro", &budget(20_000)).2.as_deref(),
            Some("high")
        );
        assert_eq!(sent("gemini-3-pro", &effort(Effort::None)).0, Some(false));
    }

    #[test]
    fn no_reasoning() {
        assert!(
            thinking_config_from_ir("gemini-2.0-flash", Some(&effort(Effort::High)), true)
                .is_none()
        );
        let auto = thinking_config_from_ir("gemini-2.5-flash", None, true).unwrap();
        assert_eq!(
            (auto.include_thoughts, auto.thinking_budget),
            (Some(true), None)
        );
        assert!(thinking_config_from_ir("gemini-2.5-flash-lite", None, true).is_none());
        assert!(thinking_config_from_ir("gemini-2.5-flash", None, false).is_none());
    }

    #[test]
    fn decoding() {
        let c = |json: &str| reasoning_from_wire(Some(&serde_json::from_str(json).unwrap()));
        assert_eq!(
            c(r#"{"thinkingLevel":"high"}"#).unwrap().effort,
            Some(Effort::High)
        );
        let r = c(r#"{"thinkingBudget":2048,"includeThoughts":true}"#).unwrap();
        assert_eq!(
            (r.budget_tokens, r.effective_effort()),
            (Some(2048), Effort::Low)
        );
        assert_eq!(
            c(r#"{"thinkingBudget":-1}"#).unwrap().effort,
            Some(Effort::Medium)
        );
        assert!(!c(r#"{"thinkingBudget":0}"#).unwrap().enabled());
        let r = c(r#"{"includeThoughts":true}"#).unwrap();
        assert_eq!((r.enabled(), r.effective_effort()), (true, Effort::Medium));
        assert!(!c(r#"{"includeThoughts":false}"#).unwrap().enabled());
        assert!(c("{}").is_none());
    }
}
