//! Background work that runs every so often, off the request path, until
//! the process stops: the one loop the periodic tasks (balance checks,
//! re-tests of banned pairs, the accounting watch) share.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// Run `pass` (its result is not used) every `period` (the first time one period after the start;
/// a slow pass delays the next rather than bunching them) until `stop`.
pub async fn every<F, Fut>(period: Duration, stop: CancellationToken, mut pass: F)
where
    F: FnMut() -> Fut,
    Fut: Future,
{
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = tick.tick() => {
                pass().await;
            }
        }
    }
}
