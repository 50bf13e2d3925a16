//! The background re-test of banned (channel, model) pairs: every
//! `CHANNEL_RETEST_INTERVAL` seconds each banned pair is tested; a pass
//! lifts the ban at once (and raises an info alert), a failure raises an
//! error alert and the ban runs its course. Pairs whose channel was deleted
//! or disabled, or no longer lists the model, are simply unbanned.

use futures_util::StreamExt;
use tokio_util::sync::CancellationToken;

use super::{test_and_store, test_kind};
use crate::notify::channel_alerts;
use crate::state::AppState;

/// Pairs re-tested at once.
const WORKERS: usize = 10;

/// Run until `stop` is cancelled.
pub async fn run(app: AppState, stop: CancellationToken) {
    let period = app.config.channel_retest_interval;
    crate::periodic::every(period, stop, || retest_banned(&app)).await;
}

/// Re-test every pair banned right now; returns how many were unbanned.
pub async fn retest_banned(app: &AppState) -> usize {
    let pairs = app.monitor.banned_pairs();
    if pairs.is_empty() {
        return 0;
    }
    let snapshot = app.snapshot.get();
    futures_util::stream::iter(pairs)
        .map(|(channel_id, model)| {
            let snapshot = snapshot.clone();
            async move {
                let entry = snapshot.channels.get(&channel_id).filter(|c| {
                    c.channel.is_enabled()
                        && (c.serves(&model) || c.channel.models.contains(&model))
                });
                let kind = test_kind(&snapshot, &model);
                let (Some(entry), Some(kind)) = (entry, kind) else {
                    return app.monitor.unban(channel_id, &model);
                };
                let result = test_and_store(app, entry, &model, kind).await;
                if result.success {
                    channel_alerts::retest_passed(&app.notifier, &entry.channel, &model);
                    true
                } else {
                    let error = result.error.as_deref().unwrap_or("failed");
                    channel_alerts::retest_failed(&app.notifier, &entry.channel, &model, error);
                    false
                }
            }
        })
        .buffer_unordered(WORKERS)
        .filter(|unbanned| std::future::ready(*unbanned))
        .count()
        .await
}
