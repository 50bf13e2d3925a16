//! JSON shapes: AI Proxy price objects in (numbers, numeric strings,
//! nulls, unknown fields) and out (numbers, zero fields omitted); the log
//! `amount` object; the usage context.

use serde_json::json;

use super::{d, price, usage};
use crate::billing::{Amount, Price, UsageContext, compute};

#[test]
fn aiproxy_price_json_round_trips_as_numbers() {
    let input = json!({
        "input_price": 0.0025, "output_price": 0.01, "cached_price": 0.00125,
        "input_price_unit": 1000000, "web_search_price": 0.01, "web_search_price_unit": 1,
        "conditional_prices": [{
            "condition": {
                "input_token_min": 1, "input_token_max": 200000, "output_token_max": 4096,
                "start_time": 1700000000, "end_time": 1800000000,
                "resolution": ["1024x1024"], "quality": ["hd"], "service_tier": "flex",
                "input_media": true, "input_video": false, "output_audio": true
            },
            "price": {"input_price": 0.00125, "thinking_mode_output_price": 0.035}
        }]
    });
    let p = price(input.clone());
    assert_eq!(p.input_price, d("0.0025"));
    assert_eq!(p.cached_price, d("0.00125"));
    assert_eq!(p.input_price_unit, 1_000_000);
    assert_eq!(p.conditional_prices[0].condition.output_audio, Some(true));
    assert_eq!(serde_json::to_value(&p).unwrap(), input);
}

#[test]
fn numeric_strings_and_nulls_are_accepted_and_written_as_numbers() {
    let p = price(json!({
        "input_price": "0.001", "input_price_unit": "1", "output_price": " 2 ",
        "cached_price": null, "cached_price_unit": null, "image_input_price": "",
        "audio_input_price": "1e-3", "output_price_unit": 500.0
    }));
    assert_eq!(p.input_price, d("0.001"));
    assert_eq!(p.audio_input_price, d("0.001"));
    assert_eq!(p.output_price_unit, 500);
    let text = serde_json::to_string(&p).unwrap();
    assert_eq!(
        text,
        r#"{"input_price":0.001,"input_price_unit":1,"audio_input_price":0.001,"output_price":2,"output_price_unit":500}"#
    );
}

#[test]
fn float_prices_are_read_exactly() {
    // 0.1 + 0.2 in binary floating point is 0.30000000000000004.
    let p = price(json!({"input_price": 0.1, "output_price": 0.2}));
    assert_eq!(p.input_price + p.output_price, d("0.3"));
}

#[test]
fn bad_numbers_are_rejected() {
    for bad in [
        json!({"input_price": "cheap"}),
        json!({"input_price_unit": 1.5}),
        json!({"input_price": true}),
        json!({"conditional_prices": [{"condition": {"input_token_min": "many"}, "price": {}}]}),
    ] {
        assert!(
            serde_json::from_value::<Price>(bad.clone()).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn unknown_fields_survive() {
    let input = json!({
        "input_price": 1,
        "future_price": {"x": 1},
        "conditional_prices": [{"condition": {"region": "eu"}, "price": {"note": "promo"}}]
    });
    let p = price(input.clone());
    assert!(p.extra.contains_key("future_price"));
    assert_eq!(serde_json::to_value(&p).unwrap(), input);
}

#[test]
fn amount_serialises_as_aiproxy_log_amount() {
    let charge = compute(
        &price(json!({"input_price": 0.01, "cache_creation_price": 0.1, "cached_price": 0.001})),
        &usage(json!({"input_tokens": 4000, "cache_creation_tokens": 1000, "cached_tokens": 2000})),
        &UsageContext::default(),
        true,
    );
    let v = serde_json::to_value(charge.amount).unwrap();
    assert_eq!(
        v,
        json!({"input_amount": 0.01, "cached_amount": 0.002, "cache_creation_amount": 0.1, "used_amount": 0.112})
    );
    let back: Amount = serde_json::from_value(v).unwrap();
    assert_eq!(back, charge.amount);
    assert!((charge.used_amount() - 0.112).abs() < 1e-12);
}

#[test]
fn aiproxy_amount_with_only_used_amount_keeps_its_total() {
    let back: Amount = serde_json::from_value(json!({"used_amount": 2.5})).unwrap();
    assert_eq!(back.per_request, d("2.5"));
    assert_eq!(back.total(), d("2.5"));
    let per_request = compute(
        &price(json!({"per_request_price": 2.5})),
        &usage(json!({})),
        &UsageContext::default(),
        true,
    );
    assert_eq!(
        serde_json::to_value(per_request.amount).unwrap(),
        json!({"per_request_amount": 2.5, "used_amount": 2.5})
    );
}

#[test]
fn charge_serialises_the_flattened_price() {
    let p = price(json!({
        "input_price": 1,
        "conditional_prices": [{"condition": {"service_tier": "flex"}, "price": {"input_price": 0.5}}]
    }));
    let ctx = UsageContext {
        service_tier: "flex".into(),
        ..UsageContext::default()
    };
    let charge = compute(&p, &usage(json!({"input_tokens": 1000})), &ctx, true);
    assert_eq!(
        serde_json::to_value(&charge).unwrap(),
        json!({"price": {"input_price": 0.5}, "amount": {"input_amount": 0.5, "used_amount": 0.5}})
    );
}

#[test]
fn usage_context_uses_aiproxy_names_without_the_time() {
    let ctx = UsageContext {
        service_tier: "flex".into(),
        resolution: "1024x1024".into(),
        native_resolution: "1024x1024".into(),
        quality: "hd".into(),
        input_media: Some(true),
        input_video: None,
        output_audio: Some(false),
        at_unix_secs: 1_700_000_000,
    };
    assert_eq!(
        serde_json::to_value(&ctx).unwrap(),
        json!({
            "service_tier": "flex", "resolution": "1024x1024", "native_resolution": "1024x1024",
            "quality": "hd", "input_media": true, "output_audio": false
        })
    );
}
