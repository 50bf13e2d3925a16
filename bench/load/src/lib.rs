//! `switchyard-load`: an open-loop HTTP load driver for benchmarking the gateway.
//!
//! In rate mode requests arrive on a fixed schedule (`start + i / rate`) however slow
//! the responses are, and latency is measured from each request's due time, so a slow
//! server cannot hide behind fewer requests (no coordinated omission). Saturate and
//! streams modes are closed loops. Responses are read to the end; `text/event-stream`
//! bodies are split into SSE events to measure time to first byte, gaps between events
//! and events per stream.
//!
//! ```no_run
//! # async fn demo() -> Result<(), switchyard_bench_load::LoadError> {
//! use switchyard_bench_load::{LoadConfig, Mode, run};
//! let mut config = LoadConfig::new("http://127.0.0.1:9000/v1/chat/completions")?;
//! config.mode = Mode::Rate(2000.0);
//! let report = run(config).await?;
//! println!("{}", report.to_table());
//! # Ok(()) }
//! ```

pub mod client;
pub mod config;
pub mod report;
pub mod runner;
pub mod schedule;
pub mod sse;
pub mod stats;

pub use config::{LoadArgs, LoadConfig, Mode, ModeName, chat_body};
pub use report::Report;
pub use runner::run;
pub use stats::{Percentiles, StreamSummary};

/// Errors that stop a run before it produces a report.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A flag or configuration value is invalid.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The histograms could not be created.
    #[error("histogram: {0}")]
    Histogram(#[from] hdrhistogram::CreationError),
    /// The scheduler thread failed.
    #[error("scheduler thread: {0}")]
    Join(#[from] tokio::task::JoinError),
}
