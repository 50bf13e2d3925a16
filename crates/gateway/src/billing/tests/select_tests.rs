//! Conditional price selection: specificity, ties, requested vs native
//! resolution, fuzzy tiers, time windows, service tier, media flags and
//! token ranges.

use serde_json::{Value, json};
use switchyard_protocol::Usage;

use super::{d, price};
use crate::billing::{SelectOptions, UsageContext};

/// Index of the conditional price selected for `ctx` (no tokens).
fn pick(conditions: &[Value], ctx: &UsageContext) -> Option<usize> {
    pick_with(conditions, ctx, &Usage::default(), SelectOptions::default())
}

fn pick_with(
    conditions: &[Value],
    ctx: &UsageContext,
    usage: &Usage,
    options: SelectOptions,
) -> Option<usize> {
    let entries: Vec<Value> = conditions
        .iter()
        .enumerate()
        .map(|(i, c)| json!({"condition": c, "price": {"input_price": i + 1}}))
        .collect();
    let p = price(json!({"input_price": 0.5, "conditional_prices": entries}));
    let applied = p.select_with(usage, ctx, options);
    match applied.conditional_index {
        Some(i) => assert_eq!(applied.input_price, d(&(i + 1).to_string())),
        None => assert_eq!(applied.input_price, d("0.5")),
    }
    applied.conditional_index
}

fn ctx() -> UsageContext {
    UsageContext::default()
}

fn resolution(requested: &str, native: &str) -> UsageContext {
    UsageContext {
        resolution: requested.into(),
        native_resolution: native.into(),
        ..ctx()
    }
}

#[test]
fn no_conditional_prices_gives_base_price() {
    let p = price(json!({"input_price": 1}));
    let applied = p.select(&Usage::default(), &ctx());
    assert_eq!(applied.conditional_index, None);
    assert_eq!(applied.input_price, d("1"));
}

#[test]
fn most_specific_match_wins_regardless_of_order() {
    let c = UsageContext {
        service_tier: "flex".into(),
        resolution: "1024x1024".into(),
        ..ctx()
    };
    let general = json!({"service_tier": "flex"});
    let specific = json!({"service_tier": "flex", "resolution": ["1024x1024"]});
    assert_eq!(pick(&[general.clone(), specific.clone()], &c), Some(1));
    assert_eq!(pick(&[specific, general], &c), Some(0));
}

#[test]
fn ties_keep_the_first_match() {
    let c = UsageContext {
        service_tier: "priority".into(),
        quality: "hd".into(),
        ..ctx()
    };
    let conditions = [
        json!({"quality": ["hd"]}),
        json!({"service_tier": "priority"}),
    ];
    assert_eq!(pick(&conditions, &c), Some(0));
}

#[test]
fn exact_requested_resolution_beats_native_only_match() {
    let c = resolution("1536x1024", "1024x1024");
    let native = json!({"resolution": ["1024x1024"]});
    let requested = json!({"resolution": ["1536x1024"]});
    assert_eq!(pick(&[native.clone(), requested.clone()], &c), Some(1));
    assert_eq!(pick(&[requested, native.clone()], &c), Some(0));
    // The native resolution alone still matches.
    assert_eq!(pick(&[native], &c), Some(0));
}

#[test]
fn resolution_and_quality_are_normalised() {
    let c = UsageContext {
        resolution: " 1024 × 1024 ".into(),
        quality: "HD".into(),
        ..ctx()
    };
    assert_eq!(pick(&[json!({"resolution": ["1024*1024"]})], &c), Some(0));
    assert_eq!(pick(&[json!({"quality": [" hd "]})], &c), Some(0));
    assert_eq!(pick(&[json!({"quality": ["standard"]})], &c), None);
}

#[test]
fn condition_with_resolution_needs_a_resolution() {
    assert_eq!(pick(&[json!({"resolution": ["1024x1024"]})], &ctx()), None);
}

#[test]
fn fuzzy_tiers_match_when_nothing_matches_exactly() {
    let cases = [
        ("3840x2160", "4k"),
        ("1920*1080", "1080p"),
        ("1080x1920", "1080p"),
        ("1280 × 720", "720p"),
        ("854x480", "480p"),
    ];
    for (value, tier) in cases {
        let conditions = [json!({"resolution": [tier]})];
        assert_eq!(
            pick(&conditions, &resolution(value, "")),
            Some(0),
            "{value}"
        );
        let strict = SelectOptions {
            disable_fuzzy_resolution: true,
        };
        assert_eq!(
            pick_with(
                &conditions,
                &resolution(value, ""),
                &Usage::default(),
                strict
            ),
            None,
            "{value} without fuzzy matching"
        );
    }
    // Below 400 on the short side there is no tier.
    assert_eq!(
        pick(
            &[json!({"resolution": ["480p"]})],
            &resolution("640x360", "")
        ),
        None
    );
    // A tier is not a neighbour: 720p does not match 1080p.
    assert_eq!(
        pick(
            &[json!({"resolution": ["720p"]})],
            &resolution("1920x1080", "")
        ),
        None
    );
}

