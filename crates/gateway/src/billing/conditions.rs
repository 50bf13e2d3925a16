//! Conditions of conditional prices and the request context they are
//! matched against (reference §6.2).
//!
//! Accounting step of the request path: the relay records a
//! [`UsageContext`] (service tier, image/video resolution and quality, media
//! flags, time) next to the token usage; [`Price::select`](super::Price::select) matches it
//! against each [`PriceCondition`] with the helpers here. Resolution and
//! quality are normalised (lowercase, `×`/`*` → `x`, spaces removed) on both
//! sides before comparing.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use switchyard_protocol::Usage;

use super::serde_num::{self, is_zero_int};

/// Service tiers a condition may name (empty = any).
pub const SERVICE_TIERS: [&str; 5] = ["auto", "default", "flex", "scale", "priority"];

/// When a conditional price applies. Every set field must match; unset
/// fields (0, empty, `null`) match anything.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PriceCondition {
    /// Minimum input tokens, inclusive (0 = unbounded).
    #[serde(default, with = "serde_num::int", skip_serializing_if = "is_zero_int")]
    pub input_token_min: i64,
    /// Maximum input tokens, inclusive (0 = unbounded).
    #[serde(default, with = "serde_num::int", skip_serializing_if = "is_zero_int")]
    pub input_token_max: i64,
    /// Minimum output tokens, inclusive (0 = unbounded).
    #[serde(default, with = "serde_num::int", skip_serializing_if = "is_zero_int")]
    pub output_token_min: i64,
    /// Maximum output tokens, inclusive (0 = unbounded).
    #[serde(default, with = "serde_num::int", skip_serializing_if = "is_zero_int")]
    pub output_token_max: i64,
    /// Unix seconds from which the price applies (0 = always has).
    #[serde(default, with = "serde_num::int", skip_serializing_if = "is_zero_int")]
    pub start_time: i64,
    /// Unix seconds until which (inclusive) the price applies (0 = forever).
    #[serde(default, with = "serde_num::int", skip_serializing_if = "is_zero_int")]
    pub end_time: i64,
    /// Resolutions (`1024x1024`, `1080p`, …); any one matching is enough.
    #[serde(
        default,
        deserialize_with = "serde_num::null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub resolution: Vec<String>,
    /// Qualities (`hd`, `standard`, …); any one matching is enough.
    #[serde(
        default,
        deserialize_with = "serde_num::null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub quality: Vec<String>,
    /// Service tier (one of [`SERVICE_TIERS`]; empty = any).
    #[serde(
        default,
        deserialize_with = "serde_num::null_as_empty_string",
        skip_serializing_if = "String::is_empty"
    )]
    pub service_tier: String,
    /// Whether the request carried images/audio/video input (`null` = any).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_media: Option<bool>,
    /// Whether the request carried video input (`null` = any).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_video: Option<bool>,
    /// Whether the response produces audio (`null` = any).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_audio: Option<bool>,
    /// Fields this type does not model, kept so a round trip loses nothing.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// What the request looked like, beyond token counts, for price selection
/// (and, except `at_unix_secs`, for the log row's `usage_context`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct UsageContext {
    /// Service tier the request ran at (as reported or requested).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub service_tier: String,
    /// Resolution the client asked for (images, video).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub resolution: String,
    /// Resolution the provider actually produced or bills by.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub native_resolution: String,
    /// Quality the client asked for.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub quality: String,
    /// The request carried media input (`None` = unknown).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_media: Option<bool>,
    /// The request carried video input (`None` = unknown).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_video: Option<bool>,
    /// The response produced audio (`None` = unknown).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_audio: Option<bool>,
    /// When the request happened, Unix seconds, for time-limited prices;
    /// 0 means "now" at selection time. Not part of the log row.
    #[serde(skip)]
    pub at_unix_secs: i64,
}

/// Normalise a service tier: trimmed, lowercase.
pub fn normalize_service_tier(tier: &str) -> String {
    tier.trim().to_lowercase()
}

/// Normalise a resolution: lowercase, `×` and `*` become `x`, spaces removed.
pub fn normalize_resolution(value: &str) -> String {
    value
        .trim()
        .to_lowercase()
        .replace(['×', '*'], "x")
        .replace(' ', "")
}

/// Normalise a quality: lowercase, spaces removed.
pub fn normalize_quality(value: &str) -> String {
    value.trim().to_lowercase().replace(' ', "")
}

/// Normalise a list with `f`, dropping values that normalise to nothing.
pub fn normalize_all(values: &[String], f: fn(&str) -> String) -> Vec<String> {
    values
        .iter()
        .map(|v| f(v))
        .filter(|v| !v.is_empty())
        .collect()
}

