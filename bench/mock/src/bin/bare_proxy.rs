//! `switchyard-bare-proxy`: the floor the gateway is compared against.
//!
//! A minimal HTTP/1.1 reverse proxy on the same stack as the gateway
//! (tokio, hyper server, hyper-util's pooled client, which reqwest wraps):
//! every request is forwarded to `--upstream` with its path, headers and
//! body, and the response streamed back. No auth, routing, limits, logging
//! or parsing. What it adds over direct-to-mock is the cost of the second
//! HTTP hop on this machine, which no gateway built on this stack avoids;
//! `bench/run.sh` measures it in scenario 7.

use std::convert::Infallible;
use std::io::Write;
use std::net::SocketAddr;

use clap::Parser;
use http::uri::{Authority, Scheme};
use http::{Request, Response, StatusCode, Uri};
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;

/// Flags.
#[derive(Debug, Parser)]
#[command(
    name = "switchyard-bare-proxy",
    about = "Minimal reverse proxy: the benchmark's floor"
)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Upstream authority (`host:port`), plain HTTP.
    #[arg(long)]
    upstream: Authority,
}

type ProxyBody = BoxBody<Bytes, hyper::Error>;

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(serve(args))
}

async fn serve(args: Args) -> anyhow::Result<()> {
    let listener = TcpListener::bind(args.listen).await?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on {}", listener.local_addr()?)?;
        out.flush()?;
    }
    let client: Client<HttpConnector, Incoming> =
        Client::builder(TokioExecutor::new()).build_http();
    loop {
        let (socket, _) = listener.accept().await?;
        let _ = socket.set_nodelay(true);
        let client = client.clone();
        let upstream = args.upstream.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| forward(client.clone(), upstream.clone(), req));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(socket), service)
                .await;
        });
    }
}

async fn forward(
    client: Client<HttpConnector, Incoming>,
    upstream: Authority,
    req: Request<Incoming>,
) -> Result<Response<ProxyBody>, Infallible> {
    let (mut parts, body) = req.into_parts();
    let mut uri = Uri::builder().scheme(Scheme::HTTP).authority(upstream);
    if let Some(path) = parts.uri.path_and_query() {
        uri = uri.path_and_query(path.clone());
    }
    let Ok(uri) = uri.build() else {
        return Ok(bad_gateway());
    };
    parts.uri = uri;
    parts.headers.remove(http::header::HOST);
    match client.request(Request::from_parts(parts, body)).await {
        Ok(response) => Ok(response.map(BodyExt::boxed)),
        Err(_) => Ok(bad_gateway()),
    }
}

fn bad_gateway() -> Response<ProxyBody> {
    let mut response = Response::new(
        Full::new(Bytes::from_static(b"bad gateway"))
            .map_err(|never| match never {})
            .boxed(),
    );
    *response.status_mut() = StatusCode::BAD_GATEWAY;
    response
}