#[test]
fn fuzzy_tiers_apply_to_condition_values_and_native_resolution() {
    // Condition written as WxH, context written as a tier.
    assert_eq!(
        pick(
            &[json!({"resolution": ["1920x1080"]})],
            &resolution("1080p", "")
        ),
        Some(0)
    );
    // Two WxH values of the same tier.
    assert_eq!(
        pick(
            &[json!({"resolution": ["1280x720"]})],
            &resolution("", "1280x704")
        ),
        Some(0)
    );
}

#[test]
fn fuzzy_pass_runs_only_when_the_exact_pass_found_nothing() {
    let c = UsageContext {
        service_tier: "default".into(),
        resolution: "1920x1080".into(),
        ..ctx()
    };
    let conditions = [
        json!({"service_tier": "default"}),
        json!({"resolution": ["1080p"]}),
    ];
    assert_eq!(pick(&conditions, &c), Some(0));
}

#[test]
fn time_windows_use_the_context_time() {
    let window = [json!({"start_time": 1000, "end_time": 2000})];
    let at = |secs: i64| UsageContext {
        at_unix_secs: secs,
        ..ctx()
    };
    assert_eq!(pick(&window, &at(999)), None);
    assert_eq!(pick(&window, &at(1000)), Some(0));
    assert_eq!(pick(&window, &at(2000)), Some(0));
    assert_eq!(pick(&window, &at(2001)), None);
    // Open-ended windows.
    assert_eq!(
        pick(&[json!({"start_time": 1000})], &at(5_000_000)),
        Some(0)
    );
    assert_eq!(pick(&[json!({"end_time": 1000})], &at(500)), Some(0));
}

#[test]
fn zero_context_time_means_now() {
    let past_window = [json!({"start_time": 1000, "end_time": 2000})];
    assert_eq!(pick(&past_window, &ctx()), None);
    let open = [json!({"start_time": 1000})];
    assert_eq!(pick(&open, &ctx()), Some(0));
}

#[test]
fn service_tier_is_case_insensitive_and_required_when_set() {
    let conditions = [json!({"service_tier": "Priority"})];
    let with = |tier: &str| UsageContext {
        service_tier: tier.into(),
        ..ctx()
    };
    assert_eq!(pick(&conditions, &with("priority")), Some(0));
    assert_eq!(pick(&conditions, &with(" PRIORITY ")), Some(0));
    assert_eq!(pick(&conditions, &with("flex")), None);
    assert_eq!(pick(&conditions, &with("")), None);
}

#[test]
fn media_flags_are_tri_state() {
    let flags = |media: Option<bool>, video: Option<bool>, audio: Option<bool>| UsageContext {
        input_media: media,
        input_video: video,
        output_audio: audio,
        ..ctx()
    };
    let video = [json!({"input_video": true})];
    assert_eq!(pick(&video, &flags(None, None, None)), None);
    assert_eq!(pick(&video, &flags(None, Some(false), None)), None);
    assert_eq!(pick(&video, &flags(None, Some(true), None)), Some(0));
    let no_audio = [json!({"output_audio": false})];
    assert_eq!(pick(&no_audio, &flags(None, None, Some(false))), Some(0));
    assert_eq!(pick(&no_audio, &flags(None, None, Some(true))), None);
    let media = [json!({"input_media": true, "input_video": null})];
    assert_eq!(pick(&media, &flags(Some(true), Some(false), None)), Some(0));
}

#[test]
fn token_ranges_are_inclusive() {
    let range = [json!({"input_token_min": 100, "input_token_max": 200, "output_token_max": 50})];
    let tokens = |input: i64, output: i64| Usage::from_counts(input, output);
    let run = |u: Usage| pick_with(&range, &ctx(), &u, SelectOptions::default());
    assert_eq!(run(tokens(99, 0)), None);
    assert_eq!(run(tokens(100, 0)), Some(0));
    assert_eq!(run(tokens(200, 50)), Some(0));
    assert_eq!(run(tokens(201, 0)), None);
    assert_eq!(run(tokens(150, 51)), None);
}

#[test]
fn selection_uses_total_input_including_cache_tokens() {
    // Anthropic-style long-context pricing keys on the whole prompt.
    let range = [json!({"input_token_min": 200000})];
    let u = Usage {
        input_tokens: 210_000,
        cached_tokens: 150_000,
        ..Usage::default()
    };
    assert_eq!(
        pick_with(&range, &ctx(), &u, SelectOptions::default()),
        Some(0)
    );
}
