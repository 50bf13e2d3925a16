//! Amount formula (reference §6.4): usage × price → amount, by component.
//!
//! Accounting step of the request path, after the final attempt: the relay
//! hands the normalised [`Usage`], the [`UsageContext`] and whether the
//! request succeeded to [`compute`]; the resulting [`Charge`] goes into the
//! log row (`price`, `amount`, `used_amount`) and the quota counters. All
//! arithmetic is [`Decimal`]; `f64` appears only when serialising.
//!
//! ```text
//! per_request_price > 0: amount = succeeded ? per_request_price : 0
//! otherwise, with the selected price:
//!   in  = input − image_in − audio_in − video_in − cached − cache_creation
//!         (each only subtracted when its own price > 0)
//!   out = output − image_out − audio_out       (same rule)
//!   out_price = reasoning > 0 && thinking_mode_output_price > 0
//!               ? thinking price and unit : output price and unit
//!   amount = Σ tokens × price / unit
//! ```

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use switchyard_protocol::Usage;

use super::conditions::UsageContext;
use super::price::{AppliedPrice, Price};
use super::serde_num::{self, is_zero_decimal};

/// An amount broken down by component. Serialises as AI Proxy's log
/// `amount` object (`input_amount`, …, `used_amount` = the total, zero
/// fields omitted), plus `per_request_amount`, which AI Proxy folds into
/// `used_amount` only.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "AmountWire", from = "AmountWire")]
pub struct Amount {
    /// Input tokens not carved out.
    pub input: Decimal,
    /// Image input tokens.
    pub image_input: Decimal,
    /// Audio input tokens.
    pub audio_input: Decimal,
    /// Video input tokens.
    pub video_input: Decimal,
    /// Prompt-cache reads.
    pub cached: Decimal,
    /// Prompt-cache writes.
    pub cache_creation: Decimal,
    /// Output tokens not carved out (at the thinking-mode price when it
    /// applied).
    pub output: Decimal,
    /// Image output tokens.
    pub image_output: Decimal,
    /// Audio output tokens.
    pub audio_output: Decimal,
    /// Web searches.
    pub web_search: Decimal,
    /// The flat per-request price.
    pub per_request: Decimal,
}

/// Saturating decimal addition (amounts never realistically reach the
/// limit, ~7.9 × 10²⁸, but billing must not panic).
fn add(a: Decimal, b: Decimal) -> Decimal {
    a.checked_add(b).unwrap_or(Decimal::MAX)
}

impl Amount {
    /// Sum of all components.
    pub fn total(&self) -> Decimal {
        // Most components are zero, and a decimal addition costs the same
        // whatever its operands: add only the others.
        let mut charged = self.components().into_iter().filter(|c| !c.is_zero());
        let first = charged.next().unwrap_or(Decimal::ZERO);
        charged.fold(first, add)
    }

    /// The total as `f64`, for AI Proxy's `used_amount` JSON field and the
    /// float quota counters.
    pub fn total_f64(&self) -> f64 {
        serde_num::decimal_to_f64(self.total())
    }

    /// True when nothing is charged.
    pub fn is_zero(&self) -> bool {
        self.components().iter().all(Decimal::is_zero)
    }

    fn components(&self) -> [Decimal; 11] {
        [
            self.input,
            self.image_input,
            self.audio_input,
            self.video_input,
            self.cached,
            self.cache_creation,
            self.output,
            self.image_output,
            self.audio_output,
            self.web_search,
            self.per_request,
        ]
    }
}

/// What one request costs and the price it was billed at.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Charge {
    /// The flattened price actually used (the log row's `price`).
    pub price: AppliedPrice,
    /// The amount by component (the log row's `amount`).
    pub amount: Amount,
}

impl Charge {
    /// The total as `f64` (AI Proxy's `used_amount`).
    pub fn used_amount(&self) -> f64 {
        self.amount.total_f64()
    }
}

/// `tokens × price / unit`, zero when either is not positive.
fn part(tokens: i64, price: Decimal, unit: i64) -> Decimal {
    if tokens <= 0 || price.is_zero() {
        return Decimal::ZERO;
    }
    Decimal::from(tokens)
        .checked_mul(price)
        .and_then(|v| v.checked_div(Decimal::from(unit.max(1))))
        .unwrap_or(Decimal::MAX)
}

/// `tokens` minus the carve-outs whose price is set, never below zero.
fn carve(tokens: i64, carve_outs: &[(i64, Decimal)]) -> i64 {
    carve_outs
        .iter()
        .filter(|(_, price)| *price > Decimal::ZERO)
        .fold(tokens, |left, (n, _)| left.saturating_sub((*n).max(0)))
        .max(0)
}

/// Price one request. `succeeded` is "the final status was 200"; it only
/// matters for a per-request price (token prices charge whatever usage was
/// reported, which for a failed request is normally none).
pub fn compute(price: &Price, usage: &Usage, ctx: &UsageContext, succeeded: bool) -> Charge {
    if price.per_request_price > Decimal::ZERO {
        return per_request(AppliedPrice::new(price, None), succeeded);
    }
    let applied = price.select(usage, ctx);
    if applied.per_request_price > Decimal::ZERO {
        return per_request(applied, succeeded);
    }
    let amount = token_amount(&applied, usage);
    Charge {
        price: applied,
        amount,
    }
}

fn per_request(price: AppliedPrice, succeeded: bool) -> Charge {
    let amount = Amount {
        per_request: if succeeded {
            price.per_request_price
        } else {
            Decimal::ZERO
        },
        ..Amount::default()
    };
    Charge { price, amount }
}

