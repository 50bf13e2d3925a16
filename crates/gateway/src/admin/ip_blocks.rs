//! `/api/ip_blocks`: the IPs the abuse check blocked (see [`crate::watch`]);
//! list them and lift a block.

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::{delete, get};
use serde_json::{Value, json};

use super::{AdminError, AdminResult, ok};
use crate::state::AppState;
use crate::store::ip_blocks::IpBlock;
use crate::store::now_ms;

/// IP block routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ip_blocks", get(list))
        .route("/ip_blocks/{ip}", delete(unblock))
}

async fn list(State(app): State<AppState>) -> AdminResult<Vec<IpBlock>> {
    Ok(ok(app.store.active_ip_blocks(now_ms()).await?))
}

/// Lift the block (the groups it disabled stay disabled: enable them on purpose).
async fn unblock(State(app): State<AppState>, Path(ip): Path<String>) -> AdminResult<Value> {
    if !app.store.unblock_ip(&ip).await? {
        return Err(AdminError::NotFound(format!(
            "ip block {ip}: record not found"
        )));
    }
    app.config_changed().await?;
    Ok(ok(json!({ "ip": ip })))
}
