//! Admission: the rate limits and spending caps a token's request must pass
//! once routing knows its model, before the first upstream attempt.
//!
//! Limits (one all-or-nothing limiter call): RPM and TPM per (group, model)
//! from the model config or the group's override, × the group's ratios ×
//! `GroupConsumeLevelRatio`; the token's own RPM/TPM; the group's
//! concurrency cap. TPM reserves the estimated prompt plus the client's
//! output cap. Caps (one all-or-nothing ledger call): the token's lifetime
//! and period quota and the group's budget, reserving the price of that
//! same estimate. Internal keys pass unlimited. Refusals are 429 (401/403
//! for an exhausted quota or budget, as AI Proxy answers) in the client's
//! dialect, with `Retry-After` when waiting helps; admitted requests carry
//! `X-RateLimit-*` headers.

use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use switchyard_protocol::{Usage, tokens};

use super::accounting::{Accounting, Meter};
use super::head::RequestHead;
use crate::billing::UsageContext;
use crate::error::ApiError;
use crate::header_text::HeaderText;
use crate::limits::{Admission, LimitCheck, LimitRejection, limit_key};
use crate::model::model_config::EffectiveModelSettings;
use crate::model::period::{period_start, period_usage};
use crate::quota::{SpendCheck, SpendKind, SpendRejection, decimal_to_nanos, to_nanos};
use crate::snapshot::{GroupEntry, Snapshot, TokenEntry};
use crate::state::AppState;
use crate::store::now_ms;

/// An admitted request: what to settle later and the headers to send.
#[derive(Debug, Default)]
pub struct Admitted {
    /// Price and reservations.
    pub accounting: Accounting,
    /// What the `X-RateLimit-*` headers say.
    pub rate: RateHeaders,
}

/// One meter's `X-RateLimit-*` figures: its tightest check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct RateStatus {
    limit: u64,
    remaining: u64,
    reset_after: Duration,
}

/// The `X-RateLimit-*` headers of an admitted request: the tightest RPM and
/// TPM check. Kept as figures and written straight into the response's
/// headers (no intermediate map).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateHeaders {
    requests: Option<RateStatus>,
    tokens: Option<RateStatus>,
}

/// The request's estimated size, in tokens: prompt (from the body size)
/// and the client's output cap.
fn estimate(body_len: usize, head: &RequestHead) -> (i64, i64) {
    let prompt = tokens::estimate_from_bytes(body_len);
    (prompt, head.max_output_tokens.unwrap_or(0))
}

/// Admit a request for `model`, or refuse it.
pub async fn admit(
    app: &AppState,
    snapshot: &Snapshot,
    principal: &crate::auth::Principal,
    body_len: usize,
    head: &RequestHead,
    model: &str,
    settings: &EffectiveModelSettings,
) -> Result<Admitted, ApiError> {
    let context = UsageContext {
        service_tier: head.service_tier.clone(),
        ..UsageContext::default()
    };
    let crate::auth::Principal::Token { token, group } = principal else {
        let price = snapshot.price("", model);
        return Ok(Admitted {
            accounting: Accounting::priced(price, context),
            rate: RateHeaders::default(),
        });
    };
    let price = snapshot.price(&group.group.id, model);
    let (prompt, max_output) = estimate(body_len, head);
    let level = snapshot
        .options
        .consume_level_ratio(group.group.used_amount);
    let (checks, meters) = limit_checks(settings, level, token, group, model, prompt + max_output);
    let admission = if checks.is_empty() {
        None
    } else {
        Some(app.limiter.acquire(&checks).await.map_err(|r| {
            let meter = r.check().and_then(|(i, _)| meters.get(i).copied());
            limit_error(&r, meter)
        })?)
    };
    let mut accounting = Accounting::priced(price, context);
    let mut spend_checks = spend_checks(token, group);
    if !spend_checks.is_empty() {
        let worst_case = accounting
            .charge(&Usage::from_counts(prompt, max_output), true)
            .map_or(0, |c| decimal_to_nanos(c.amount.total()));
        for check in &mut spend_checks {
            check.cost = worst_case;
        }
    }
    let spend = match app.ledger.reserve(spend_checks).await {
        Ok(spend) => spend,
        Err(rejection) => {
            // Refused by a cap: the request did not happen, so it takes
            // nothing from the rate windows either.
            if let Some(admission) = admission {
                let nothing = vec![0; meters.len()];
                if let Err(e) = admission.settle(&nothing).await {
                    tracing::warn!(error = %e, "rate-limit release failed");
                }
            }
            return Err(spend_error(&rejection, token, group));
        }
    };
    let rate = admission
        .as_ref()
        .map(|a| RateHeaders::of(a, &meters))
        .unwrap_or_default();
    accounting.hold(admission, meters, spend);
    Ok(Admitted { accounting, rate })
}

