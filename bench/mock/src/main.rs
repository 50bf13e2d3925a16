//! `switchyard-mock` binary: parses flags, starts the server on a runtime with
//! `--threads` workers, prints `listening on ADDR` as its first stdout line, and runs
//! until SIGINT or SIGTERM.

use std::io::Write;

use clap::Parser;
use switchyard_bench_mock::{MockConfig, run};

fn main() -> anyhow::Result<()> {
    let config = MockConfig::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(config.threads.max(1))
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let server = run(config).await?;
        {
            let mut out = std::io::stdout().lock();
            writeln!(out, "listening on {}", server.addr())?;
            out.flush()?;
        }
        shutdown_signal().await?;
        drop(server);
        Ok(())
    })
}

/// Resolves on SIGINT (Ctrl-C) or, on Unix, SIGTERM.
async fn shutdown_signal() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r,
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await
    }
}
