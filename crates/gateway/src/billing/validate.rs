//! Save-time validation of a price (reference §6.2).
//!
//! Runs when a model config or group override is written through the admin
//! API, never per request. Rejects negative prices, units, bounds and
//! times; unknown service tiers; `min > max` token ranges; `start >= end`
//! time windows; nested conditional prices; and two conditional prices of
//! equal specificity whose conditions overlap (the later one could never be
//! chosen, since ties keep the first). Each error names the field path,
//! e.g. `price.conditional_prices[2].condition.input_token_min`.

use rust_decimal::Decimal;

use super::conditions::{
    PriceCondition, SERVICE_TIERS, normalize_all, normalize_quality, normalize_resolution,
    normalize_service_tier,
};
use super::price::Price;
use crate::model::FieldError;

impl Price {
    /// Check the price as a client wrote it; paths start at `price`.
    pub fn validate(&self) -> Result<(), FieldError> {
        self.validate_at("price")
    }

    /// [`Price::validate`] with paths starting at `root`.
    pub fn validate_at(&self, root: &str) -> Result<(), FieldError> {
        check_amounts(self, root)?;
        for (i, cp) in self.conditional_prices.iter().enumerate() {
            let at = format!("{root}.conditional_prices[{i}]");
            check_condition(&cp.condition, &format!("{at}.condition"))?;
            check_amounts(&cp.price, &format!("{at}.price"))?;
            if !cp.price.conditional_prices.is_empty() {
                return Err(FieldError::new(
                    &format!("{at}.price.conditional_prices"),
                    "must be empty: conditional prices do not nest",
                ));
            }
        }
        for (j, later) in self.conditional_prices.iter().enumerate() {
            for (i, earlier) in self.conditional_prices.iter().enumerate().take(j) {
                if earlier.condition.specificity() == later.condition.specificity()
                    && overlaps(&earlier.condition, &later.condition)
                {
                    return Err(FieldError::new(
                        &format!("{root}.conditional_prices[{j}].condition"),
                        format!(
                            "overlaps {root}.conditional_prices[{i}].condition with the same \
                             specificity, so it could never be selected"
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Prices and units of one price object (not its conditional prices).
fn check_amounts(price: &Price, root: &str) -> Result<(), FieldError> {
    let prices: [(&str, Decimal); 12] = [
        ("per_request_price", price.per_request_price),
        ("input_price", price.input_price),
        ("image_input_price", price.image_input_price),
        ("audio_input_price", price.audio_input_price),
        ("video_input_price", price.video_input_price),
        ("output_price", price.output_price),
        ("image_output_price", price.image_output_price),
        ("audio_output_price", price.audio_output_price),
        (
            "thinking_mode_output_price",
            price.thinking_mode_output_price,
        ),
        ("cached_price", price.cached_price),
        ("cache_creation_price", price.cache_creation_price),
        ("web_search_price", price.web_search_price),
    ];
    for (field, value) in prices {
        if value.is_sign_negative() && !value.is_zero() {
            return Err(FieldError::new(
                &format!("{root}.{field}"),
                "must not be negative",
            ));
        }
    }
    let units: [(&str, i64); 11] = [
        ("input_price_unit", price.input_price_unit),
        ("image_input_price_unit", price.image_input_price_unit),
        ("audio_input_price_unit", price.audio_input_price_unit),
        ("video_input_price_unit", price.video_input_price_unit),
        ("output_price_unit", price.output_price_unit),
        ("image_output_price_unit", price.image_output_price_unit),
        ("audio_output_price_unit", price.audio_output_price_unit),
        (
            "thinking_mode_output_price_unit",
            price.thinking_mode_output_price_unit,
        ),
        ("cached_price_unit", price.cached_price_unit),
        ("cache_creation_price_unit", price.cache_creation_price_unit),
        ("web_search_price_unit", price.web_search_price_unit),
    ];
    for (field, value) in units {
        if value < 0 {
            return Err(FieldError::new(
                &format!("{root}.{field}"),
                "must not be negative (0 means 1000)",
            ));
        }
    }
    Ok(())
}

/// One condition on its own.
fn check_condition(c: &PriceCondition, at: &str) -> Result<(), FieldError> {
    let tier = normalize_service_tier(&c.service_tier);
    if !tier.is_empty() && !SERVICE_TIERS.contains(&tier.as_str()) {
        return Err(FieldError::new(
            &format!("{at}.service_tier"),
            format!(
                "{:?} is not a service tier (allowed: {})",
                c.service_tier,
                SERVICE_TIERS.join(", ")
            ),
        ));
    }
    for (field, value) in [
        ("input_token_min", c.input_token_min),
        ("input_token_max", c.input_token_max),
        ("output_token_min", c.output_token_min),
        ("output_token_max", c.output_token_max),
        ("start_time", c.start_time),
        ("end_time", c.end_time),
    ] {
        if value < 0 {
            return Err(FieldError::new(
                &format!("{at}.{field}"),
                "must not be negative (0 means unbounded)",
            ));
        }
    }
    for (kind, min, max) in [
        ("input_token", c.input_token_min, c.input_token_max),
        ("output_token", c.output_token_min, c.output_token_max),
    ] {
        if min > 0 && max > 0 && min > max {
            return Err(FieldError::new(
                &format!("{at}.{kind}_min"),
                format!("({min}) must not be greater than {kind}_max ({max})"),
            ));
        }
    }
    if c.start_time > 0 && c.end_time > 0 && c.start_time >= c.end_time {
        return Err(FieldError::new(
            &format!("{at}.start_time"),
            format!(
                "({}) must be before end_time ({})",
                c.start_time, c.end_time
            ),
        ));
    }
    Ok(())
}

/// Whether some request could match both conditions.
fn overlaps(a: &PriceCondition, b: &PriceCondition) -> bool {
    let tier_a = normalize_service_tier(&a.service_tier);
    let tier_b = normalize_service_tier(&b.service_tier);
    let tiers = tier_a.is_empty() || tier_b.is_empty() || tier_a == tier_b;
    tiers
        && sets_overlap(
            &normalize_all(&a.resolution, normalize_resolution),
            &normalize_all(&b.resolution, normalize_resolution),
        )
        && sets_overlap(
            &normalize_all(&a.quality, normalize_quality),
            &normalize_all(&b.quality, normalize_quality),
        )
        && flag_overlap(a.input_media, b.input_media)
        && flag_overlap(a.input_video, b.input_video)
        && flag_overlap(a.output_audio, b.output_audio)
        && ranges_overlap(
            (a.input_token_min, a.input_token_max),
            (b.input_token_min, b.input_token_max),
        )
        && ranges_overlap(
            (a.output_token_min, a.output_token_max),
            (b.output_token_min, b.output_token_max),
        )
        && times_overlap((a.start_time, a.end_time), (b.start_time, b.end_time))
}

/// Empty means "any", so it overlaps everything.
fn sets_overlap(a: &[String], b: &[String]) -> bool {
    a.is_empty() || b.is_empty() || a.iter().any(|v| b.contains(v))
}

fn flag_overlap(a: Option<bool>, b: Option<bool>) -> bool {
    a.is_none() || b.is_none() || a == b
}

/// Inclusive token ranges, 0 = unbounded.
fn ranges_overlap((min_a, max_a): (i64, i64), (min_b, max_b): (i64, i64)) -> bool {
    let max_a = if max_a > 0 { max_a } else { i64::MAX };
    let max_b = if max_b > 0 { max_b } else { i64::MAX };
    max_a >= min_b && min_a <= max_b
}

/// Time windows, 0 = unbounded; adjacent windows (`end == start`) do not
/// overlap, as in AI Proxy.
fn times_overlap((start_a, end_a): (i64, i64), (start_b, end_b): (i64, i64)) -> bool {
    let end_a = if end_a > 0 { end_a } else { i64::MAX };
    let end_b = if end_b > 0 { end_b } else { i64::MAX };
    end_a > start_b && start_a < end_b
}
