//! Channel balances: read a channel's remaining balance from its provider
//! ([`crate::providers::balance`]), store it on the channel, and alert when
//! it is below the channel's `balance_threshold` or cannot be read. The
//! admin endpoints call [`update`]; [`run`] checks every channel with
//! `enabled_auto_balance_check` each `CHANNEL_BALANCE_INTERVAL` seconds.

use futures_util::StreamExt;
use tokio_util::sync::CancellationToken;

use crate::model::channel::Channel;
use crate::notify::channel_alerts;
use crate::providers::balance::{self, BalanceError};
use crate::state::AppState;
use crate::store::now_ms;

/// Balances read at once by the bulk endpoint and the periodic check.
pub const WORKERS: usize = 10;

/// Read, store and check one channel's balance.
pub async fn update(app: &AppState, channel: &Channel) -> Result<f64, BalanceError> {
    let client = app
        .http
        .get(&channel.proxy_url, channel.skip_tls_verify)
        .map_err(|e| BalanceError::Request(e.to_string()))?;
    let read = balance::fetch(&client, channel).await;
    let amount = match read {
        Ok(amount) => amount,
        Err(e) => {
            if !matches!(e, BalanceError::Unsupported(_)) {
                channel_alerts::balance_failed(&app.notifier, channel, &e.to_string());
            }
            return Err(e);
        }
    };
    if let Err(e) = app
        .store
        .set_channel_balance(channel.id, amount, now_ms())
        .await
    {
        tracing::warn!(error = %e, channel = channel.id, "could not store the balance");
    }
    if channel.balance_threshold > 0.0 && amount < channel.balance_threshold {
        channel_alerts::balance_low(&app.notifier, channel, amount);
    }
    Ok(amount)
}

/// Update every channel for which `pick` holds and whose type has a balance
/// API; returns `(channel, result)` pairs.
pub async fn update_all(
    app: &AppState,
    channels: Vec<Channel>,
) -> Vec<(Channel, Result<f64, BalanceError>)> {
    futures_util::stream::iter(
        channels
            .into_iter()
            .filter(|c| balance::balance_api(c.channel_type).is_some()),
    )
    .map(|channel| async move {
        let result = update(app, &channel).await;
        (channel, result)
    })
    .buffer_unordered(WORKERS)
    .collect()
    .await
}

/// Check enabled channels with `enabled_auto_balance_check` until `stop`.
pub async fn run(app: AppState, stop: CancellationToken) {
    let period = app.config.channel_balance_interval;
    crate::periodic::every(period, stop, || check_auto_balances(&app)).await;
}

/// Update the balance of every enabled channel that asks for it.
async fn check_auto_balances(app: &AppState) {
    let channels: Vec<Channel> = app
        .snapshot
        .get()
        .channels
        .values()
        .filter(|c| c.channel.is_enabled() && c.channel.enabled_auto_balance_check)
        .map(|c| c.channel.clone())
        .collect();
    update_all(app, channels).await;
}
