//! Lenient number (de)serialisers for price JSON.
//!
//! AI Proxy clients send prices as JSON numbers, some tools as numeric
//! strings, and Go writes `null` for an unset `ZeroNull*` field. Everything in
//! [`super::price`] and [`super::conditions`] reads through these helpers, so
//! `0.001`, `"0.001"` and `null` (as zero) are all accepted, and writes JSON
//! numbers back out. Nothing here is on the per-request path: prices are
//! parsed when a model config is loaded or saved.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::de::{self, Visitor};
use serde::{Deserializer, Serializer};

/// Serde `with` module for a [`Decimal`] money or price field.
pub mod decimal {
    use super::{Decimal, DecimalVisitor, Deserializer, Serializer, ToPrimitive};

    /// Write `value` as a JSON number: an integer when it has no fraction
    /// (`1`, not `1.0`), otherwise the `f64` nearest to its decimal text
    /// (so `0.112` is written `0.112`).
    pub fn serialize<S: Serializer>(value: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
        if value.fract().is_zero()
            && let Some(int) = value.to_i64()
        {
            return serializer.serialize_i64(int);
        }
        serializer.serialize_f64(super::decimal_to_f64(*value))
    }

    /// Read a JSON number, a numeric string or `null` (zero).
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Decimal, D::Error> {
        deserializer.deserialize_any(DecimalVisitor)
    }
}

/// The `f64` nearest to `value` (correctly rounded through its decimal
/// text), for JSON output and float counters; never used in arithmetic.
pub fn decimal_to_f64(value: Decimal) -> f64 {
    value
        .normalize()
        .to_string()
        .parse::<f64>()
        .ok()
        .or_else(|| value.to_f64())
        .unwrap_or_default()
}

/// Serde `with` module for an integer field (units, token bounds, times).
pub mod int {
    use super::{Deserializer, IntVisitor, Serializer};

    /// Write the integer as a JSON number.
    pub fn serialize<S: Serializer>(value: &i64, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_i64(*value)
    }

    /// Read a JSON integer, an integral float, a numeric string or `null`
    /// (zero).
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
        deserializer.deserialize_any(IntVisitor)
    }
}

/// Read a list that may be `null` (Go's nil slice) as empty.
pub fn null_as_empty<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    let value: Option<Vec<T>> = serde::Deserialize::deserialize(deserializer)?;
    Ok(value.unwrap_or_default())
}

/// Read a string that may be `null` as empty.
pub fn null_as_empty_string<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<String, D::Error> {
    let value: Option<String> = serde::Deserialize::deserialize(deserializer)?;
    Ok(value.unwrap_or_default())
}

/// Skip-serialising predicate for zero integers.
pub fn is_zero_int(value: &i64) -> bool {
    *value == 0
}

/// Skip-serialising predicate for zero decimals.
pub fn is_zero_decimal(value: &Decimal) -> bool {
    value.is_zero()
}

/// Parse a decimal from text, accepting plain (`0.001`) and scientific
/// (`1e-3`) notation; blank text is zero.
fn parse_decimal(text: &str) -> Option<Decimal> {
    let text = text.trim();
    if text.is_empty() {
        return Some(Decimal::ZERO);
    }
    Decimal::from_str(text)
        .ok()
        .or_else(|| Decimal::from_scientific(text).ok())
}

struct DecimalVisitor;

impl<'de> Visitor<'de> for DecimalVisitor {
    type Value = Decimal;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a number, a numeric string or null")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Decimal, E> {
        Ok(Decimal::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Decimal, E> {
        Ok(Decimal::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Decimal, E> {
        // `f64`'s `Display` is the shortest text that reads back as the same
        // float, so `0.001` becomes exactly 0.001 rather than the binary
        // approximation's 0.001000000000000000020816681711...
        parse_decimal(&v.to_string())
            .ok_or_else(|| E::custom(format!("{v} is out of range for a price")))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal, E> {
        parse_decimal(v).ok_or_else(|| E::custom(format!("{v:?} is not a number")))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Decimal, E> {
        Ok(Decimal::ZERO)
    }

    fn visit_none<E: de::Error>(self) -> Result<Decimal, E> {
        Ok(Decimal::ZERO)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Decimal, D::Error> {
        d.deserialize_any(self)
    }
}

struct IntVisitor;

impl<'de> Visitor<'de> for IntVisitor {
    type Value = i64;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an integer, an integer string or null")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
        Ok(v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
        i64::try_from(v).map_err(|_| E::custom(format!("{v} is too large")))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<i64, E> {
        let text = v.to_string();
        text.parse::<i64>()
            .map_err(|_| E::custom(format!("{v} is not an integer")))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<i64, E> {
        let t = v.trim();
        if t.is_empty() {
            return Ok(0);
        }
        t.parse::<i64>()
            .map_err(|_| E::custom(format!("{v:?} is not an integer")))
    }

    fn visit_unit<E: de::Error>(self) -> Result<i64, E> {
        Ok(0)
    }

    fn visit_none<E: de::Error>(self) -> Result<i64, E> {
        Ok(0)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<i64, D::Error> {
        d.deserialize_any(self)
    }
}
