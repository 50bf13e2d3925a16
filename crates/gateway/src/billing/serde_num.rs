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
    use super::{Decimal, DecimalVisitor, Deserializer, Serializer};

    /// Write `value` as a JSON number: an integer when it has no fraction
    /// (`1`, not `1.0`), otherwise the `f64` nearest to its decimal text
    /// (so `0.112` is written `0.112`).
    pub fn serialize<S: Serializer>(value: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
        match super::integral_i64(*value) {
            Some(int) => serializer.serialize_i64(int),
            None => serializer.serialize_f64(super::decimal_to_f64(*value)),
        }
    }

    /// Read a JSON number, a numeric string or `null` (zero).
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Decimal, D::Error> {
        deserializer.deserialize_any(DecimalVisitor)
    }
}

/// `value` as an `i64` when it has no fraction and fits. Zero and whole
/// numbers of scale 0 (most amounts and prices) are answered without any
/// division; `Decimal::fract` would build two more decimals each time.
fn integral_i64(value: Decimal) -> Option<i64> {
    let mantissa = value.mantissa();
    if value.scale() == 0 || mantissa == 0 {
        return i64::try_from(mantissa).ok();
    }
    value.is_integer().then(|| value.to_i64()).flatten()
}

/// The `f64` nearest to `value` (correctly rounded through its decimal
/// text), for JSON output and float counters; never used in arithmetic.
pub fn decimal_to_f64(value: Decimal) -> f64 {
    // Exact fast path (Clinger's): a mantissa below 2^53 and a power of ten
    // up to 10^22 are both exact doubles, and one IEEE division of exact
    // operands is correctly rounded — the same double the text gives.
    const EXACT_MANTISSA: i128 = 1 << 53;
    const POWERS_OF_TEN: [f64; 23] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
        1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ];
    let mantissa = value.mantissa();
    if let Some(&power) = POWERS_OF_TEN.get(value.scale() as usize)
        && mantissa.abs() < EXACT_MANTISSA
    {
        return mantissa as f64 / power;
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_to_f64_matches_the_decimal_text() {
        for text in [
            "0",
            "1",
            "-1",
            "0.1",
            "0.112",
            "0.000001",
            "123456.789012",
            "0.30000000000000004",
            "9007199254740991",
            "9007199254740993",
            "-0.0000000000000000000000000001",
            "79228162514264337593543950335",
            "1.0000000000000000000000000001",
            "3.3333333333333333333333333333",
        ] {
            let value = Decimal::from_str(text).unwrap();
            let expected = value.normalize().to_string().parse::<f64>().unwrap();
            assert_eq!(decimal_to_f64(value), expected, "{text}");
        }
    }

    #[test]
    fn whole_decimals_are_written_as_integers() {
        #[derive(serde::Serialize)]
        struct Wrapped(#[serde(with = "decimal")] Decimal);
        for (text, json) in [
            ("0", "0"),
            ("0.000", "0"),
            ("-0.0", "0"),
            ("5", "5"),
            ("5.00", "5"),
            ("-3.0", "-3"),
            ("5.5", "5.5"),
            ("0.015", "0.015"),
            ("-0.25", "-0.25"),
            ("9223372036854775807", "9223372036854775807"),
            ("9223372036854775808", "9.223372036854776e+18"),
            ("10000000000000000000.0", "1e+19"),
        ] {
            let value = Decimal::from_str(text).unwrap();
            let written = serde_json::to_string(&Wrapped(value)).unwrap();
            assert_eq!(written, json, "{text}");
        }
    }
}
