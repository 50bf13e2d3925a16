//! The accounting watch, off the request path, every `ABUSE_CHECK_INTERVAL`:
//!
//! - **IP abuse**: an IP used by many groups is a sign of shared or leaked
//!   keys (or of one client rotating tenants to dodge limits). The log
//!   table of the last hour is scanned: IPs seen with at least
//!   `IPGroupsThreshold` groups raise a warning alert (once per IP and group
//!   set every 3 hours); at `IPGroupsBanThreshold` those groups are disabled
//!   and the IP is blocked for 48 hours (`403 please try again later` before
//!   any key check), as AI Proxy does. Blocks are listed and lifted with
//!   `GET|DELETE /api/ip_blocks`.
//! - **Group balance**: a group with `balance_alert_enabled` and a `budget`
//!   whose remaining budget fell below `balance_alert_threshold` raises a
//!   warning alert (once per group every 30 minutes).
//! - **Usage spikes**: a group that spent at least `UsageAlertThreshold`
//!   today (UTC) and at least k × its daily average of the 3 days before
//!   (k = 5, 4, 3, 2.5, 2, 1.5 for averages under 100, 300, 1000, 2000,
//!   5000 and above, as AI Proxy), with that average at least
//!   `UsageAlertMinAvgThreshold` and not in `UsageAlertWhitelist`, raises one
//!   warning alert per group per day. Read from the hourly group summaries.
//!
//! Runs in every instance; the writes are idempotent, alerts are throttled
//! by the notifier (across instances with Redis), and a block is broadcast
//! like an admin write.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::notify::Level;
use crate::state::AppState;
use crate::store::{StoreError, now_ms};

/// How far back the IP check looks.
const LOOKBACK: Duration = Duration::from_secs(3600);
/// How long a block lasts.
pub const BLOCK_FOR: Duration = Duration::from_secs(48 * 3600);
/// Quiet period of a repeated IP warning.
const IP_WARN_EVERY: Duration = Duration::from_secs(3 * 3600);
/// Quiet period of a repeated group balance alert.
const BALANCE_ALERT_EVERY: Duration = Duration::from_secs(30 * 60);
/// Counter of abuse findings, labelled `action` (warn, block).
pub const ABUSE_FINDINGS: &str = "switchyard_abuse_ip_findings_total";

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Run the checks every `period` until `stop`.
pub async fn run(app: AppState, period: Duration, stop: CancellationToken) {
    crate::periodic::every(period, stop, || pass(&app)).await;
}

/// One pass of every check.
async fn pass(app: &AppState) {
    if let Err(e) = check_ips(app).await {
        tracing::warn!(error = %e, "abuse check failed");
    }
    check_group_balances(app);
    if let Err(e) = check_usage_spikes(app).await {
        tracing::warn!(error = %e, "usage spike check failed");
    }
}

/// How many times its recent daily average a group must spend today.
fn spike_factor(average: f64) -> f64 {
    match average {
        a if a < 100.0 => 5.0,
        a if a < 300.0 => 4.0,
        a if a < 1000.0 => 3.0,
        a if a < 2000.0 => 2.5,
        a if a < 5000.0 => 2.0,
        _ => 1.5,
    }
}

/// Alert on groups spending far above their recent average today; returns them.
pub async fn check_usage_spikes(app: &AppState) -> Result<Vec<String>, StoreError> {
    let options = &app.snapshot.get().options;
    let threshold = options.usage_alert_threshold;
    if threshold <= 0.0 {
        return Ok(Vec::new());
    }
    const DAY: i64 = 86_400;
    let now = now_ms() / 1000;
    let today = now - now.rem_euclid(DAY);
    let spent_today = app.store.group_spend(today, today + DAY).await?;
    let earlier = app.store.group_spend(today - 3 * DAY, today).await?;
    let mut alerted = Vec::new();
    for (group, spent) in spent_today {
        if spent < threshold || options.usage_alert_whitelist.contains(&group) {
            continue;
        }
        let average = earlier.get(&group).copied().unwrap_or(0.0) / 3.0;
        if average < options.usage_alert_min_avg_threshold
            || spent < spike_factor(average) * average
        {
            continue;
        }
        app.notifier.notify_every(
            Level::Warn,
            &format!("usage-spike:{group}:{today}"),
            Duration::from_secs(86_400),
            "Usage spike",
            &format!(
                "Group {group} spent {spent:.4} today, against a daily average of {average:.4} over the 3 days before."
            ),
        );
        alerted.push(group);
    }
    Ok(alerted)
}

/// One IP pass; returns the IPs blocked.
pub async fn check_ips(app: &AppState) -> Result<Vec<String>, StoreError> {
    let options = &app.snapshot.get().options;
    let (warn_at, ban_at) = (options.ip_groups_threshold, options.ip_groups_ban_threshold);
    let lowest = [warn_at, ban_at].into_iter().filter(|t| *t > 0).min();
    let Some(lowest) = lowest else {
        return Ok(Vec::new());
    };
    let now = now_ms();
    let shared = app
        .store
        .ips_shared_by_groups(now - millis(LOOKBACK), lowest)
        .await?;
    let mut blocked = Vec::new();
    for (ip, groups) in shared {
        let count = i64::try_from(groups.len()).unwrap_or(i64::MAX);
        let listed = groups.join(", ");
        if ban_at > 0 && count >= ban_at {
            app.store
                .block_ip(&ip, now + millis(BLOCK_FOR), &groups, now)
                .await?;
            metrics::counter!(ABUSE_FINDINGS, "action" => "block").increment(1);
            app.notifier.notify(
                Level::Error,
                &format!("ip-block:{ip}"),
                "IP blocked: used by too many groups",
                &format!("IP {ip} was used by {count} groups in the last hour ({listed}); the groups are disabled and the IP is blocked for 48 h."),
            );
            blocked.push(ip);
        } else if warn_at > 0 && count >= warn_at {
            metrics::counter!(ABUSE_FINDINGS, "action" => "warn").increment(1);
            app.notifier.notify_every(
                Level::Warn,
                &format!("ip-groups:{ip}|{listed}"),
                IP_WARN_EVERY,
                "IP used by many groups",
                &format!("IP {ip} was used by {count} groups in the last hour: {listed}."),
            );
        }
    }
    if !blocked.is_empty() {
        app.config_changed().await?;
    }
    Ok(blocked)
}

/// Alert on groups whose remaining budget is under their alert threshold.
pub fn check_group_balances(app: &AppState) {
    let snapshot = app.snapshot.get();
    for entry in snapshot.groups.values() {
        let g = &entry.group;
        if !g.balance_alert_enabled || g.budget <= 0.0 {
            continue;
        }
        let remaining = g.budget - g.used_amount;
        if remaining < g.balance_alert_threshold {
            app.notifier.notify_every(
                Level::Warn,
                &format!("group-balance:{}", g.id),
                BALANCE_ALERT_EVERY,
                "Group budget running low",
                &format!(
                    "Group {} has {remaining:.4} of its budget {} left (alert threshold {}).",
                    g.id, g.budget, g.balance_alert_threshold
                ),
            );
        }
    }
}
