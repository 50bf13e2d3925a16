//! The amount formula: reference §6.4 vectors, AI Proxy's
//! `consume_test.go` cases, per-request prices and carve-out rules.

use serde_json::json;

use super::{d, price, usage};
use crate::billing::{UsageContext, compute};

/// Total of `compute` for a successful request with an empty context.
fn total(p: serde_json::Value, u: serde_json::Value) -> rust_decimal::Decimal {
    compute(&price(p), &usage(u), &UsageContext::default(), true)
        .amount
        .total()
}

#[test]
fn vector_simple_input_and_output() {
    let t = total(
        json!({"input_price": 0.001, "output_price": 0.002}),
        json!({"input_tokens": 1000, "output_tokens": 2000}),
    );
    assert_eq!(t, d("0.005"));
}

#[test]
fn vector_units_one_and_two() {
    let t = total(
        json!({"input_price": 0.001, "input_price_unit": 1, "output_price": 0.002, "output_price_unit": 2}),
        json!({"input_tokens": 1000, "output_tokens": 2000}),
    );
    assert_eq!(t, d("3"));
}

#[test]
fn vector_cached_and_cache_creation() {
    let charge = compute(
        &price(json!({"input_price": 0.01, "cache_creation_price": 0.1, "cached_price": 0.001})),
        &usage(json!({"input_tokens": 4000, "cache_creation_tokens": 1000, "cached_tokens": 2000})),
        &UsageContext::default(),
        true,
    );
    let a = charge.amount;
    assert_eq!(a.input, d("0.01"));
    assert_eq!(a.cache_creation, d("0.1"));
    assert_eq!(a.cached, d("0.002"));
    assert_eq!(a.total(), d("0.112"));
}

#[test]
fn vector_thinking_price_replaces_output_price_for_all_output() {
    let charge = compute(
        &price(json!({"output_price": 0.01, "thinking_mode_output_price": 0.03})),
        &usage(json!({"output_tokens": 2000, "reasoning_tokens": 1000})),
        &UsageContext::default(),
        true,
    );
    assert_eq!(charge.amount.output, d("0.06"));
    assert_eq!(charge.amount.total(), d("0.06"));
}

#[test]
fn vector_web_search() {
    let t = total(
        json!({"web_search_price": 0.5, "web_search_price_unit": 1}),
        json!({"web_search_count": 2}),
    );
    assert_eq!(t, d("1"));
}

#[test]
fn thinking_price_unused_without_reasoning_tokens() {
    let p = json!({"output_price": 0.01, "thinking_mode_output_price": 0.03});
    assert_eq!(total(p, json!({"output_tokens": 2000})), d("0.02"));
}

#[test]
fn reasoning_without_thinking_price_uses_output_price() {
    let p = json!({"output_price": 0.01});
    let u = json!({"output_tokens": 2000, "reasoning_tokens": 1000});
    assert_eq!(total(p, u), d("0.02"));
}

#[test]
fn thinking_unit_falls_back_to_output_unit_then_own_unit() {
    let u = json!({"output_tokens": 5000, "reasoning_tokens": 3000});
    let inherits =
        json!({"output_price": 0.002, "output_price_unit": 1, "thinking_mode_output_price": 0.006});
    assert_eq!(total(inherits, u.clone()), d("30"));
    let own = json!({"output_price": 0.002, "thinking_mode_output_price": 0.006, "thinking_mode_output_price_unit": 1});
    assert_eq!(total(own, u), d("30"));
}

#[test]
fn image_input_and_output_carve_outs() {
    let t = total(
        json!({"input_price": 0.001, "image_input_price": 0.003, "output_price": 0.004}),
        json!({"input_tokens": 2000, "image_input_tokens": 1000, "output_tokens": 3000}),
    );
    assert_eq!(t, d("0.016"));
    let t = total(
        json!({"input_price": 0.001, "output_price": 0.004, "image_output_price": 0.01}),
        json!({"input_tokens": 1000, "output_tokens": 3000, "image_output_tokens": 1000}),
    );
    assert_eq!(t, d("0.019"));
    let t = total(
        json!({"input_price": 0.005, "image_input_price": 0.008, "output_price": 0.01, "image_output_price": 0.032}),
        json!({"input_tokens": 1000, "image_input_tokens": 500, "output_tokens": 2000, "image_output_tokens": 1000}),
    );
    assert_eq!(t, d("0.0485"));
}

