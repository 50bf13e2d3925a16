//! Channel events turned into alerts: auto-bans and error rates over the
//! warning threshold (from the routing monitor), upstream refusals of a
//! channel's credentials (from the relay's failure path), low or unreadable
//! balances (from the balance check) and banned-pair re-test outcomes.
//! Keys are per channel × model × kind, throttled for 15 minutes.

use std::sync::Arc;

use super::{Level, Notifier};
use crate::model::channel::Channel;
use crate::routing::monitor::{MonitorEvent, MonitorObserver};
use crate::snapshot::SnapshotHandle;

/// Alerts for what the routing monitor sees.
#[derive(Debug)]
pub struct MonitorAlerts {
    notifier: Notifier,
    snapshot: Arc<SnapshotHandle>,
}

impl MonitorAlerts {
    /// An observer raising alerts through `notifier`.
    pub fn new(notifier: Notifier, snapshot: Arc<SnapshotHandle>) -> Self {
        Self { notifier, snapshot }
    }
}

fn channel_label(snapshot: &SnapshotHandle, id: i64) -> String {
    snapshot.get().channels.get(&id).map_or_else(
        || format!("#{id}"),
        |c| format!("{} (#{id})", c.channel.name),
    )
}

impl MonitorObserver for MonitorAlerts {
    fn observe(&self, event: MonitorEvent<'_>) {
        match event {
            MonitorEvent::Banned {
                channel,
                model,
                error_rate,
            } => {
                let label = channel_label(&self.snapshot, channel);
                let why = if error_rate > 0.0 {
                    format!("its error rate reached {:.0}%", error_rate * 100.0)
                } else {
                    "the upstream refused the channel".to_owned()
                };
                self.notifier.notify(
                    Level::Error,
                    &format!("channel_banned:{channel}:{model}"),
                    "Channel Auto Banned",
                    &format!("Channel {label}, model `{model}` is banned for a while: {why}. It is re-tested in the background and unbanned when a test passes."),
                );
            }
            MonitorEvent::ErrorRate {
                channel,
                model,
                error_rate,
            } => {
                let snapshot = self.snapshot.get();
                let configured = snapshot
                    .channels
                    .get(&channel)
                    .map_or(0.0, |c| c.channel.warn_error_rate);
                let threshold = if configured > 0.0 {
                    configured
                } else {
                    snapshot.options.default_warn_notify_error_rate
                };
                if threshold <= 0.0 || error_rate < threshold {
                    return;
                }
                let label = channel_label(&self.snapshot, channel);
                self.notifier.notify(
                    Level::Warn,
                    &format!("channel_error_rate:{channel}:{model}"),
                    "Error Rate Beyond Threshold",
                    &format!(
                        "Channel {label}, model `{model}`: error rate {:.0}% over the last 2 minutes (warning threshold {:.0}%).",
                        error_rate * 100.0,
                        threshold * 100.0
                    ),
                );
            }
        }
    }
}

/// An upstream answered 401/402/403: the channel's credentials or account are refused.
pub fn no_permission(
    notifier: &Notifier,
    channel: &Channel,
    model: &str,
    status: u16,
    message: &str,
) {
    if !(401..=403).contains(&status) {
        return;
    }
    notifier.notify(
        Level::Error,
        &format!("channel_no_permission:{}:{model}:{status}", channel.id),
        "Channel No Permission",
        &format!(
            "Channel {} (#{}), model `{model}`: the upstream answered {status}: {message}",
            channel.name, channel.id
        ),
    );
}

/// A balance read below the channel's `balance_threshold` (sent every time it is seen).
pub fn balance_low(notifier: &Notifier, channel: &Channel, balance: f64) {
    notifier.notify_every(
        Level::Error,
        &format!("channel_balance_low:{}", channel.id),
        std::time::Duration::ZERO,
        "Channel Balance Low",
        &format!(
            "Channel {} (#{}) has a balance of {balance:.4}, below its threshold {:.4}.",
            channel.name, channel.id, channel.balance_threshold
        ),
    );
}

/// The provider's balance could not be read.
pub fn balance_failed(notifier: &Notifier, channel: &Channel, error: &str) {
    notifier.notify_every(
        Level::Error,
        &format!("channel_balance_failed:{}", channel.id),
        std::time::Duration::ZERO,
        "Channel Balance Check Failed",
        &format!(
            "The balance of channel {} (#{}) could not be read: {error}",
            channel.name, channel.id
        ),
    );
}

/// A banned pair passed its background re-test and was unbanned.
pub fn retest_passed(notifier: &Notifier, channel: &Channel, model: &str) {
    notifier.notify(
        Level::Info,
        &format!("channel_retest_passed:{}:{model}", channel.id),
        "Banned Model Recovered",
        &format!(
            "Channel {} (#{}), model `{model}` passed its re-test and is unbanned.",
            channel.name, channel.id
        ),
    );
}

/// A banned pair failed its background re-test (it stays banned until the ban expires).
pub fn retest_failed(notifier: &Notifier, channel: &Channel, model: &str, error: &str) {
    notifier.notify(
        Level::Error,
        &format!("channel_retest_failed:{}:{model}", channel.id),
        "Banned Model Re-test Failed",
        &format!(
            "Channel {} (#{}), model `{model}` failed its re-test: {error}",
            channel.name, channel.id
        ),
    );
}
