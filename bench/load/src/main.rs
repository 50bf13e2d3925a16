//! `switchyard-load` binary: parses flags, runs the load on a current-thread runtime
//! (or `--threads N` workers) and prints the table, or one JSON object with `--json`.

use std::io::Write;

use clap::Parser;
use switchyard_bench_load::{LoadArgs, LoadConfig, run};

fn main() -> anyhow::Result<()> {
    let args = LoadArgs::parse();
    let config = LoadConfig::from_args(&args)?;
    let runtime = if args.threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(args.threads)
            .enable_all()
            .build()?
    };
    let report = runtime.block_on(run(config))?;
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer(&mut out, &report)?;
        writeln!(out)?;
    } else {
        write!(out, "{}", report.to_table())?;
    }
    out.flush()?;
    Ok(())
}
