//! The price object of a model config (AI Proxy's `price`, reference §6.1)
//! and the flattened price a request was actually billed at.
//!
//! Sits at the accounting step of the request path: the model config (or a
//! group override, see [`super::effective_price`]) carries a [`Price`];
//! [`Price::select`](super::select) picks the applicable variant and
//! [`super::compute`] turns usage into an amount with it. JSON field names
//! are AI Proxy's; prices are [`Decimal`]s read from numbers or numeric
//! strings and written as numbers, zero fields omitted (Go's `omitempty`).

use std::ops::Deref;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::conditions::PriceCondition;
use super::serde_num::{self, is_zero_decimal, is_zero_int};

/// Tokens per price unit when a `*_unit` field is 0 (AI Proxy's `PriceUnit`).
pub const DEFAULT_PRICE_UNIT: i64 = 1000;

/// A model's price: per-token prices by component, per-field units, a flat
/// per-request price and conditional alternatives. A zero field is "not set".
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Price {
    /// Flat amount per request; when set, token prices are ignored and it is
    /// charged only for a successful (HTTP 200) request.
    #[serde(
        default,
        with = "serde_num::decimal",
        skip_serializing_if = "is_zero_decimal"
    )]
    pub per_request_price: Decimal,

    /// Price of input tokens not carved out into another component.
    #[serde(
        default,
        with = "serde_num::decimal",
        skip_serializing_if = "is_zero_decimal"
    )]
    pub input_price: Decimal,
    /// Tokens per `input_price` (0 = 1000).
    #[serde(default, with = "serde_num::int", skip_serializing_if = "is_zero_int")]
    pub input_price_unit: i64,

    /// Price of image input tokens (carved out of input when > 0).
    #[serde(
        default,
        with = "serde_num::decimal",
        skip_serializing_if = "is_zero_decimal"
    )]
    pub image_input_price: Decimal,
    /// Tokens per `image_input_price` (0 = 1000).
    #[serde(default, with = "serde_num::int", skip_serializing_if = "is_zero_int")]
    pub image_input_price_unit: i64,

    /// Price of audio input tokens (carved out of input when > 0).
    #[serde(
        default,
        with = "serde_num::decimal",
        skip_serializing_if = "is_zero_decimal"
    )]
    pub audio_input_price: Decimal,
    /// Tokens per `audio_input_price` (0 = 1000).
    #[serde(default, with = "serde_num::int", skip_serializing_if = "is_zero_int")]
    pub audio_input_price_unit: i64,

    /// Price of video input tokens (carved out of input when > 0).
    #[serde(
        default,
        with = "serde_num::decimal",
        skip_serializing_if = "is_zero_decimal"
    )]
    pub video_input_price: Decimal,
    /// Tokens per `video_input_price` (0 = 1000).
    #[serde(default, with = "serde_num::int", skip_serializing_if = "is_zero_int")]
    pub video_input_price_unit: i64,

    /// Price of output tokens not carved out into another component.
    #[serde(
        default,
        with = "serde_num::decimal",
        skip_serializing_if = "is_zero_decimal"
    )]
    pub output_price: Decimal,
    /// Tokens per `output_price` (0 = 1000).
    #[serde(default, with = "serde_num::int", skip_serializing_if = "is_zero_int")]
    pub output_price_unit: i64,

    /// Price of image output tokens (carved out of output when > 0).
    #[serde(
        default,
        with = "serde_num::decimal",
        skip_serializing_if = "is_zero_decimal"
    )]
    pub image_output_price: Decimal,
    /// Tokens per `image_output_price` (0 = 1000).
    #[serde(default, with = "serde_num::int", skip_serializing_if = "is_zero_int")]
    pub image_output_price_unit: i64,

    /// Price of audio output tokens (carved out of output when > 0).
    #[serde(
        default,
        with = "serde_num::decimal",
        skip_serializing_if = "is_zero_decimal"
    )]
    pub audio_output_price: Decimal,
    /// Tokens per `audio_output_price` (0 = 1000).
    #[serde(default, with = "serde_num::int", skip_serializing_if = "is_zero_int")]
    pub audio_output_price_unit: i64,

    /// Replaces `output_price` for all output tokens when the request
    /// reported reasoning tokens.
    #[serde(
        default,
        with = "serde_num::decimal",
        skip_serializing_if = "is_zero_decimal"
    )]
    pub thinking_mode_output_price: Decimal,
    /// Tokens per `thinking_mode_output_price` (0 = the output unit).
    #[serde(default, with = "serde_num::int", skip_serializing_if = "is_zero_int")]
    pub thinking_mode_output_price_unit: i64,

    /// Price of prompt-cache reads (carved out of input when > 0).
    #[serde(
        default,
        with = "serde_num::decimal",
        skip_serializing_if = "is_zero_decimal"
    )]
    pub cached_price: Decimal,
    /// Tokens per `cached_price` (0 = 1000).
    #[serde(default, with = "serde_num::int", skip_serializing_if = "is_zero_int")]
    pub cached_price_unit: i64,

    /// Price of prompt-cache writes (carved out of input when > 0).
    #[serde(
        default,
        with = "serde_num::decimal",
        skip_serializing_if = "is_zero_decimal"
    )]
    pub cache_creation_price: Decimal,
    /// Tokens per `cache_creation_price` (0 = 1000).
    #[serde(default, with = "serde_num::int", skip_serializing_if = "is_zero_int")]
    pub cache_creation_price_unit: i64,

    /// Price of web searches.
    #[serde(
        default,
        with = "serde_num::decimal",
        skip_serializing_if = "is_zero_decimal"
    )]
    pub web_search_price: Decimal,
    /// Searches per `web_search_price` (0 = 1000).
    #[serde(default, with = "serde_num::int", skip_serializing_if = "is_zero_int")]
    pub web_search_price_unit: i64,

    /// Alternatives chosen by request context; the most specific match
    /// replaces this price entirely.
    #[serde(
        default,
        deserialize_with = "serde_num::null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub conditional_prices: Vec<ConditionalPrice>,

    /// Fields this type does not model, kept so a round trip loses nothing.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One `conditional_prices[]` entry: a condition and the price used when it