/// `base × ratio`, at least 1 when a limit is set; 0 = no limit.
fn scaled(base: i64, ratio: f64) -> u64 {
    if base <= 0 {
        return 0;
    }
    let ratio = if ratio > 0.0 && ratio.is_finite() {
        ratio
    } else {
        1.0
    };
    ((base as f64 * ratio).floor() as u64).max(1)
}

/// The limiter checks of a request: the model's (or the group override's)
/// RPM/TPM × the group's ratios × its consume level, the token's own, the
/// group's concurrency cap; only those that are set.
fn limit_checks(
    settings: &EffectiveModelSettings,
    level: f64,
    token: &TokenEntry,
    group: &GroupEntry,
    model: &str,
    tokens: i64,
) -> (Vec<LimitCheck>, Vec<Meter>) {
    let g = &group.group;
    let (rpm, tpm) = (settings.rpm, settings.tpm);
    let tokens = u64::try_from(tokens.max(0)).unwrap_or(0);
    let t = &token.token;
    let mut checks = Vec::new();
    let mut meters = Vec::new();
    // Keys are built only for the limits that are set, each straight into
    // its shared text (one allocation, none of `format!`'s machinery).
    let mut push = |limit: u64, check: &dyn Fn(u64) -> LimitCheck, meter: Meter| {
        if limit > 0 {
            checks.push(check(limit));
            meters.push(meter);
        }
    };
    let rpm = scaled(rpm, ratio(g.rpm_ratio) * level);
    let tpm = scaled(tpm, ratio(g.tpm_ratio) * level);
    push(
        rpm,
        &|n| LimitCheck::per_minute(limit_key(&["rpm:g:", &g.id, ":", model]), n, 1),
        Meter::Requests,
    );
    push(
        tpm,
        &|n| LimitCheck::per_minute(limit_key(&["tpm:g:", &g.id, ":", model]), n, tokens),
        Meter::Tokens,
    );
    let mut token_id = itoa::Buffer::new();
    let token_id = token_id.format(t.id);
    push(
        scaled(t.rpm, 1.0),
        &|n| LimitCheck::per_minute(limit_key(&["rpm:t:", token_id]), n, 1),
        Meter::Requests,
    );
    push(
        scaled(t.tpm, 1.0),
        &|n| LimitCheck::per_minute(limit_key(&["tpm:t:", token_id]), n, tokens),
        Meter::Tokens,
    );
    let slots = u64::try_from(g.max_concurrency.max(0)).unwrap_or(0);
    push(
        slots,
        &|n| LimitCheck::concurrency(limit_key(&["conc:g:", &g.id]), n),
        Meter::Slot,
    );
    (checks, meters)
}

/// A group ratio; AI Proxy treats ≤ 0 as 1.
fn ratio(r: f64) -> f64 {
    if r > 0.0 { r } else { 1.0 }
}

/// The caps of a token and its group, each still to be given the cost.
fn spend_checks(token: &TokenEntry, group: &GroupEntry) -> Vec<SpendCheck> {
    let t = &token.token;
    let mut checks = Vec::new();
    if t.quota > 0.0 {
        checks.push(SpendCheck {
            key: format!("t:{}", t.id),
            kind: SpendKind::TokenQuota,
            limit: to_nanos(t.quota),
            base: to_nanos(t.used_amount),
            cost: 0,
        });
    }
    if t.period_quota > 0.0 {
        let now = now_ms();
        let spent = period_usage(
            now,
            &t.period_type,
            t.used_amount,
            t.period_last_update_time,
            t.period_last_update_amount,
        );
        checks.push(SpendCheck {
            key: format!("t:{}:p:{}", t.id, period_start(now, &t.period_type)),
            kind: SpendKind::TokenPeriodQuota,
            limit: to_nanos(t.period_quota),
            base: to_nanos(spent),
            cost: 0,
        });
    }
    let g = &group.group;
    if g.budget > 0.0 {
        checks.push(SpendCheck {
            key: format!("g:{}", g.id),
            kind: SpendKind::GroupBudget,
            limit: to_nanos(g.budget),
            base: to_nanos(g.used_amount),
            cost: 0,
        });
    }
    checks
}

