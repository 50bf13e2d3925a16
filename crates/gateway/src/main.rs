//! The `switchyard` binary: parse flags and environment, start, serve until
//! SIGINT/SIGTERM.

use anyhow::Context;
use clap::Parser;
use switchyard::{App, Cli, Config};
use tracing_subscriber::EnvFilter;

/// jemalloc instead of glibc's allocator: glibc's malloc and free were about
/// 15 % of the gateway's CPU at saturation (`bench/results/profile-2026-11-22.md`).
/// Its options are compiled in from `.cargo/config.toml` (`_RJEM_MALLOC_CONF`
/// overrides them at run time).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // `.env` in the working directory only; real environment variables win.
    let _ = dotenvy::from_path(".env");
    let cli = Cli::parse();
    let config = Config::from_cli(&cli).context("invalid configuration")?;
    init_tracing(config.debug, config.json_logs);
    let listen = config.listen;
    let app = App::build(config).await.context("start-up failed")?;
    if let Some(key) = &app.generated_admin_key {
        print_admin_key(key);
    }
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    tracing::info!(address = %listener.local_addr()?, "switchyard listening");
    app.serve(listener, shutdown_signal()).await?;
    Ok(())
}

fn init_tracing(debug: bool, json: bool) {
    let default = if debug {
        "debug,hyper=info,h2=info,sqlx=warn"
    } else {
        "info,sqlx=warn"
    };
    let filter = EnvFilter::try_from_env("RUST_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// The generated admin key is shown once, on the terminal that started the gateway.
#[allow(clippy::print_stderr)]
fn print_admin_key(key: &str) {
    eprintln!(
        "\n  No ADMIN_KEY was set, so one was generated. It is shown only this once:\n\n      ADMIN_KEY={key}\n\n  \
         It is stored hashed in the database; restarts keep it. Set ADMIN_KEY to choose your own.\n"
    );
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut terminate) = signal(SignalKind::terminate()) else {
            let _ = interrupt.await;
            return;
        };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