/// The video tier of a `WxH` resolution, by its short side: ≥2000 `4k`,
/// ≥1000 `1080p`, ≥700 `720p`, ≥400 `480p`; `None` for anything else.
pub fn resolution_tier(normalized: &str) -> Option<&'static str> {
    let (w, h) = normalized.split_once('x')?;
    let (w, h) = (w.parse::<u32>().ok()?, h.parse::<u32>().ok()?);
    if w == 0 || h == 0 {
        return None;
    }
    match w.min(h) {
        s if s >= 2000 => Some("4k"),
        s if s >= 1000 => Some("1080p"),
        s if s >= 700 => Some("720p"),
        s if s >= 400 => Some("480p"),
        _ => None,
    }
}

/// A normalised resolution and, when different, its fuzzy tier.
fn fuzzy_forms(value: &str) -> Vec<String> {
    let normalized = normalize_resolution(value);
    if normalized.is_empty() {
        return Vec::new();
    }
    let tier = resolution_tier(&normalized).filter(|t| *t != normalized);
    let mut out = vec![normalized];
    out.extend(tier.map(str::to_owned));
    out
}

impl UsageContext {
    /// Resolutions to try, provider-native first, then the requested one.
    fn resolution_candidates(&self) -> Vec<&str> {
        let native = self.native_resolution.as_str();
        let requested = self.resolution.as_str();
        if native.is_empty() {
            vec![requested]
        } else if requested.is_empty()
            || normalize_resolution(requested) == normalize_resolution(native)
        {
            vec![native]
        } else {
            vec![native, requested]
        }
    }

    fn resolution_matches(&self, condition: &PriceCondition, fuzzy: bool) -> bool {
        let wanted = normalize_all(&condition.resolution, normalize_resolution);
        if wanted.is_empty() {
            return true;
        }
        let candidates = self.resolution_candidates();
        if candidates
            .iter()
            .any(|c| wanted.contains(&normalize_resolution(c)))
        {
            return true;
        }
        if !fuzzy {
            return false;
        }
        let wanted: Vec<String> = condition
            .resolution
            .iter()
            .flat_map(|v| fuzzy_forms(v))
            .collect();
        candidates
            .iter()
            .flat_map(|c| fuzzy_forms(c))
            .any(|form| wanted.contains(&form))
    }

    /// True when the condition names resolutions and the client's requested
    /// resolution (not the provider-native one) is one of them exactly.
    pub(super) fn requested_resolution_exact(&self, condition: &PriceCondition) -> bool {
        if self.resolution.is_empty() {
            return false;
        }
        let wanted = normalize_all(&condition.resolution, normalize_resolution);
        !wanted.is_empty() && wanted.contains(&normalize_resolution(&self.resolution))
    }

    /// Whether every set field of `condition` matches this context, the
    /// usage and the time `now` (Unix seconds). With `fuzzy`, resolutions
    /// also match by tier (`1920x1080` ↔ `1080p`).
    pub fn matches(
        &self,
        condition: &PriceCondition,
        usage: &Usage,
        now: i64,
        fuzzy: bool,
    ) -> bool {
        let tier = normalize_service_tier(&condition.service_tier);
        if !tier.is_empty() && tier != normalize_service_tier(&self.service_tier) {
            return false;
        }
        if !self.resolution_matches(condition, fuzzy) {
            return false;
        }
        let qualities = normalize_all(&condition.quality, normalize_quality);
        if !qualities.is_empty() && !qualities.contains(&normalize_quality(&self.quality)) {
            return false;
        }
        let flags = [
            (condition.input_media, self.input_media),
            (condition.input_video, self.input_video),
            (condition.output_audio, self.output_audio),
        ];
        if flags
            .iter()
            .any(|(want, have)| want.is_some() && want != have)
        {
            return false;
        }
        if condition.start_time > 0 && now < condition.start_time {
            return false;
        }
        if condition.end_time > 0 && now > condition.end_time {
            return false;
        }
        in_range(
            usage.input_tokens,
            condition.input_token_min,
            condition.input_token_max,
        ) && in_range(
            usage.output_tokens,
            condition.output_token_min,
            condition.output_token_max,
        )
    }
}

/// `value` within `[min, max]`, each bound ignored when not positive.
fn in_range(value: i64, min: i64, max: i64) -> bool {
    (min <= 0 || value >= min) && (max <= 0 || value <= max)
}

impl PriceCondition {
    /// How many fields this condition sets; the most specific match wins.
    pub fn specificity(&self) -> usize {
        [
            !normalize_service_tier(&self.service_tier).is_empty(),
            !normalize_all(&self.resolution, normalize_resolution).is_empty(),
            !normalize_all(&self.quality, normalize_quality).is_empty(),
            self.input_video.is_some(),
            self.input_media.is_some(),
            self.output_audio.is_some(),
            self.input_token_min > 0,
            self.input_token_max > 0,
            self.output_token_min > 0,
            self.output_token_max > 0,
            self.start_time > 0,
            self.end_time > 0,
        ]
        .into_iter()
        .filter(|set| *set)
        .count()
    }
}