fn retry_after(error: ApiError, seconds: Option<u64>) -> ApiError {
    match seconds.and_then(|s| HeaderValue::from_str(&s.to_string()).ok()) {
        Some(v) => error.with_header(http::header::RETRY_AFTER, v),
        None => error,
    }
}

fn limit_error(rejection: &LimitRejection, meter: Option<Meter>) -> ApiError {
    let kind = match (rejection, meter) {
        (LimitRejection::Unavailable { .. }, _) => "unavailable",
        (_, Some(Meter::Tokens)) => "tpm",
        (_, Some(Meter::Slot)) => "concurrency",
        _ => "rpm",
    };
    crate::telemetry::record_limiter_rejection(kind);
    let key = rejection.check().map(|(_, k)| k).unwrap_or_default();
    let per_token = key.starts_with("rpm:t:") || key.starts_with("tpm:t:");
    let message = match (rejection, kind) {
        (LimitRejection::Unavailable { reason }, _) => {
            tracing::warn!(reason, "request refused: rate-limit backend unavailable");
            return retry_after(
                ApiError::unavailable("rate limiting is unavailable, please try again later"),
                rejection.retry_after_secs(),
            );
        }
        (LimitRejection::TooLarge { limit, cost, .. }, _) => format!(
            "request needs {cost} tokens of a tpm limit of {limit}; lower max_tokens or shorten the prompt"
        ),
        (_, "tpm") if per_token => "token tpm limit exceeded, please try again later".to_owned(),
        (_, "tpm") => "request tpm limit exceeded, please try again later".to_owned(),
        (_, "concurrency") => {
            "too many concurrent requests for this group, please try again later".to_owned()
        }
        _ if per_token => "token rate limit exceeded, please try again later".to_owned(),
        _ => "request rate limit exceeded, please try again later".to_owned(),
    };
    let mut error = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "aiproxy_error", message)
        .with_code("rate_limit_exceeded");
    if let Some(limit) = rejection.limit() {
        let (limit_name, remaining_name) = match meter {
            Some(Meter::Tokens) => (LIMIT_TOKENS, REMAINING_TOKENS),
            _ => (LIMIT_REQUESTS, REMAINING_REQUESTS),
        };
        error = error
            .with_header(limit_name, HeaderValue::from(limit))
            .with_header(remaining_name, HeaderValue::from(0u64));
    }
    retry_after(error, rejection.retry_after_secs())
}

fn spend_error(rejection: &SpendRejection, token: &TokenEntry, group: &GroupEntry) -> ApiError {
    crate::telemetry::record_limiter_rejection("quota");
    let SpendRejection::Exhausted {
        kind,
        spent,
        reserved,
        limit,
        ..
    } = rejection
    else {
        tracing::warn!(%rejection, "request refused: spend ledger unavailable");
        return retry_after(
            ApiError::unavailable("quota accounting is unavailable, please try again later"),
            Some(1),
        );
    };
    let label = format!("{}[{}]", token.token.name, token.token.id);
    if spent >= limit {
        return match kind {
            SpendKind::TokenQuota => {
                ApiError::unauthorized(format!("token ({label}) total quota is exhausted"))
            }
            SpendKind::TokenPeriodQuota => {
                ApiError::unauthorized(format!("token ({label}) period quota is exhausted"))
            }
            SpendKind::GroupBudget => {
                ApiError::forbidden(format!("group `{}` budget is exhausted", group.group.id))
                    .with_code("group_balance_not_enough")
            }
        };
    }
    let what = match kind {
        SpendKind::TokenQuota => format!("token ({label}) quota"),
        SpendKind::TokenPeriodQuota => format!("token ({label}) period quota"),
        SpendKind::GroupBudget => format!("group `{}` budget", group.group.id),
    };
    let error = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "aiproxy_error",
        format!(
            "{what} cannot cover this request: {} spent, {} reserved by requests in flight, of {}; lower max_tokens or retry when they finish",
            units(*spent),
            units(*reserved),
            units(*limit)
        ),
    )
    .with_code("insufficient_quota");
    retry_after(error, (*reserved > 0).then_some(1))
}

