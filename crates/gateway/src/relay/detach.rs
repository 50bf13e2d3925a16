//! A future that runs in its caller's task until the caller lets go of it,
//! and then finishes in a task of its own.
//!
//! The relay must not be cancelled by a client that goes away: an upstream
//! call already made still has to be accounted and logged. Spawning every
//! request's relay as a task guarantees that, but costs a task per request
//! (its allocation, a second task to schedule and poll, and a wake-up of the
//! connection's task when it ends). [`Detachable`] gives the same guarantee
//! for nothing on the common path: the connection's task polls the boxed
//! relay in place, and only when it drops it unfinished (the client hung
//! up, or the server is closing the connection) is the relay handed to the
//! runtime to finish. A relay that panicked while being polled is dropped,
//! not spawned again.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A boxed future polled in place; spawned to completion if dropped early.
pub struct Detachable<F>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    future: Option<Pin<Box<F>>>,
    /// Set while the future is being polled: still set when the future is
    /// dropped means the poll unwound from a panic.
    polling: bool,
}

impl<F> Detachable<F>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    /// Wrap `future`, already boxed so that it can move to a task of its own.
    fn new(future: Pin<Box<F>>) -> Self {
        Self {
            future: Some(future),
            polling: false,
        }
    }

    /// Wrap the future `make` builds, built straight into its box.
    ///
    /// `Box::pin(make())` builds the future on the stack and then copies all
    /// of it (every state it may reach: several KB for the relay) into the
    /// box. Allocating first lets the compiler write the few fields a new
    /// future has in place.
    #[inline(always)]
    pub fn build(make: impl FnOnce() -> F) -> Self {
        Self::new(Box::into_pin(Box::write(Box::new_uninit(), make())))
    }
}

impl<F> Future for Detachable<F>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        // Polled again after it finished: the `Future` contract leaves the
        // answer open, and this one never answers.
        let Some(future) = this.future.as_mut() else {
            return Poll::Pending;
        };
        this.polling = true;
        let poll = future.as_mut().poll(cx);
        this.polling = false;
        if poll.is_ready() {
            this.future = None;
        }
        poll
    }
}

impl<F> Drop for Detachable<F>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn drop(&mut self) {
        if self.polling {
            return;
        }
        let Some(future) = self.future.take() else {
            return;
        };
        // Outside a runtime (it is shutting down) there is nothing to finish on.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(future);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::panic::AssertUnwindSafe;
    use std::time::Duration;

    use futures_util::FutureExt;
    use tokio::sync::oneshot;

    /// Tasks alive on the test's runtime (its main future is not one).
    fn alive_tasks() -> usize {
        tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks()
    }

    #[tokio::test]
    async fn a_finished_future_gives_its_output_in_place() {
        let detachable = Detachable::build(|| async {
            tokio::task::yield_now().await;
            alive_tasks()
        });
        // Polled by the test's own future: no task was spawned for it.
        assert_eq!(detachable.await, 0);
        assert_eq!(alive_tasks(), 0);
    }

    #[tokio::test]
    async fn a_future_dropped_unfinished_finishes_in_a_task_of_its_own() {
        let (release_tx, release_rx) = oneshot::channel::<()>();
        let (done_tx, done_rx) = oneshot::channel::<&str>();
        let mut detachable = Detachable::new(Box::pin(async move {
            let _ = release_rx.await;
            let _ = done_tx.send("finished");
        }));
        // Started in place, then let go of, as a connection that closes does.
        assert!(futures_util::poll!(&mut detachable).is_pending());
        drop(detachable);
        let _ = release_tx.send(());
        let done = tokio::time::timeout(Duration::from_secs(5), done_rx).await;
        assert_eq!(done.ok().and_then(Result::ok), Some("finished"));
    }

    #[tokio::test]
    async fn a_future_that_panicked_is_not_spawned_again() {
        let mut detachable = Detachable::new(Box::pin(async {
            tokio::task::yield_now().await;
            panic!("relay bug");
        }));
        let first = AssertUnwindSafe(&mut detachable).catch_unwind().await;
        assert!(first.is_err(), "the panic reaches the caller");
        drop(detachable);
        // Dropped with the caller, not handed to a task that would poll it again.
        assert_eq!(alive_tasks(), 0);
    }

    #[tokio::test]
    async fn a_future_dropped_before_its_first_poll_still_runs() {
        let (done_tx, done_rx) = oneshot::channel::<&str>();
        let detachable = Detachable::build(|| async move {
            let _ = done_tx.send("ran");
        });
        drop(detachable);
        assert_eq!(alive_tasks(), 1);
        let done = tokio::time::timeout(Duration::from_secs(5), done_rx).await;
        assert_eq!(done.ok().and_then(Result::ok), Some("ran"));
    }
}
