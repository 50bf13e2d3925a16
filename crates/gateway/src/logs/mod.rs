//! Request logs off the request path.
//!
//! The relay hands finished requests to the [`sink::LogSink`], a bounded
//! queue ([`queue`]); one writer thread drains it into batched inserts.
//! Nothing is dropped: a full queue makes senders wait, a database outage is
//! retried, shutdown drains the queue. [`retention`] deletes old rows in batches.

pub mod destination;
pub mod queue;
pub mod record;
pub mod retention;
pub mod sink;
