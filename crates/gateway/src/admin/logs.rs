//! `/api/logs/*` (all groups) and `/api/log/{group}/*`: request logs, their
//! stored bodies and failed attempts.

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use serde_json::{Value, json};

use super::extract::{AdminQuery, parse_id};
use super::{AdminError, AdminResult, ok};
use crate::logs::record::RetryRecord;
use crate::state::AppState;
use crate::store::logs::{CodeType, LogFilter};

/// Log routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/logs", get(search).delete(delete_before))
        .route("/logs/search", get(search))
        .route("/logs/detail/{id}", get(detail))
        .route("/logs/retry_logs", get(retry_logs))
        .route("/log/{group}", get(search_group))
        .route("/log/{group}/search", get(search_group))
        .route("/log/{group}/detail/{id}", get(detail_group))
        .route("/logs/export", get(super::log_export::export_all))
        .route("/log/{group}/export", get(super::log_export::export_group))
}

fn code_type(value: Option<&str>) -> Result<CodeType, AdminError> {
    match value.map(str::to_ascii_lowercase).as_deref() {
        None | Some("all") => Ok(CodeType::All),
        Some("success") => Ok(CodeType::Success),
        Some("error") => Ok(CodeType::Error),
        Some(other) => Err(AdminError::BadRequest(format!(
            "`code_type` must be all, success or error, got `{other}`"
        ))),
    }
}

/// `…-asc` sorts oldest first; anything else (or nothing) newest first.
fn ascending(order: Option<&str>) -> bool {
    order
        .and_then(|o| o.rsplit_once('-'))
        .is_some_and(|(_, dir)| dir.eq_ignore_ascii_case("asc"))
}

/// The filters of every log search; `group` (from the path) wins over the query.
pub(super) fn filter(q: &AdminQuery, group: Option<String>) -> Result<LogFilter, AdminError> {
    let start_ms = q.timestamp_ms("start_timestamp")?;
    let end_ms = q.timestamp_ms("end_timestamp")?;
    if let (Some(start), Some(end)) = (start_ms, end_ms)
        && start > end
    {
        return Err(AdminError::BadRequest(
            "`start_timestamp` must not be after `end_timestamp`".into(),
        ));
    }
    Ok(LogFilter {
        start_ms,
        end_ms,
        model: q.text("model_name"),
        channel_id: q.id_filter("channel")?,
        request_id: q.text("request_id"),
        upstream_id: q.text("upstream_id"),
        code_type: code_type(q.text("code_type").as_deref())?,
        code: q.id_filter("code")?,
        ip: q.text("ip"),
        group: group.or_else(|| q.text("group")),
        token_name: q.text("token_name"),
        token_id: q.id_filter("token_id")?,
        user: q.text("user"),
        keyword: q.text("keyword"),
        ascending: ascending(q.text("order").as_deref()),
    })
}

async fn run_search(app: &AppState, q: &AdminQuery, group: Option<String>) -> AdminResult<Value> {
    let (logs, total) = app.store.search_logs(&filter(q, group)?, q.page()?).await?;
    Ok(ok(json!({ "logs": logs, "total": total })))
}

async fn search(State(app): State<AppState>, q: AdminQuery) -> AdminResult<Value> {
    run_search(&app, &q, None).await
}

async fn search_group(
    State(app): State<AppState>,
    Path(group): Path<String>,
    q: AdminQuery,
) -> AdminResult<Value> {
    run_search(&app, &q, Some(group)).await
}

async fn run_detail(app: &AppState, id: &str, group: Option<&str>) -> AdminResult<Value> {
    let log_id = parse_id(id)?;
    let (id, d) = app.store.log_detail(log_id, group).await?;
    Ok(ok(json!({
        "id": id,
        "log_id": log_id,
        "request_body": d.request_body,
        "response_body": d.response_body,
        "request_body_truncated": d.request_body_truncated,
        "response_body_truncated": d.response_body_truncated,
    })))
}

async fn detail(State(app): State<AppState>, Path(id): Path<String>) -> AdminResult<Value> {
    run_detail(&app, &id, None).await
}

async fn detail_group(
    State(app): State<AppState>,
    Path((group, id)): Path<(String, String)>,
) -> AdminResult<Value> {
    run_detail(&app, &id, Some(&group)).await
}

async fn delete_before(State(app): State<AppState>, q: AdminQuery) -> AdminResult<Value> {
    let Some(before) = q.timestamp_ms("timestamp")? else {
        return Err(AdminError::BadRequest(
            "`timestamp` is required: logs created before it are deleted".into(),
        ));
    };
    let deleted = app.store.delete_logs_before(before).await?;
    Ok(ok(json!({ "deleted": deleted })))
}

async fn retry_logs(State(app): State<AppState>, q: AdminQuery) -> AdminResult<Vec<RetryRecord>> {
    let Some(request_id) = q.text("request_id") else {
        return Err(AdminError::BadRequest("`request_id` is required".into()));
    };
    Ok(ok(app.store.retry_logs(&request_id).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> AdminQuery {
        AdminQuery(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn code_type_values() {
        assert_eq!(code_type(None).unwrap(), CodeType::All);
        assert_eq!(code_type(Some("Success")).unwrap(), CodeType::Success);
        assert_eq!(code_type(Some("error")).unwrap(), CodeType::Error);
        assert!(code_type(Some("bad")).is_err());
    }

    #[test]
    fn order_direction() {
        assert!(ascending(Some("created_at-asc")));
        assert!(!ascending(Some("created_at-desc")));
        assert!(!ascending(None));
    }

    #[test]
    fn fastgpt_query_has_no_silent_window() {
        let f = filter(
            &q(&[
                ("channel", ""),
                ("model_name", ""),
                ("code_type", "all"),
                ("p", "2"),
                ("per_page", "20"),
            ]),
            None,
        )
        .unwrap();
        assert_eq!(
            (f.start_ms, f.end_ms, f.channel_id, f.model.clone()),
            (None, None, None, None)
        );
        let f = filter(
            &q(&[("start_timestamp", "1700000000"), ("group", "other")]),
            Some("g".into()),
        )
        .unwrap();
        assert_eq!(f.start_ms, Some(1_700_000_000_000));
        assert_eq!(f.group.as_deref(), Some("g"));
    }
}