#[test]
fn audio_and_video_carve_outs() {
    let charge = compute(
        &price(json!({
            "input_price": 0.001, "audio_input_price": 0.01, "video_input_price": 0.02,
            "output_price": 0.002, "audio_output_price": 0.04
        })),
        &usage(json!({
            "input_tokens": 3000, "audio_input_tokens": 1000, "video_input_tokens": 1000,
            "output_tokens": 2000, "audio_output_tokens": 1000
        })),
        &UsageContext::default(),
        true,
    );
    let a = charge.amount;
    assert_eq!(
        (a.input, a.audio_input, a.video_input),
        (d("0.001"), d("0.01"), d("0.02"))
    );
    assert_eq!((a.output, a.audio_output), (d("0.002"), d("0.04")));
    assert_eq!(a.total(), d("0.073"));
}

#[test]
fn carve_outs_only_when_component_price_is_positive() {
    // No cached/cache-creation/image prices: those tokens stay in input
    // (billed once, at the input price) and have no amount of their own.
    let charge = compute(
        &price(json!({"input_price": 0.01, "output_price": 0.02})),
        &usage(json!({
            "input_tokens": 4000, "cached_tokens": 2000, "cache_creation_tokens": 1000,
            "image_input_tokens": 500, "output_tokens": 1000, "image_output_tokens": 400
        })),
        &UsageContext::default(),
        true,
    );
    let a = charge.amount;
    assert_eq!(a.input, d("0.04"));
    assert_eq!(a.output, d("0.02"));
    assert!(a.cached.is_zero() && a.cache_creation.is_zero() && a.image_input.is_zero());
    assert!(a.image_output.is_zero());
    assert_eq!(a.total(), d("0.06"));
}

#[test]
fn inconsistent_usage_never_produces_negative_amounts() {
    let charge = compute(
        &price(json!({"input_price": 0.01, "cached_price": 0.001})),
        &usage(json!({"input_tokens": 100, "cached_tokens": 300})),
        &UsageContext::default(),
        true,
    );
    assert!(charge.amount.input.is_zero());
    assert_eq!(charge.amount.total(), d("0.0003"));
}

#[test]
fn per_request_price_charged_only_on_success_and_ignores_tokens() {
    let p = price(json!({"per_request_price": 2.5, "input_price": 1, "output_price": 1}));
    let u = usage(json!({"input_tokens": 1000, "output_tokens": 500}));
    let ok = compute(&p, &u, &UsageContext::default(), true);
    assert_eq!(ok.amount.per_request, d("2.5"));
    assert_eq!(ok.amount.total(), d("2.5"));
    assert!((ok.used_amount() - 2.5).abs() < f64::EPSILON);
    let failed = compute(&p, &u, &UsageContext::default(), false);
    assert!(failed.amount.is_zero());
    assert_eq!(failed.price.per_request_price, d("2.5"));
}

#[test]
fn token_prices_charge_failed_requests_by_usage() {
    let p = price(json!({"input_price": 0.001}));
    let charge = compute(
        &p,
        &usage(json!({"input_tokens": 1000})),
        &UsageContext::default(),
        false,
    );
    assert_eq!(charge.amount.total(), d("0.001"));
}

#[test]
fn base_per_request_price_wins_over_conditional_prices() {
    let p = price(json!({
        "per_request_price": 1,
        "conditional_prices": [{"condition": {"service_tier": "flex"}, "price": {"input_price": 5}}]
    }));
    let ctx = UsageContext {
        service_tier: "flex".into(),
        ..UsageContext::default()
    };
    let charge = compute(&p, &usage(json!({"input_tokens": 1000})), &ctx, true);
    assert_eq!(charge.amount.total(), d("1"));
    assert_eq!(charge.price.conditional_index, None);
    assert!(charge.price.conditional_prices.is_empty());
}

