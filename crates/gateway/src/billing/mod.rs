//! Billing: model prices, conditional price selection, and the amount a
//! request costs (reference §6, issue 5 "Pricing and amounts").
//!
//! Place in the request path: **accounting**, after the final upstream
//! attempt. The relay resolves the effective price ([`effective_price`]:
//! the model config's, or the group's override), builds a [`UsageContext`]
//! and calls [`compute`] with the normalised usage; the [`Charge`] it gets
//! back holds the flattened [`AppliedPrice`] and the per-component
//! [`Amount`] that the log row stores. The admin API calls
//! [`Price::validate`] when a price is saved. Nothing here does I/O.
//!
//! - [`price`]: the `price` JSON object and the applied (flattened) price;
//! - [`conditions`]: conditions, the usage context, matching helpers;
//! - [`select`]: most-specific-match selection with fuzzy resolution tiers;
//! - [`validate`]: save-time rules;
//! - [`amount`]: the amount formula and the log `amount` object;
//! - [`serde_num`]: numbers-or-numeric-strings in, numbers out.

pub mod amount;
pub mod conditions;
pub mod price;
pub mod select;
pub mod serde_num;
pub mod validate;

#[cfg(test)]
mod tests;

pub use amount::{Amount, Charge, compute};
pub use conditions::{PriceCondition, UsageContext};
pub use price::{AppliedPrice, ConditionalPrice, DEFAULT_PRICE_UNIT, Price};
pub use select::SelectOptions;

/// Read a model config's `price` object, checking it as the admin API does.
pub fn parse_price(
    object: &serde_json::Map<String, serde_json::Value>,
) -> Result<Price, crate::model::FieldError> {
    let price: Price = serde_json::from_value(serde_json::Value::Object(object.clone()))
        .map_err(|e| crate::model::FieldError::new("price", e))?;
    price.validate()?;
    Ok(price)
}

/// The price that applies to a group's requests: the group's own price when
/// its model config override says `override_price`, otherwise the model's.
/// The override replaces the whole price object (conditional prices
/// included), as in AI Proxy.
pub fn effective_price<'a>(
    model_price: &'a Price,
    group_override: Option<(&'a Price, bool)>,
) -> &'a Price {
    match group_override {
        Some((group_price, true)) => group_price,
        _ => model_price,
    }
}
