//! `/api/token/{group}/*` (group-scoped) and `/api/tokens/*` (global): API keys.

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::extract::{AdminJson, AdminQuery, IdList, StatusBody, parse_id};
use super::{AdminError, AdminResult, ok};
use crate::model::group::{Group, check_group_id};
use crate::model::token::{Token, TokenWrite, generate_key};
use crate::state::AppState;
use crate::store::tokens::TokenFilter;
use crate::store::{StoreError, now_ms};

/// Token routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/tokens", get(list_all))
        .route("/tokens/search", get(search_all))
        .route("/tokens/batch_delete", post(batch_delete_all))
        .route(
            "/tokens/{id}",
            get(get_any).put(update_any).delete(delete_any),
        )
        .route("/tokens/{id}/status", post(set_status_any))
        .route("/tokens/{id}/name", post(set_name_any))
        .route("/token/{group}", get(list_group).post(create))
        .route("/token/{group}/search", get(search_group))
        .route("/token/{group}/batch_delete", post(batch_delete_group))
        .route(
            "/token/{group}/{id}",
            get(get_in_group)
                .put(update_in_group)
                .delete(delete_in_group),
        )
        .route("/token/{group}/{id}/status", post(set_status_in_group))
        .route("/token/{group}/{id}/name", post(set_name_in_group))
}

/// A token id from the path; garbage is a 400 envelope, not a framework rejection.
fn filter(q: &AdminQuery, group: Option<String>, search: bool) -> Result<TokenFilter, AdminError> {
    Ok(TokenFilter {
        group,
        keyword: if search { q.text("keyword") } else { None },
        name: q.text("name"),
        status: q.id_filter("status")?,
        order: q.text("order"),
    })
}

async fn page(app: &AppState, f: TokenFilter, q: &AdminQuery) -> AdminResult<Value> {
    let (tokens, total) = app.store.page_tokens(&f, q.page()?).await?;
    Ok(ok(json!({ "tokens": tokens, "total": total })))
}

async fn list_all(State(app): State<AppState>, q: AdminQuery) -> AdminResult<Value> {
    page(&app, filter(&q, q.text("group"), false)?, &q).await
}

async fn search_all(State(app): State<AppState>, q: AdminQuery) -> AdminResult<Value> {
    page(&app, filter(&q, q.text("group"), true)?, &q).await
}

async fn list_group(
    State(app): State<AppState>,
    Path(group): Path<String>,
    q: AdminQuery,
) -> AdminResult<Value> {
    page(&app, filter(&q, Some(group), false)?, &q).await
}

async fn search_group(
    State(app): State<AppState>,
    Path(group): Path<String>,
    q: AdminQuery,
) -> AdminResult<Value> {
    page(&app, filter(&q, Some(group), true)?, &q).await
}

async fn create(
    State(app): State<AppState>,
    Path(group): Path<String>,
    q: AdminQuery,
    AdminJson(write): AdminJson<TokenWrite>,
) -> AdminResult<Token> {
    write.validate(true)?;
    let ignore_exist = q.flag("ignore_exist")?;
    let now = now_ms();
    let mut group_created = false;
    match app.store.get_group(&group).await {
        Ok(_) => {}
        Err(StoreError::NotFound(_)) if q.flag("auto_create_group")? => {
            check_group_id(&group)?;
            app.store.ensure_group(&Group::new(&group, now)).await?;
            group_created = true;
        }
        Err(e) => return Err(e.into()),
    }
    let result = insert_token(&app, &group, write, ignore_exist, now).await;
    if group_created || matches!(result, Ok((_, true))) {
        app.config_changed().await?;
    }
    Ok(ok(result?.0))
}

/// Create the token (or, with `ignore_exist`, find the one of that name);
/// the flag says whether a row was inserted.
async fn insert_token(
    app: &AppState,
    group: &str,
    write: TokenWrite,
    ignore_exist: bool,
    now: i64,
) -> Result<(Token, bool), AdminError> {
    let name = write.name.as_deref().unwrap_or_default().trim().to_owned();
    if ignore_exist && let Some(existing) = app.store.token_by_name(group, &name).await? {
        return Ok((existing, false));
    }
    let max = app.snapshot.get().options.group_max_token_num;
    let mut token = Token::new(group, write, generate_key(), now);
    match app.store.insert_token(&token, max).await {
        Ok(id) => {
            token.id = id;
            Ok((token, true))
        }
        // A concurrent create with the same name may have won the race.
        Err(StoreError::Conflict(message)) => {
            let existing = if ignore_exist {
                app.store.token_by_name(group, &name).await?
            } else {
                None
            };
            existing
                .map(|t| (t, false))
                .ok_or(AdminError::Conflict(message))
        }
        Err(e) => Err(e.into()),
    }
}

