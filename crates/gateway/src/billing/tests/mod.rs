//! Unit tests of billing: the reference §6.4 vectors and AI Proxy's
//! `consume_test.go` cases ([`amount_tests`]), conditional selection
//! ([`select_tests`]), save-time validation ([`validate_tests`]), the JSON
//! shapes ([`serde_tests`]) and usage arriving through each protocol
//! ([`protocol_tests`]).

mod amount_tests;
mod protocol_tests;
mod select_tests;
mod serde_tests;
mod validate_tests;

use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::Value;
use switchyard_protocol::Usage;

use super::Price;

/// A decimal from text (exact).
pub(super) fn d(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

/// A price from AI Proxy JSON.
pub(super) fn price(json: Value) -> Price {
    serde_json::from_value(json).unwrap()
}

/// A usage with the given counters, via JSON (the protocol crate's field
/// names); total is left 0.
pub(super) fn usage(json: Value) -> Usage {
    serde_json::from_value(json).unwrap()
}
