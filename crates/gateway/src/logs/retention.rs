//! Periodic deletion of old logs, details, retry logs and (when
//! `SummaryStorageHours` > 0) dashboard summaries, in batches.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::snapshot::SnapshotHandle;
use crate::store::logs::RetentionTable;
use crate::store::{Store, now_ms};

const HOUR_MS: i64 = 3_600_000;

/// Cutoffs (ms) per table for the current options; `None` keeps everything.
pub fn cutoffs(
    now: i64,
    log_hours: i64,
    detail_hours: i64,
    retry_hours: i64,
) -> Vec<(RetentionTable, i64)> {
    let hours_or_logs = |h: i64| if h > 0 { h } else { log_hours };
    [
        (RetentionTable::Logs, log_hours),
        (RetentionTable::Details, hours_or_logs(detail_hours)),
        (RetentionTable::RetryLogs, hours_or_logs(retry_hours)),
    ]
    .into_iter()
    .filter(|(_, h)| *h > 0)
    .map(|(t, h)| (t, now - h * HOUR_MS))
    .collect()
}

/// Run one retention pass; returns the rows deleted.
pub async fn clean_once(store: &Store, snapshot: &SnapshotHandle) -> u64 {
    let options = &snapshot.get().options;
    let batch = options.clean_log_batch_size.max(1);
    let mut deleted = 0;
    for (table, before) in cutoffs(
        now_ms(),
        options.log_storage_hours,
        options.log_detail_storage_hours,
        options.retry_log_storage_hours,
    ) {
        match store.delete_old_rows(table, before, batch).await {
            Ok(n) => deleted += n,
            Err(e) => tracing::warn!(error = %e, ?table, "log retention pass failed"),
        }
    }
    if options.summary_storage_hours > 0 {
        let before_s = now_ms() / 1000 - options.summary_storage_hours * 3600;
        match store.delete_old_summaries(before_s, batch).await {
            Ok(n) => deleted += n,
            Err(e) => tracing::warn!(error = %e, "summary retention pass failed"),
        }
    }
    match store.purge_expired_responses(now_ms()).await {
        Ok(n) if n > 0 => tracing::debug!(purged = n, "expired stored responses removed"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "stored response expiry failed"),
    }
    deleted
}

/// Run retention every `every` until stopped; passes that hit a full batch continue at once.
pub async fn run(
    store: Store,
    snapshot: Arc<SnapshotHandle>,
    every: Duration,
    stop: CancellationToken,
) {
    loop {
        let deleted = clean_once(&store, &snapshot).await;
        let wait = if deleted > 0 {
            Duration::from_millis(200)
        } else {
            every
        };
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = stop.cancelled() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_means_as_logs_and_forever() {
        assert!(cutoffs(10 * HOUR_MS, 0, 0, 0).is_empty());
        let c = cutoffs(10 * HOUR_MS, 2, 0, 1);
        assert_eq!(
            c,
            vec![
                (RetentionTable::Logs, 8 * HOUR_MS),
                (RetentionTable::Details, 8 * HOUR_MS),
                (RetentionTable::RetryLogs, 9 * HOUR_MS),
            ]
        );
        let c = cutoffs(10 * HOUR_MS, 0, 3, 0);
        assert_eq!(c, vec![(RetentionTable::Details, 7 * HOUR_MS)]);
    }
}
