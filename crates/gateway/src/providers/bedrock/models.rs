//! Anthropic model names → Bedrock model ids, with the cross-region
//! inference-profile prefix where the model has one.
//!
//! Newer Claude models can only be invoked on demand through an inference
//! profile (`us.…`, `eu.…`, `apac.…`, `global.…`). The table below records,
//! per model, the geographies with a profile; the region's geography is used
//! when listed (keeps data in the geography), else `global.` when the model
//! has a global profile, else the bare model id. The table is best effort:
//! a channel can always map a model to a full Bedrock id or ARN, which passes
//! through unchanged.

use std::borrow::Cow;

const US: u8 = 1;
const EU: u8 = 2;
const APAC: u8 = 4;
const GLOBAL: u8 = 8;

/// Anthropic names (canonical first, then aliases), Bedrock id, profiles.
const TABLE: &[(&[&str], &str, u8)] = &[
    (
        &["claude-instant-1.2", "claude-instant-1"],
        "anthropic.claude-instant-v1",
        0,
    ),
    (&["claude-2.0", "claude-2"], "anthropic.claude-v2", 0),
    (&["claude-2.1"], "anthropic.claude-v2:1", 0),
    (
        &["claude-3-haiku-20240307"],
        "anthropic.claude-3-haiku-20240307-v1:0",
        US | EU | APAC,
    ),
    (
        &["claude-3-sonnet-20240229"],
        "anthropic.claude-3-sonnet-20240229-v1:0",
        US | EU | APAC,
    ),
    (
        &["claude-3-opus-20240229", "claude-3-opus-latest"],
        "anthropic.claude-3-opus-20240229-v1:0",
        US,
    ),
    (
        &["claude-3-5-sonnet-20240620"],
        "anthropic.claude-3-5-sonnet-20240620-v1:0",
        US | EU | APAC,
    ),
    (
        &["claude-3-5-sonnet-20241022", "claude-3-5-sonnet-latest"],
        "anthropic.claude-3-5-sonnet-20241022-v2:0",
        US | APAC,
    ),
    (
        &["claude-3-5-haiku-20241022", "claude-3-5-haiku-latest"],
        "anthropic.claude-3-5-haiku-20241022-v1:0",
        US,
    ),
    (
        &["claude-3-7-sonnet-20250219", "claude-3-7-sonnet-latest"],
        "anthropic.claude-3-7-sonnet-20250219-v1:0",
        US | EU | APAC,
    ),
    (
        &[
            "claude-sonnet-4-20250514",
            "claude-sonnet-4-0",
            "claude-4-sonnet-20250514",
        ],
        "anthropic.claude-sonnet-4-20250514-v1:0",
        US | EU | APAC | GLOBAL,
    ),
    (
        &[
            "claude-opus-4-20250514",
            "claude-opus-4-0",
            "claude-4-opus-20250514",
        ],
        "anthropic.claude-opus-4-20250514-v1:0",
        US,
    ),
    (
        &["claude-opus-4-1-20250805", "claude-opus-4-1"],
        "anthropic.claude-opus-4-1-20250805-v1:0",
        US,
    ),
    (
        &["claude-sonnet-4-5-20250929", "claude-sonnet-4-5"],
        "anthropic.claude-sonnet-4-5-20250929-v1:0",
        US | EU | GLOBAL,
    ),
    (
        &["claude-haiku-4-5-20251001", "claude-haiku-4-5"],
        "anthropic.claude-haiku-4-5-20251001-v1:0",
        US | EU | GLOBAL,
    ),
    (
        &["claude-opus-4-5-20251101", "claude-opus-4-5"],
        "anthropic.claude-opus-4-5-20251101-v1:0",
        US | EU | GLOBAL,
    ),
];

/// The inference-profile geography of an AWS region: `us`, `eu` or `apac`
/// (`None` for GovCloud, China and other regions without one).
pub fn region_geography(region: &str) -> Option<&'static str> {
    if region.starts_with("us-gov-") || region.starts_with("cn-") {
        None
    } else if region.starts_with("us-") {
        Some("us")
    } else if region.starts_with("eu-") {
        Some("eu")
    } else if region.starts_with("ap-") {
        Some("apac")
    } else {
        None
    }
}

fn geography_bit(geography: &str) -> u8 {
    match geography {
        "us" => US,
        "eu" => EU,
        "apac" => APAC,
        _ => 0,
    }
}