// ---- one token, in a group or anywhere ----

async fn get_token(app: &AppState, group: Option<&str>, id: &str) -> AdminResult<Token> {
    Ok(ok(app.store.get_token(group, parse_id(id)?).await?))
}

async fn update_token(
    app: &AppState,
    group: Option<&str>,
    id: &str,
    write: TokenWrite,
) -> AdminResult<Token> {
    write.validate(false)?;
    let mut token = app.store.get_token(group, parse_id(id)?).await?;
    write.apply_to(&mut token);
    token.updated_at = now_ms();
    app.store.update_token(&token).await?;
    app.config_changed().await?;
    Ok(ok(token))
}

async fn delete_token(app: &AppState, group: Option<&str>, id: &str) -> AdminResult<Value> {
    let id = parse_id(id)?;
    if app.store.delete_tokens(group, &[id]).await? == 0 {
        return Err(AdminError::NotFound(format!(
            "token {id}: record not found"
        )));
    }
    app.config_changed().await?;
    Ok(ok(Value::Null))
}

async fn set_status(
    app: &AppState,
    group: Option<&str>,
    id: &str,
    status: i64,
) -> AdminResult<Value> {
    update_token(
        app,
        group,
        id,
        TokenWrite {
            status: Some(status),
            ..TokenWrite::default()
        },
    )
    .await?;
    Ok(ok(Value::Null))
}

#[derive(serde::Deserialize)]
struct NameBody {
    name: String,
}

async fn set_name(
    app: &AppState,
    group: Option<&str>,
    id: &str,
    name: String,
) -> AdminResult<Value> {
    update_token(
        app,
        group,
        id,
        TokenWrite {
            name: Some(name),
            ..TokenWrite::default()
        },
    )
    .await?;
    Ok(ok(Value::Null))
}

async fn batch_delete(app: &AppState, group: Option<&str>, ids: IdList<i64>) -> AdminResult<Value> {
    let deleted = app.store.delete_tokens(group, &ids.into_vec()).await?;
    app.config_changed().await?;
    Ok(ok(json!({ "deleted": deleted })))
}

async fn get_any(State(app): State<AppState>, Path(id): Path<String>) -> AdminResult<Token> {
    get_token(&app, None, &id).await
}

async fn update_any(
    State(app): State<AppState>,
    Path(id): Path<String>,
    AdminJson(write): AdminJson<TokenWrite>,
) -> AdminResult<Token> {
    update_token(&app, None, &id, write).await
}

async fn delete_any(State(app): State<AppState>, Path(id): Path<String>) -> AdminResult<Value> {
    delete_token(&app, None, &id).await
}

async fn set_status_any(
    State(app): State<AppState>,
    Path(id): Path<String>,
    AdminJson(body): AdminJson<StatusBody>,
) -> AdminResult<Value> {
    set_status(&app, None, &id, body.status).await
}

async fn set_name_any(
    State(app): State<AppState>,
    Path(id): Path<String>,
    AdminJson(body): AdminJson<NameBody>,
) -> AdminResult<Value> {
    set_name(&app, None, &id, body.name).await
}

async fn batch_delete_all(
    State(app): State<AppState>,
    AdminJson(ids): AdminJson<IdList<i64>>,
) -> AdminResult<Value> {
    batch_delete(&app, None, ids).await
}

async fn get_in_group(
    State(app): State<AppState>,
    Path((group, id)): Path<(String, String)>,
) -> AdminResult<Token> {
    get_token(&app, Some(&group), &id).await
}

async fn update_in_group(
    State(app): State<AppState>,
    Path((group, id)): Path<(String, String)>,
    AdminJson(write): AdminJson<TokenWrite>,
) -> AdminResult<Token> {
    update_token(&app, Some(&group), &id, write).await
}

async fn delete_in_group(
    State(app): State<AppState>,
    Path((group, id)): Path<(String, String)>,
) -> AdminResult<Value> {
    delete_token(&app, Some(&group), &id).await
}

async fn set_status_in_group(
    State(app): State<AppState>,
    Path((group, id)): Path<(String, String)>,
    AdminJson(body): AdminJson<StatusBody>,
) -> AdminResult<Value> {
    set_status(&app, Some(&group), &id, body.status).await
}

async fn set_name_in_group(
    State(app): State<AppState>,
    Path((group, id)): Path<(String, String)>,
    AdminJson(body): AdminJson<NameBody>,
) -> AdminResult<Value> {
    set_name(&app, Some(&group), &id, body.name).await
}

async fn batch_delete_group(
    State(app): State<AppState>,
    Path(group): Path<String>,
    AdminJson(ids): AdminJson<IdList<i64>>,
) -> AdminResult<Value> {
    batch_delete(&app, Some(&group), ids).await
}