/// The token formula with an already selected price.
fn token_amount(p: &Price, u: &Usage) -> Amount {
    let input = carve(
        u.input_tokens,
        &[
            (u.image_input_tokens, p.image_input_price),
            (u.audio_input_tokens, p.audio_input_price),
            (u.video_input_tokens, p.video_input_price),
            (u.cached_tokens, p.cached_price),
            (u.cache_creation_tokens, p.cache_creation_price),
        ],
    );
    let output = carve(
        u.output_tokens,
        &[
            (u.image_output_tokens, p.image_output_price),
            (u.audio_output_tokens, p.audio_output_price),
        ],
    );
    let (out_price, out_unit) =
        if u.reasoning_tokens > 0 && p.thinking_mode_output_price > Decimal::ZERO {
            (p.thinking_mode_output_price, p.thinking_mode_output_unit())
        } else {
            (p.output_price, p.output_unit())
        };
    Amount {
        input: part(input, p.input_price, p.input_unit()),
        image_input: part(
            u.image_input_tokens,
            p.image_input_price,
            p.image_input_unit(),
        ),
        audio_input: part(
            u.audio_input_tokens,
            p.audio_input_price,
            p.audio_input_unit(),
        ),
        video_input: part(
            u.video_input_tokens,
            p.video_input_price,
            p.video_input_unit(),
        ),
        cached: part(u.cached_tokens, p.cached_price, p.cached_unit()),
        cache_creation: part(
            u.cache_creation_tokens,
            p.cache_creation_price,
            p.cache_creation_unit(),
        ),
        output: part(output, out_price, out_unit),
        image_output: part(
            u.image_output_tokens,
            p.image_output_price,
            p.image_output_unit(),
        ),
        audio_output: part(
            u.audio_output_tokens,
            p.audio_output_price,
            p.audio_output_unit(),
        ),
        web_search: part(u.web_search_count, p.web_search_price, p.web_search_unit()),
        per_request: Decimal::ZERO,
    }
}

/// The JSON shape of [`Amount`] (AI Proxy's log `amount` object).
#[derive(Serialize, Deserialize)]
struct AmountWire {
    #[serde(
        default,
        with = "serde_num::decimal",
        skip_serializing_if = "is_zero_decimal"
    )]
    input_amount: Decimal,
    #[serde(
        default,
        with = "serde_num::decimal",
        skip_serializing_if = "is_zero_decimal"
    )]
    image_input_amount: Decimal,
    #[serde(
        default,
        with = "serde_num::decimal",
        skip_serializing_if = "is_zero_decimal"
    )]
    audio_input_amount: Decimal,
    #[serde(
        default,
        with = "serde_num::decimal",
        skip_serializing_if = "is_zero_decimal"
    )]
    video_input_amount: Decimal,
    #[serde(
        default,
        with = "serde_num::decimal",
        skip_serializing_if = "is_zero_decimal"
    )]
    output_amount: Decimal,
    #[serde(
        default,
        with = "serde_num::decimal",
        skip_serializing_if = "is_zero_decimal"
    )]
    image_output_amount: Decimal,
    #[serde(
        default,
        with = "serde_num::decimal",
        skip_serializing_if = "is_zero_decimal"
    )]
    audio_output_amount: Decimal,
    #[serde(
        default,
        with = "serde_num::decimal",
        skip_serializing_if = "is_zero_decimal"
    )]
    cached_amount: Decimal,
    #[serde(
        default,
        with = "serde_num::decimal",
        skip_serializing_if = "is_zero_decimal"
    )]
    cache_creation_amount: Decimal,
    #[serde(
        default,
        with = "serde_num::decimal",
        skip_serializing_if = "is_zero_decimal"
    )]
    web_search_amount: Decimal,
    #[serde(
        default,
        with = "serde_num::decimal",
        skip_serializing_if = "is_zero_decimal"
    )]
    per_request_amount: Decimal,
    /// Written as the total. When read, any excess over the components (an
    /// AI Proxy row priced per request has only `used_amount`) becomes the
    /// per-request component, so the total survives.
    #[serde(
        default,
        with = "serde_num::decimal",
        skip_serializing_if = "is_zero_decimal"
    )]
    used_amount: Decimal,
}

impl From<Amount> for AmountWire {
    fn from(a: Amount) -> Self {
        Self {
            input_amount: a.input,
            image_input_amount: a.image_input,
            audio_input_amount: a.audio_input,
            video_input_amount: a.video_input,
            output_amount: a.output,
            image_output_amount: a.image_output,
            audio_output_amount: a.audio_output,
            cached_amount: a.cached,
            cache_creation_amount: a.cache_creation,
            web_search_amount: a.web_search,
            per_request_amount: a.per_request,
            used_amount: a.total(),
        }
    }
}

impl From<AmountWire> for Amount {
    fn from(w: AmountWire) -> Self {
        let mut amount = Self {
            input: w.input_amount,
            image_input: w.image_input_amount,
            audio_input: w.audio_input_amount,
            video_input: w.video_input_amount,
            cached: w.cached_amount,
            cache_creation: w.cache_creation_amount,
            output: w.output_amount,
            image_output: w.image_output_amount,
            audio_output: w.audio_output_amount,
            web_search: w.web_search_amount,
            per_request: w.per_request_amount,
        };
        let unaccounted = w
            .used_amount
            .checked_sub(amount.total())
            .unwrap_or_default();
        if unaccounted > Decimal::ZERO {
            amount.per_request = add(amount.per_request, unaccounted);
        }
        amount
    }
}
