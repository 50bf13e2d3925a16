//! `switchyard-mock`: a fast mock LLM upstream for benchmarking the gateway.
//!
//! It speaks OpenAI (chat completions, legacy completions, embeddings), Anthropic
//! Messages and Gemini `generateContent`, streamed and not, with configurable latency,
//! stream chunk count and inter-chunk delay, response size and error injection (flags,
//! or per request through `x-mock-*` headers). Request bodies are never fully parsed
//! (see [`scan`]), so large prompts cost the mock almost nothing.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let config = switchyard_bench_mock::MockConfig {
//!     listen: "127.0.0.1:0".parse().map_err(std::io::Error::other)?,
//!     ..Default::default()
//! };
//! let server = switchyard_bench_mock::run(config).await?;
//! println!("mock on {}", server.addr());
//! # Ok(()) }
//! ```

pub mod anthropic;
pub mod config;
pub mod ctx;
pub mod gemini;
pub mod openai;
pub mod scan;
pub mod server;
pub mod sse;
pub mod stats;
pub mod text;

pub use config::{Knobs, MockConfig};
pub use server::{MockServer, run};
pub use stats::StatsSnapshot;
