//! OpenAI's legacy billing endpoints, answered for the calling token:
//! `GET /v1/dashboard/billing/subscription`, `/usage` and `/quota`.
//!
//! Off the hot path, so the figures are read from the database (what the
//! log sink has persisted: at most one batch behind), not the snapshot.
//! The hard limit is the tighter of the token's quota and its group's
//! budget; with neither, [`UNLIMITED`] (clients display it as a balance).

use std::net::SocketAddr;

use axum::Json;
use axum::Router;
use axum::extract::{ConnectInfo, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::HeaderMap;
use serde_json::{Value, json};

use super::incoming::authenticated;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::state::AppState;

/// The hard limit reported when neither a quota nor a budget is set.
pub const UNLIMITED: f64 = 100_000_000.0;

/// The billing routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/dashboard/billing/subscription", get(subscription))
        .route("/dashboard/billing/subscription", get(subscription))
        .route("/v1/dashboard/billing/usage", get(usage))
        .route("/dashboard/billing/usage", get(usage))
        .route("/v1/dashboard/billing/quota", get(quota))
        .route("/dashboard/billing/quota", get(quota))
}

/// The calling token's limit and spend.
struct Standing {
    hard_limit: f64,
    used: f64,
}

async fn standing(
    app: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
) -> Result<Standing, ApiError> {
    let (principal, _) = authenticated(app, peer, headers)?;
    let Principal::Token { token, group } = principal else {
        return Ok(Standing {
            hard_limit: UNLIMITED,
            used: 0.0,
        });
    };
    let unavailable = |e: crate::store::StoreError| {
        tracing::warn!(error = %e, "billing endpoint: database unavailable");
        ApiError::unavailable("billing figures are unavailable, please try again later")
    };
    let token = app
        .store
        .get_token(None, token.token.id)
        .await
        .map_err(unavailable)?;
    let group = app
        .store
        .get_group(&group.group.id)
        .await
        .map_err(unavailable)?;
    let hard_limit = [token.quota, group.budget]
        .into_iter()
        .filter(|v| *v > 0.0)
        .reduce(f64::min)
        .unwrap_or(UNLIMITED);
    Ok(Standing {
        hard_limit,
        used: token.used_amount,
    })
}

/// Answer with `render(standing)`, or the error in OpenAI's shape.
async fn answer(
    app: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    render: impl FnOnce(Standing) -> Value,
) -> Response {
    match standing(app, peer, headers).await {
        Ok(s) => Json(render(s)).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn subscription(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    answer(&app, peer, &headers, |s| {
        json!({
            "object": "billing_subscription",
            "has_payment_method": true,
            "soft_limit_usd": s.hard_limit,
            "hard_limit_usd": s.hard_limit,
            "system_hard_limit_usd": s.hard_limit,
            "access_until": 0,
        })
    })
    .await
}

async fn usage(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    answer(
        &app,
        peer,
        &headers,
        |s| json!({ "object": "list", "total_usage": s.used * 100.0 }),
    )
    .await
}

async fn quota(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    answer(
        &app,
        peer,
        &headers,
        |s| json!({ "total": s.hard_limit, "remain": (s.hard_limit - s.used).max(0.0) }),
    )
    .await
}
