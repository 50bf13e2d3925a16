//! The service each client connection is served by: the front of the
//! request path, before any handler.
//!
//! Most requests go through the axum router with its layers (trailing-slash
//! normalisation, CORS, panic catching) and the peer address as a
//! `ConnectInfo` extension. The relay endpoints that carry nearly all of a
//! gateway's traffic — `POST` to `/v1/chat/completions`, `/v1/completions`,
//! `/v1/embeddings`, `/v1/responses` and `/v1/messages`, spelled exactly —
//! take the hot lane instead: straight to their handler with the request's
//! own head (no copy of its headers or URI, no route lookup, no extension
//! map), then the same CORS headers and the same answer to a panic the
//! layers would have given. Anything else, such as a trailing slash or
//! another method, takes the router and ends up at the same handler.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::response::Response;
use futures_util::FutureExt;
use futures_util::future::Either;
use http::header::{ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_EXPOSE_HEADERS};
use http::{HeaderMap, HeaderValue, Method};
use hyper::body::Incoming;
use tower::ServiceExt;
use tower::util::Oneshot;

use super::{anthropic, openai};
use crate::relay::protocol::Protocol;
use crate::state::AppState;

/// The router behind trailing-slash normalisation (the slow lane).
pub type NormalizedRouter = tower_http::normalize_path::NormalizePath<axum::Router>;

/// A relay endpoint served by the hot lane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HotRoute {
    /// An OpenAI-shaped endpoint of this protocol.
    OpenAi(Protocol),
    /// Anthropic Messages.
    Messages,
}

/// The hot-lane route of a request, if it has one.
fn hot_route(method: &Method, path: &str) -> Option<HotRoute> {
    if method != Method::POST {
        return None;
    }
    Some(match path {
        "/v1/chat/completions" => HotRoute::OpenAi(Protocol::Chat),
        "/v1/completions" => HotRoute::OpenAi(Protocol::Completions),
        "/v1/embeddings" => HotRoute::OpenAi(Protocol::Embeddings),
        "/v1/responses" => HotRoute::OpenAi(Protocol::Responses),
        "/v1/messages" => HotRoute::Messages,
        _ => return None,
    })
}

/// Makes one [`Connection`] per accepted client connection.
#[derive(Clone)]
pub struct MakeConnection {
    state: AppState,
    router: NormalizedRouter,
}

impl MakeConnection {
    /// Serve relay traffic with `state` and everything else with `router`.
    pub fn new(state: AppState, router: NormalizedRouter) -> Self {
        Self { state, router }
    }

    /// The service for a connection from `peer`.
    pub fn connection(&self, peer: SocketAddr) -> Connection {
        Connection {
            state: self.state.clone(),
            router: self.router.clone(),
            peer,
        }
    }
}

/// The service of one client connection.
#[derive(Clone)]
pub struct Connection {
    state: AppState,
    router: NormalizedRouter,
    peer: SocketAddr,
}

/// A hot-lane answer in the making.
type HotFuture = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

impl hyper::service::Service<http::Request<Incoming>> for Connection {
    type Response = Response;
    type Error = Infallible;
    type Future = Either<HotFuture, Oneshot<NormalizedRouter, Request>>;

    fn call(&self, request: http::Request<Incoming>) -> Self::Future {
        let mut request = request.map(Body::new);
        match hot_route(request.method(), request.uri().path()) {
            Some(route) => {
                Either::Left(Box::pin(hot(self.state.clone(), route, self.peer, request)))
            }
            None => {
                request.extensions_mut().insert(ConnectInfo(self.peer));
                Either::Right(self.router.clone().oneshot(request))
            }
        }
    }
}

/// Serve a hot-lane request as the router's layers and handler would.
async fn hot(
    app: AppState,
    route: HotRoute,
    peer: SocketAddr,
    request: Request,
) -> Result<Response, Infallible> {
    let (parts, body) = request.into_parts();
    let handler = async move {
        match route {
            HotRoute::OpenAi(protocol) => {
                openai::relay_protocol(app, protocol, peer, &parts.uri, parts.headers, body).await
            }
            HotRoute::Messages => {
                anthropic::relay_messages(app, peer, &parts.uri, parts.headers, body).await
            }
        }
    };
    let mut response = AssertUnwindSafe(handler)
        .catch_unwind()
        .await
        .unwrap_or_else(|_| crate::app::panic_response());
    add_cors_headers(response.headers_mut());
    Ok(response)
}

/// Any origin, any exposed header (`CorsLayer::permissive`).
const CORS_ANY: HeaderValue = HeaderValue::from_static("*");

/// The headers `CorsLayer::permissive()` adds to an answer that is not a
/// preflight, in the same order, replacing any the handler set. (It adds no
/// `Vary`: with every origin, method and header allowed, nothing varies.)
fn add_cors_headers(headers: &mut HeaderMap) {
    headers.insert(ACCESS_CONTROL_EXPOSE_HEADERS, CORS_ANY);
    headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, CORS_ANY);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_exact_posts_to_the_relay_endpoints_take_the_hot_lane() {
        let post = Method::POST;
        assert_eq!(
            hot_route(&post, "/v1/chat/completions"),
            Some(HotRoute::OpenAi(Protocol::Chat))
        );
        assert_eq!(hot_route(&post, "/v1/messages"), Some(HotRoute::Messages));
        assert_eq!(
            hot_route(&post, "/v1/responses"),
            Some(HotRoute::OpenAi(Protocol::Responses))
        );
        assert_eq!(hot_route(&post, "/v1/chat/completions/"), None);
        assert_eq!(hot_route(&post, "/v1/messages/count_tokens"), None);
        assert_eq!(hot_route(&Method::OPTIONS, "/v1/chat/completions"), None);
        assert_eq!(hot_route(&Method::GET, "/v1/responses"), None);
    }
}
