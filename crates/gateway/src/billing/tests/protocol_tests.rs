//! Usage arriving through each protocol, normalised by
//! `switchyard_protocol` and priced: cache reads/writes are billed once,
//! reasoning at the thinking price.

use serde_json::json;
use switchyard_protocol::anthropic::AnthropicUsage;
use switchyard_protocol::gemini::UsageMetadata;
use switchyard_protocol::openai::OpenAiUsage;

use super::{d, price};
use crate::billing::{UsageContext, compute};

#[test]
fn anthropic_cache_read_and_write_are_billed_once_each() {
    let wire: AnthropicUsage = serde_json::from_value(json!({
        "input_tokens": 100, "output_tokens": 50,
        "cache_creation_input_tokens": 10, "cache_read_input_tokens": 20
    }))
    .unwrap();
    let u = wire.to_usage();
    assert_eq!(
        (u.input_tokens, u.cached_tokens, u.cache_creation_tokens),
        (130, 20, 10)
    );
    // Claude-style prices per 1000 tokens.
    let p = price(json!({
        "input_price": 0.003, "output_price": 0.015,
        "cached_price": 0.0003, "cache_creation_price": 0.00375
    }));
    let a = compute(&p, &u, &UsageContext::default(), true).amount;
    assert_eq!(a.input, d("0.0003")); // 100 uncached tokens
    assert_eq!(a.cached, d("0.000006")); // 20 × 0.0003 / 1000
    assert_eq!(a.cache_creation, d("0.0000375")); // 10 × 0.00375 / 1000
    assert_eq!(a.output, d("0.00075"));
    assert_eq!(a.total(), d("0.0010935"));
}

#[test]
fn anthropic_cache_tokens_without_cache_prices_are_billed_as_input() {
    let wire: AnthropicUsage = serde_json::from_value(json!({
        "input_tokens": 100, "output_tokens": 0,
        "cache_creation_input_tokens": 10, "cache_read_input_tokens": 20
    }))
    .unwrap();
    let p = price(json!({"input_price": 0.001, "input_price_unit": 1}));
    let a = compute(&p, &wire.to_usage(), &UsageContext::default(), true).amount;
    assert_eq!(a.input, d("0.13"));
    assert_eq!(a.total(), d("0.13"));
}

#[test]
fn anthropic_web_search_requests_are_priced() {
    let wire: AnthropicUsage = serde_json::from_value(json!({
        "input_tokens": 10, "output_tokens": 5,
        "server_tool_use": {"web_search_requests": 3}
    }))
    .unwrap();
    let p = price(json!({"web_search_price": 0.01, "web_search_price_unit": 1}));
    let a = compute(&p, &wire.to_usage(), &UsageContext::default(), true).amount;
    assert_eq!(a.web_search, d("0.03"));
}

#[test]
fn gemini_thoughts_are_output_at_the_thinking_price() {
    let wire: UsageMetadata = serde_json::from_value(json!({
        "promptTokenCount": 200, "cachedContentTokenCount": 50,
        "candidatesTokenCount": 50, "thoughtsTokenCount": 30, "totalTokenCount": 280
    }))
    .unwrap();
    let u = wire.to_usage();
    assert_eq!(
        (
            u.input_tokens,
            u.cached_tokens,
            u.output_tokens,
            u.reasoning_tokens
        ),
        (200, 50, 80, 30)
    );
    let p = price(json!({
        "input_price": 0.001, "cached_price": 0.00025,
        "output_price": 0.002, "thinking_mode_output_price": 0.0035
    }));
    let a = compute(&p, &u, &UsageContext::default(), true).amount;
    assert_eq!(a.input, d("0.00015")); // 150 uncached
    assert_eq!(a.cached, d("0.0000125"));
    assert_eq!(a.output, d("0.00028")); // all 80 output tokens at 0.0035
    assert_eq!(a.total(), d("0.0004425"));
}

#[test]
fn openai_details_carve_out_cached_and_price_reasoning() {
    let wire: OpenAiUsage = serde_json::from_value(json!({
        "prompt_tokens": 1000, "completion_tokens": 500, "total_tokens": 1500,
        "prompt_tokens_details": {"cached_tokens": 400},
        "completion_tokens_details": {"reasoning_tokens": 300}
    }))
    .unwrap();
    let u = wire.to_usage();
    let p = price(json!({
        "input_price": 0.002, "cached_price": 0.0005,
        "output_price": 0.008, "thinking_mode_output_price": 0.01
    }));
    let a = compute(&p, &u, &UsageContext::default(), true).amount;
    assert_eq!(a.input, d("0.0012"));
    assert_eq!(a.cached, d("0.0002"));
    assert_eq!(a.output, d("0.005"));
    assert_eq!(a.total(), d("0.0064"));
}