/// Nano-units as a decimal amount for messages.
fn units(nanos: i64) -> String {
    let value = rust_decimal::Decimal::new(nanos, 9).normalize();
    value.to_string()
}

const LIMIT_REQUESTS: HeaderName = HeaderName::from_static("x-ratelimit-limit-requests");
const REMAINING_REQUESTS: HeaderName = HeaderName::from_static("x-ratelimit-remaining-requests");
const RESET_REQUESTS: HeaderName = HeaderName::from_static("x-ratelimit-reset-requests");
const LIMIT_TOKENS: HeaderName = HeaderName::from_static("x-ratelimit-limit-tokens");
const REMAINING_TOKENS: HeaderName = HeaderName::from_static("x-ratelimit-remaining-tokens");
const RESET_TOKENS: HeaderName = HeaderName::from_static("x-ratelimit-reset-tokens");

impl RateHeaders {
    /// The tightest check of each meter in `admission`.
    fn of(admission: &Admission, meters: &[Meter]) -> Self {
        let tightest = |meter: Meter| {
            admission
                .checks()
                .iter()
                .zip(meters)
                .filter(|(_, m)| **m == meter)
                .map(|(s, _)| s)
                .min_by_key(|s| s.remaining)
                .map(|s| RateStatus {
                    limit: s.limit,
                    remaining: s.remaining,
                    reset_after: s.reset_after.unwrap_or(Duration::from_secs(60)),
                })
        };
        Self {
            requests: tightest(Meter::Requests),
            tokens: tightest(Meter::Tokens),
        }
    }

    /// Add the headers to `headers`. Their values share one buffer.
    pub fn write_to(&self, headers: &mut HeaderMap) {
        let mut text = HeaderText::with_capacity(RATE_HEADERS_TEXT);
        for (status, [limit, remaining, reset]) in [
            (
                self.requests,
                [LIMIT_REQUESTS, REMAINING_REQUESTS, RESET_REQUESTS],
            ),
            (self.tokens, [LIMIT_TOKENS, REMAINING_TOKENS, RESET_TOKENS]),
        ] {
            let Some(status) = status else {
                continue;
            };
            for (name, figure) in [(limit, status.limit), (remaining, status.remaining)] {
                text.push_int(figure);
                if let Some(v) = text.finish() {
                    headers.insert(name, v);
                }
            }
            push_go_duration(&mut text, status.reset_after);
            if let Some(v) = text.finish() {
                headers.insert(reset, v);
            }
        }
    }
}

/// Room for the six values in one buffer: two limits and two remainders
/// of up to 20 digits, two durations (`"1m30s"`).
const RATE_HEADERS_TEXT: usize = 96;

/// Append `d` the way Go prints a duration, rounded to what the headers
/// need: `350ms`, `12s` (seconds rounded up), `2m5s`.
fn push_go_duration(out: &mut HeaderText, d: Duration) {
    let ms = d.as_millis();
    if ms < 1000 {
        out.push_int(ms);
        out.push("ms");
        return;
    }
    let secs = ms.div_ceil(1000);
    if secs >= 60 {
        out.push_int(secs / 60);
        out.push("m");
    }
    out.push_int(secs % 60);
    out.push("s");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn go_duration(d: Duration) -> String {
        let mut text = HeaderText::with_capacity(8);
        push_go_duration(&mut text, d);
        let value = text.finish().expect("a duration is a valid value");
        value.to_str().expect("ASCII").to_owned()
    }

    #[test]
    fn scaling_and_durations() {
        assert_eq!(scaled(0, 2.0), 0);
        assert_eq!(scaled(10, 0.0), 10, "a ratio <= 0 means 1");
        assert_eq!(scaled(10, 0.01), 1, "a set limit never scales to nothing");
        assert_eq!(scaled(10, 1.5), 15);
        assert_eq!(go_duration(Duration::from_secs(60)), "1m0s");
        assert_eq!(go_duration(Duration::from_millis(11_200)), "12s");
        assert_eq!(go_duration(Duration::from_millis(350)), "350ms");
        assert_eq!(go_duration(Duration::ZERO), "0ms");
        assert_eq!(go_duration(Duration::from_millis(124_001)), "2m5s");
        assert_eq!(units(112_000_000), "0.112");
    }
}