/// is the best match.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConditionalPrice {
    /// When this price applies.
    #[serde(default)]
    pub condition: PriceCondition,
    /// The price used instead of the base price.
    #[serde(default)]
    pub price: Price,
}

/// A unit as stored, resolved: 0 (or a nonsensical negative) means the
/// default.
fn unit_or_default(unit: i64) -> i64 {
    if unit > 0 { unit } else { DEFAULT_PRICE_UNIT }
}

impl Price {
    /// Tokens per `input_price`.
    pub fn input_unit(&self) -> i64 {
        unit_or_default(self.input_price_unit)
    }

    /// Tokens per `image_input_price`.
    pub fn image_input_unit(&self) -> i64 {
        unit_or_default(self.image_input_price_unit)
    }

    /// Tokens per `audio_input_price`.
    pub fn audio_input_unit(&self) -> i64 {
        unit_or_default(self.audio_input_price_unit)
    }

    /// Tokens per `video_input_price`.
    pub fn video_input_unit(&self) -> i64 {
        unit_or_default(self.video_input_price_unit)
    }

    /// Tokens per `output_price`.
    pub fn output_unit(&self) -> i64 {
        unit_or_default(self.output_price_unit)
    }

    /// Tokens per `image_output_price`.
    pub fn image_output_unit(&self) -> i64 {
        unit_or_default(self.image_output_price_unit)
    }

    /// Tokens per `audio_output_price`.
    pub fn audio_output_unit(&self) -> i64 {
        unit_or_default(self.audio_output_price_unit)
    }

    /// Tokens per `thinking_mode_output_price`: its own unit when set,
    /// otherwise the output unit (as AI Proxy does).
    pub fn thinking_mode_output_unit(&self) -> i64 {
        if self.thinking_mode_output_price_unit > 0 {
            self.thinking_mode_output_price_unit
        } else {
            self.output_unit()
        }
    }

    /// Tokens per `cached_price`.
    pub fn cached_unit(&self) -> i64 {
        unit_or_default(self.cached_price_unit)
    }

    /// Tokens per `cache_creation_price`.
    pub fn cache_creation_unit(&self) -> i64 {
        unit_or_default(self.cache_creation_price_unit)
    }

    /// Searches per `web_search_price`.
    pub fn web_search_unit(&self) -> i64 {
        unit_or_default(self.web_search_price_unit)
    }

    /// True when nothing is priced (a free model).
    pub fn is_free(&self) -> bool {
        let flat = Self {
            extra: Map::new(),
            ..self.clone()
        };
        flat == Self::default()
    }

    /// This price without its conditional alternatives.
    pub fn flattened(&self) -> Self {
        Self {
            conditional_prices: Vec::new(),
            ..self.clone()
        }
    }
}

/// The price a request was billed at: the base price or the selected
/// conditional price, with no conditional alternatives of its own. This is
/// what the log row stores as `price`; it serialises exactly like a
/// [`Price`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AppliedPrice {
    price: Price,
    /// Index into the model price's `conditional_prices` when one was
    /// selected; `None` for the base price. Not serialised.
    #[serde(skip)]
    pub conditional_index: Option<usize>,
}

impl AppliedPrice {
    /// Wrap `price` (its conditional alternatives are dropped).
    pub fn new(price: &Price, conditional_index: Option<usize>) -> Self {
        Self {
            price: price.flattened(),
            conditional_index,
        }
    }

    /// The flattened price.
    pub fn price(&self) -> &Price {
        &self.price
    }

    /// Unwrap into the flattened price.
    pub fn into_price(self) -> Price {
        self.price
    }
}

impl Deref for AppliedPrice {
    type Target = Price;

    fn deref(&self) -> &Price {
        &self.price
    }
}