/// The Bedrock model id to invoke for `model` in `region`.
///
/// Names not starting with `claude` (Bedrock ids such as
/// `anthropic.claude-…-v1:0`, profile ids such as `us.anthropic.…`, ARNs,
/// other vendors' ids) pass unchanged. Known Claude names map through the
/// table; an unknown `claude…` name becomes `anthropic.{name}-v1:0` without a
/// profile prefix.
pub fn bedrock_model_id<'a>(model: &'a str, region: &str) -> Cow<'a, str> {
    if !model.starts_with("claude") || model.contains(':') {
        return Cow::Borrowed(model);
    }
    let Some((_, id, profiles)) = TABLE.iter().find(|(names, _, _)| names.contains(&model)) else {
        return Cow::Owned(format!("anthropic.{model}-v1:0"));
    };
    let geography = region_geography(region).filter(|g| profiles & geography_bit(g) != 0);
    match geography {
        Some(geography) => Cow::Owned(format!("{geography}.{id}")),
        None if profiles & GLOBAL != 0 => Cow::Owned(format!("global.{id}")),
        None => Cow::Borrowed(id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_known_names_with_profile_prefix() {
        let cases = [
            (
                "claude-3-5-sonnet-20241022",
                "us-east-1",
                "us.anthropic.claude-3-5-sonnet-20241022-v2:0",
            ),
            (
                "claude-3-5-sonnet-20241022",
                "ap-northeast-1",
                "apac.anthropic.claude-3-5-sonnet-20241022-v2:0",
            ),
            (
                "claude-3-5-sonnet-20241022",
                "eu-central-1",
                "anthropic.claude-3-5-sonnet-20241022-v2:0",
            ),
            (
                "claude-sonnet-4-20250514",
                "eu-west-1",
                "eu.anthropic.claude-sonnet-4-20250514-v1:0",
            ),
            (
                "claude-sonnet-4-20250514",
                "ca-central-1",
                "global.anthropic.claude-sonnet-4-20250514-v1:0",
            ),
            (
                "claude-3-5-haiku-20241022",
                "us-west-2",
                "us.anthropic.claude-3-5-haiku-20241022-v1:0",
            ),
            (
                "claude-opus-4-1-20250805",
                "us-east-2",
                "us.anthropic.claude-opus-4-1-20250805-v1:0",
            ),
            (
                "claude-opus-4-1",
                "us-east-2",
                "us.anthropic.claude-opus-4-1-20250805-v1:0",
            ),
            (
                "claude-3-7-sonnet-20250219",
                "ap-south-1",
                "apac.anthropic.claude-3-7-sonnet-20250219-v1:0",
            ),
            (
                "claude-sonnet-4-5-20250929",
                "us-east-1",
                "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            ),
            (
                "claude-sonnet-4-5-20250929",
                "ap-southeast-2",
                "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
            ),
            ("claude-2.1", "us-east-1", "anthropic.claude-v2:1"),
            (
                "claude-3-haiku-20240307",
                "us-gov-west-1",
                "anthropic.claude-3-haiku-20240307-v1:0",
            ),
        ];
        for (name, region, want) in cases {
            assert_eq!(bedrock_model_id(name, region), want, "{name} in {region}");
        }
    }

    #[test]
    fn passes_ids_and_arns_and_falls_back_for_unknown_claude() {
        for id in [
            "anthropic.claude-3-haiku-20240307-v1:0",
            "us.anthropic.claude-sonnet-4-20250514-v1:0",
            "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc",
            "meta.llama3-70b-instruct-v1:0",
        ] {
            assert!(matches!(bedrock_model_id(id, "us-east-1"), Cow::Borrowed(s) if s == id));
        }
        assert_eq!(
            bedrock_model_id("claude-future-9", "us-east-1"),
            "anthropic.claude-future-9-v1:0"
        );
    }

    #[test]
    fn geographies() {
        assert_eq!(region_geography("us-west-2"), Some("us"));
        assert_eq!(region_geography("eu-north-1"), Some("eu"));
        assert_eq!(region_geography("ap-southeast-1"), Some("apac"));
        assert_eq!(region_geography("sa-east-1"), None);
        assert_eq!(region_geography("us-gov-east-1"), None);
    }
}
