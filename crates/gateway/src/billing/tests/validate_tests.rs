//! Save-time validation: each rule, with the field path in the message.

use serde_json::{Value, json};

use super::price;

/// The validation message for a price with these conditions (each given
/// the price `{"input_price": 1}`), or `None` when valid.
fn check_conditions(conditions: &[Value]) -> Option<String> {
    let entries: Vec<Value> = conditions
        .iter()
        .map(|c| json!({"condition": c, "price": {"input_price": 1}}))
        .collect();
    check(json!({"conditional_prices": entries}))
}

fn check(json: Value) -> Option<String> {
    price(json).validate().err().map(|e| e.to_string())
}

#[track_caller]
fn assert_names(message: Option<String>, path: &str) {
    let message = message.unwrap_or_else(|| panic!("expected an error naming {path}"));
    assert!(
        message.contains(&format!("`{path}`")),
        "{message} should name {path}"
    );
}

#[test]
fn valid_prices_pass() {
    assert_eq!(check(json!({})), None);
    assert_eq!(
        check(json!({"input_price": 0.001, "output_price": "0.002", "conditional_prices": null})),
        None
    );
    // AI Proxy's doubao-seed-1.6 tiers.
    let tiers = [
        json!({"input_token_max": 32000, "output_token_max": 200}),
        json!({"input_token_max": 32000, "output_token_min": 201, "output_token_max": 16000}),
        json!({"input_token_min": 32001, "input_token_max": 128000}),
        json!({"input_token_min": 128001, "input_token_max": 256000}),
    ];
    assert_eq!(check_conditions(&tiers), None);
}

#[test]
fn unknown_service_tier_is_rejected() {
    let message = check_conditions(&[json!({"service_tier": "turbo"})]);
    assert_names(
        message.clone(),
        "price.conditional_prices[0].condition.service_tier",
    );
    assert!(message.unwrap_or_default().contains("turbo"));
    for tier in ["auto", "default", "flex", "scale", "priority", " Flex "] {
        assert_eq!(
            check_conditions(&[json!({"service_tier": tier})]),
            None,
            "{tier}"
        );
    }
}

#[test]
fn token_min_above_max_is_rejected() {
    let conditions = [
        json!({"service_tier": "flex"}),
        json!({"service_tier": "scale"}),
        json!({"input_token_min": 32000, "input_token_max": 1000}),
    ];
    assert_names(
        check_conditions(&conditions),
        "price.conditional_prices[2].condition.input_token_min",
    );
    assert_names(
        check_conditions(&[json!({"output_token_min": 1000, "output_token_max": 500})]),
        "price.conditional_prices[0].condition.output_token_min",
    );
    // min == max is a one-value range; min with unbounded max is fine.
    assert_eq!(
        check_conditions(&[json!({"input_token_min": 5, "input_token_max": 5})]),
        None
    );
    assert_eq!(check_conditions(&[json!({"input_token_min": 5})]), None);
}

#[test]
fn start_not_before_end_is_rejected() {
    assert_names(
        check_conditions(&[json!({"start_time": 2000, "end_time": 1000})]),
        "price.conditional_prices[0].condition.start_time",
    );
    assert_names(
        check_conditions(&[json!({"start_time": 1000, "end_time": 1000})]),
        "price.conditional_prices[0].condition.start_time",
    );
    assert_eq!(
        check_conditions(&[json!({"start_time": 1000, "end_time": 1001})]),
        None
    );
}

#[test]
fn negative_numbers_are_rejected() {
    assert_names(check(json!({"input_price": -0.1})), "price.input_price");
    assert_names(
        check(json!({"cached_price_unit": -1})),
        "price.cached_price_unit",
    );
    assert_names(
        check(json!({"conditional_prices": [{"condition": {}, "price": {"output_price": "-1"}}]})),
        "price.conditional_prices[0].price.output_price",
    );
    assert_names(
        check_conditions(&[json!({"end_time": -5})]),
        "price.conditional_prices[0].condition.end_time",
    );
}

#[test]
fn nested_conditional_prices_are_rejected() {
    let nested = json!({"conditional_prices": [{
        "condition": {"service_tier": "flex"},
        "price": {"conditional_prices": [{"condition": {}, "price": {}}]}
    }]});
    assert_names(
        check(nested),
        "price.conditional_prices[0].price.conditional_prices",
    );
}

#[test]
fn overlapping_conditions_of_equal_specificity_are_rejected() {
    let overlapping = [
        json!({"input_token_max": 32000, "output_token_max": 500}),
        json!({"input_token_min": 20000, "output_token_max": 1000}),
    ];
    let message = check_conditions(&overlapping);
    assert_names(message.clone(), "price.conditional_prices[1].condition");
    assert!(
        message
            .unwrap_or_default()
            .contains("conditional_prices[0]")
    );
    // Wildcards overlap everything: a tier-only and a quality-only condition.
    assert_names(
        check_conditions(&[json!({"service_tier": "flex"}), json!({"quality": ["hd"]})]),
        "price.conditional_prices[1].condition",
    );
    // Same resolution after normalisation.
    assert_names(
        check_conditions(&[
            json!({"resolution": ["1024x1024"]}),
            json!({"resolution": ["1024 × 1024", "512x512"]}),
        ]),
        "price.conditional_prices[1].condition",
    );
    // Overlapping time windows.
    assert_names(
        check_conditions(&[
            json!({"start_time": 100, "end_time": 300}),
            json!({"start_time": 200, "end_time": 400}),
        ]),
        "price.conditional_prices[1].condition",
    );
}

#[test]
fn non_overlapping_or_differently_specific_conditions_pass() {
    let valid: [&[Value]; 7] = [
        // Different specificity: the more specific one wins at run time.
        &[
            json!({"service_tier": "flex"}),
            json!({"service_tier": "flex", "quality": ["hd"]}),
        ],
        // Disjoint token ranges.
        &[
            json!({"input_token_max": 32000}),
            json!({"input_token_min": 32001}),
        ],
        // Adjacent time windows.
        &[
            json!({"start_time": 100, "end_time": 200}),
            json!({"start_time": 200, "end_time": 300}),
        ],
        // Different service tiers.
        &[
            json!({"service_tier": "flex"}),
            json!({"service_tier": "priority"}),
        ],
        // Disjoint resolutions and qualities.
        &[
            json!({"resolution": ["1024x1024"]}),
            json!({"resolution": ["1792x1024"]}),
        ],
        &[json!({"quality": ["hd"]}), json!({"quality": ["standard"]})],
        // Opposite media flags.
        &[json!({"input_video": true}), json!({"input_video": false})],
    ];
    for conditions in valid {
        assert_eq!(check_conditions(conditions), None, "{conditions:?}");
    }
}