#[test]
fn selected_conditional_per_request_price_is_honoured() {
    let p = price(json!({
        "input_price": 0.001,
        "conditional_prices": [{"condition": {"quality": ["hd"]}, "price": {"per_request_price": 0.08}}]
    }));
    let ctx = UsageContext {
        quality: "hd".into(),
        ..UsageContext::default()
    };
    let u = usage(json!({"input_tokens": 1000}));
    assert_eq!(compute(&p, &u, &ctx, true).amount.total(), d("0.08"));
    assert!(compute(&p, &u, &ctx, false).amount.is_zero());
}

#[test]
fn conditional_token_ranges_vectors() {
    let tiers = json!({
        "input_price": 0.001, "output_price": 0.002,
        "conditional_prices": [
            {"condition": {"input_token_max": 32000, "output_token_max": 200},
             "price": {"input_price": 0.0008, "output_price": 0.002}},
            {"condition": {"input_token_max": 32000, "output_token_min": 201, "output_token_max": 16000},
             "price": {"input_price": 0.0008, "output_price": 0.008}},
            {"condition": {"input_token_min": 32001, "input_token_max": 128000},
             "price": {"input_price": 0.0012, "output_price": 0.016,
                       "cached_price": 0.00016, "cache_creation_price": 0.000017}},
            {"condition": {"input_token_min": 128001, "input_token_max": 256000},
             "price": {"input_price": 0.0024, "output_price": 0.024}}
        ]
    });
    let cases = [
        (
            json!({"input_tokens": 20000, "output_tokens": 100}),
            "0.0162",
        ),
        (
            json!({"input_tokens": 80000, "output_tokens": 5000}),
            "0.176",
        ),
        (
            json!({"input_tokens": 200000, "output_tokens": 10000}),
            "0.72",
        ),
        (
            json!({"input_tokens": 50000, "output_tokens": 2000, "cached_tokens": 10000, "cache_creation_tokens": 5000}),
            "0.075685",
        ),
        (
            json!({"input_tokens": 30000, "output_tokens": 3000, "reasoning_tokens": 1000}),
            "0.048",
        ),
        (
            json!({"input_tokens": 500000, "output_tokens": 1000}),
            "0.502",
        ),
    ];
    for (u, want) in cases {
        assert_eq!(total(tiers.clone(), u.clone()), d(want), "usage {u}");
    }
}

#[test]
fn applied_price_is_the_flattened_selected_price() {
    let p = price(json!({
        "input_price": 0.001,
        "conditional_prices": [{"condition": {"input_token_min": 256000}, "price": {"input_price": 0.0024, "output_price": 0.024}}]
    }));
    let charge = compute(
        &p,
        &usage(json!({"input_tokens": 500000, "output_tokens": 1000})),
        &UsageContext::default(),
        true,
    );
    assert_eq!(charge.amount.total(), d("1.224"));
    assert_eq!(charge.price.conditional_index, Some(0));
    assert_eq!(charge.price.input_price, d("0.0024"));
    assert!(charge.price.conditional_prices.is_empty());
}

#[test]
fn free_model_costs_nothing() {
    let charge = compute(
        &price(json!({})),
        &usage(json!({"input_tokens": 10, "output_tokens": 10})),
        &UsageContext::default(),
        true,
    );
    assert!(charge.amount.is_zero());
    assert!(charge.price.is_free());
}

#[test]
fn huge_usage_saturates_instead_of_panicking() {
    let p = price(json!({"input_price": "79228162514264337593543950335", "input_price_unit": 1}));
    let charge = compute(
        &p,
        &usage(json!({"input_tokens": i64::MAX})),
        &UsageContext::default(),
        true,
    );
    assert_eq!(charge.amount.input, rust_decimal::Decimal::MAX);
}
