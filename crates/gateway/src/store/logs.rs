//! Log queries: batched inserts from the sink, admin search, details,
//! retention deletes and the usage counters kept on tokens, groups and channels.

use std::collections::{BTreeMap, HashMap};

use sqlx::Row;
use sqlx::any::AnyRow;
use switchyard_protocol::Usage;

use super::log_batch::{
    LogBatch, LogInsertHeads, MultiRow, chunk_texts, has_details, request_insert,
};
use super::row::flag;
use super::sql::{Page, Sql, contains_pattern};
use super::values::{
    INSERT_DETAIL, INSERT_RETRY, LOG_COLUMNS, UPDATE_CHANNEL_COUNTERS, UPDATE_GROUP_COUNTERS,
    UPDATE_TOKEN_COUNTERS, Value, detail_row, retry_row,
};
use super::{DbKind, Store, StoreError};
use crate::billing::Charge;
use crate::logs::record::{LogDetail, LogEntry, LogRecord, RetryRecord};

/// Which rows `code_type` selects.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CodeType {
    /// Every row.
    #[default]
    All,
    /// `code = 200`.
    Success,
    /// `code != 200`.
    Error,
}

/// Filters of the log search endpoints.
#[derive(Debug, Clone, Default)]
pub struct LogFilter {
    /// Inclusive lower bound on `created_at` (ms).
    pub start_ms: Option<i64>,
    /// Inclusive upper bound on `created_at` (ms).
    pub end_ms: Option<i64>,
    /// Requested model.
    pub model: Option<String>,
    /// Channel id.
    pub channel_id: Option<i64>,
    /// Request id.
    pub request_id: Option<String>,
    /// Upstream id.
    pub upstream_id: Option<String>,
    /// Success/error selector.
    pub code_type: CodeType,
    /// Exact status.
    pub code: Option<i64>,
    /// Client IP.
    pub ip: Option<String>,
    /// Group.
    pub group: Option<String>,
    /// Token name.
    pub token_name: Option<String>,
    /// Token id.
    pub token_id: Option<i64>,
    /// End user.
    pub user: Option<String>,
    /// Substring over request id, model, token name, content, user, upstream id.
    pub keyword: Option<String>,
    /// Oldest first instead of newest first.
    pub ascending: bool,
}

fn usage_from_row(row: &AnyRow) -> Result<Usage, StoreError> {
    Ok(Usage {
        input_tokens: row.try_get("input_tokens")?,
        image_input_tokens: row.try_get("image_input_tokens")?,
        audio_input_tokens: row.try_get("audio_input_tokens")?,
        video_input_tokens: row.try_get("video_input_tokens")?,
        output_tokens: row.try_get("output_tokens")?,
        image_output_tokens: row.try_get("image_output_tokens")?,
        audio_output_tokens: row.try_get("audio_output_tokens")?,
        cached_tokens: row.try_get("cached_tokens")?,
        cache_creation_tokens: row.try_get("cache_creation_tokens")?,
        reasoning_tokens: row.try_get("reasoning_tokens")?,
        total_tokens: row.try_get("total_tokens")?,
        web_search_count: row.try_get("web_search_count")?,
    })
}

fn from_row(row: &AnyRow) -> Result<LogRecord, StoreError> {
    let metadata: String = row.try_get("metadata")?;
    Ok(LogRecord {
        id: row.try_get("id")?,
        request_id: row.try_get("request_id")?,
        request_at: row.try_get("request_at")?,
        retry_at: row.try_get("retry_at")?,
        created_at: row.try_get("created_at")?,
        ttfb_milliseconds: row.try_get("ttfb_milliseconds")?,
        group_id: row.try_get("group_id")?,
        token_id: row.try_get("token_id")?,
        token_name: row.try_get("token_name")?,
        model: row.try_get("model")?,
        actual_model: row.try_get("actual_model")?,
        channel_id: row.try_get("channel_id")?,
        mode: row.try_get("mode")?,
        endpoint: row.try_get("endpoint")?,
        code: row.try_get("code")?,
        content: row.try_get("content")?,
        ip: row.try_get("ip")?,
        retry_times: row.try_get("retry_times")?,
        user: row.try_get("end_user")?,
        metadata: serde_json::from_str(&metadata).unwrap_or(serde_json::Value::Null),
        upstream_id: row.try_get("upstream_id")?,
        stream: flag(row, "stream")?,
        usage: usage_from_row(row)?,
        usage_estimated: flag(row, "usage_estimated")?,
        used_amount: row.try_get("used_amount")?,
        charge: charge_from_row(row)?,
    })
}

/// The `price` and `amount` columns (JSON text, empty for a free model).
fn charge_from_row(row: &AnyRow) -> Result<Option<Charge>, StoreError> {
    let price: String = row.try_get("price")?;
    let amount: String = row.try_get("amount")?;
    if price.is_empty() {
        return Ok(None);
    }
    Ok(Some(Charge {
        price: serde_json::from_str(&price).unwrap_or_default(),
        amount: serde_json::from_str(&amount).unwrap_or_default(),
    }))
}

fn push_filters(sql: &mut Sql, f: &LogFilter) -> Result<(), StoreError> {
    push_filters_on(sql, f, "")
}

/// The filters with columns qualified by the `l` alias (for joins).
fn push_filters_qualified(sql: &mut Sql, f: &LogFilter) -> Result<(), StoreError> {
    push_filters_on(sql, f, "l.")
}

fn push_filters_on(sql: &mut Sql, f: &LogFilter, p: &str) -> Result<(), StoreError> {
    sql.push(" WHERE 1 = 1");
    if let Some(v) = f.start_ms {
        sql.push(&format!(" AND {p}created_at >= ")).bind(v)?;
    }
    if let Some(v) = f.end_ms {
        sql.push(&format!(" AND {p}created_at <= ")).bind(v)?;
    }
    for (col, value) in [
        ("model", &f.model),
        ("request_id", &f.request_id),
        ("upstream_id", &f.upstream_id),
        ("ip", &f.ip),
        ("group_id", &f.group),
        ("token_name", &f.token_name),
        ("end_user", &f.user),
    ] {
        if let Some(v) = value {
            sql.push(&format!(" AND {p}{col} = ")).bind(v.clone())?;
        }
    }
    if let Some(v) = f.channel_id {
        sql.push(&format!(" AND {p}channel_id = ")).bind(v)?;
    }
    if let Some(v) = f.token_id {
        sql.push(&format!(" AND {p}token_id = ")).bind(v)?;
    }
    if let Some(v) = f.code {
        sql.push(&format!(" AND {p}code = ")).bind(v)?;
    }
    match f.code_type {
        CodeType::All => {}
        CodeType::Success => {
            sql.push(&format!(" AND {p}code = 200"));
        }
        CodeType::Error => {
            sql.push(&format!(" AND {p}code <> 200"));
        }
    }
    if let Some(k) = f.keyword.as_deref().filter(|k| !k.is_empty()) {
        let pattern = contains_pattern(k);
        sql.push(" AND (");
        for (i, col) in [
            "request_id",
            "model",
            "token_name",
            "content",
            "end_user",
            "upstream_id",
            "ip",
        ]
        .iter()
        .enumerate()
        {
            if i > 0 {
                sql.push(" OR ");
            }
            sql.push(&format!("LOWER({p}{col}) LIKE "))
                .bind(pattern.clone())?
                .push(" ESCAPE '\\'");
        }
        sql.push(")");
    }
    Ok(())
}

/// Per-entity increments accumulated from a batch of log records.
///
/// Ordered maps: every instance updates the rows in the same order (tokens,
/// groups, channels, each by key; after the batch's summary rows, ordered
/// too), so batches of several instances writing at once on PostgreSQL wait
/// for each other's row locks instead of deadlocking.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct UsageCounters {
    /// token id → (requests, amount, last access).
    pub tokens: BTreeMap<i64, (i64, f64, i64)>,
    /// group id → (requests, amount, last access).
    pub groups: BTreeMap<String, (i64, f64, i64)>,
    /// channel id → (requests, retries, amount, last access).
    pub channels: BTreeMap<i64, (i64, i64, f64, i64)>,
}

impl UsageCounters {
    /// Account one entry.
    pub fn add(&mut self, entry: &LogEntry) {
        match entry {
            LogEntry::Request { record: r, .. } | LogEntry::CountOnly(r) => {
                if r.token_id > 0 {
                    let t = self.tokens.entry(r.token_id).or_default();
                    t.0 += 1;
                    t.1 += r.used_amount;
                    t.2 = t.2.max(r.created_at);
                }
                if !r.group_id.is_empty() {
                    let g = self.groups.entry(r.group_id.clone()).or_default();
                    g.0 += 1;
                    g.1 += r.used_amount;
                    g.2 = g.2.max(r.created_at);
                }
                if r.channel_id > 0 {
                    let c = self.channels.entry(r.channel_id).or_default();
                    c.0 += 1;
                    c.2 += r.used_amount;
                    c.3 = c.3.max(r.created_at);
                }
            }
            LogEntry::Retry(r) => {
                if r.channel_id > 0 {
                    let c = self.channels.entry(r.channel_id).or_default();
                    c.1 += 1;
                    c.3 = c.3.max(r.created_at);
                }
            }
        }
    }

    /// True when nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty() && self.groups.is_empty() && self.channels.is_empty()
    }

    /// The statements that apply the counters, with their values
    /// ([`UPDATE_TOKEN_COUNTERS`] and its siblings).
    pub fn updates(&self) -> Vec<(&'static str, Vec<Value<'_>>)> {
        use Value::{Int, Real, Text};
        let tokens = self.tokens.iter().map(|(id, (n, amount, at))| {
            let values = vec![Int(*n), Real(*amount), Int(*at), Int(*id)];
            (UPDATE_TOKEN_COUNTERS, values)
        });
        let groups = self.groups.iter().map(|(id, (n, amount, at))| {
            let values = vec![Int(*n), Real(*amount), Int(*at), Text(id.as_str())];
            (UPDATE_GROUP_COUNTERS, values)
        });
        let channels = self.channels.iter().map(|(id, (n, retries, amount, at))| {
            let values = vec![Int(*n), Real(*amount), Int(*at), Int(*retries), Int(*id)];
            (UPDATE_CHANNEL_COUNTERS, values)
        });
        tokens.chain(groups).chain(channels).collect()
    }
}

impl Store {
    /// Insert a batch of entries (logs with their details, retry logs) and add
    /// their summaries, in one transaction. When the logs are kept in the
    /// main database, `counters` (what the batch, and any batch whose
    /// counters are not saved yet, adds to tokens, groups and channels) join
    /// that transaction, so the rows and the usage they count are saved
    /// together or not at all, and the result is `true`. Otherwise the
    /// result is `false` and the caller applies them with
    /// [`Self::apply_usage_counters`].
    pub async fn insert_log_batch(
        &self,
        entries: &[LogEntry],
        counters: &UsageCounters,
    ) -> Result<bool, StoreError> {
        let batch = LogBatch::new(entries);
        let mut tx = self.logs().begin().await?;
        let kind = self.logs_kind();
        let heads = LogInsertHeads::new(kind);
        for chunk in batch.request_chunks() {
            let texts = chunk_texts(chunk.rows);
            let (text, args) = self.multi_row_sql(&request_insert(&heads, chunk, &texts))?;
            // Row ids are only needed to attach details. Without any, skip
            // `RETURNING`: each returned row is a separate hand-off from the
            // SQLite thread to the runtime, which stalled requests behind it.
            // The `RETURNING` form is rare (details are kept for errors) and
            // not cached.
            if !has_details(chunk.rows) {
                sqlx::query_with(text, args).execute(&mut *tx).await?;
                continue;
            }
            let rows: Vec<(i64, String)> = sqlx::query_as_with(text, args)
                .persistent(false)
                .fetch_all(&mut *tx)
                .await?;
            let ids: HashMap<String, i64> = rows.into_iter().map(|(id, rid)| (rid, id)).collect();
            for (record, detail) in chunk.rows {
                let (Some(detail), Some(log_id)) = (detail, ids.get(&record.request_id)) else {
                    continue;
                };
                bound(
                    INSERT_DETAIL,
                    &detail_row(*log_id, record.created_at, detail),
                )
                .execute(&mut *tx)
                .await?;
            }
        }
        for retry in &batch.retries {
            bound(INSERT_RETRY, &retry_row(retry))
                .execute(&mut *tx)
                .await?;
        }
        // Same transaction as the rows: a retried batch is never counted twice.
        for upsert in batch.summary_upserts() {
            let (text, args) = self.multi_row_sql(&upsert)?;
            sqlx::query_with(text, args).execute(&mut *tx).await?;
        }
        let counters_saved = !self.separate_logs;
        if counters_saved {
            update_counters(&mut tx, counters).await?;
        }
        tx.commit().await?;
        Ok(counters_saved)
    }

    /// A multi-row statement on the log database. SQLite resolves `$N`
    /// names by a linear scan per parameter; anonymous `?` keeps a
    /// many-parameter statement linear.
    fn multi_row_sql(
        &self,
        statement: &MultiRow<'_>,
    ) -> Result<(sqlx::AssertSqlSafe<String>, sqlx::any::AnyArguments), StoreError> {
        let mut sql = match self.logs_kind() {
            DbKind::Sqlite => Sql::positional(statement.head),
            DbKind::Postgres => Sql::new(statement.head),
        };
        sql.bind_rows(&statement.values, statement.width)?
            .push(statement.tail);
        Ok(sql.into_parts())
    }

    /// Add request counts, amounts and last-access times to tokens, groups and channels.
    pub async fn apply_usage_counters(&self, c: &UsageCounters) -> Result<(), StoreError> {
        let mut tx = self.main().begin().await?;
        update_counters(&mut tx, c).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A page of logs matching `f`, newest first, with the total count.
    pub async fn search_logs(
        &self,
        f: &LogFilter,
        page: Page,
    ) -> Result<(Vec<LogRecord>, i64), StoreError> {
        let mut count = Sql::new("SELECT COUNT(*) FROM logs");
        push_filters(&mut count, f)?;
        let (text, args) = count.into_parts();
        let total: i64 = sqlx::query_scalar_with(text, args)
            .fetch_one(self.logs())
            .await?;
        let mut sql = Sql::new(&format!("SELECT id, {LOG_COLUMNS} FROM logs"));
        push_filters(&mut sql, f)?;
        sql.push(if f.ascending {
            " ORDER BY created_at ASC, id ASC"
        } else {
            " ORDER BY created_at DESC, id DESC"
        });
        page.push_limit(&mut sql)?;
        let (text, args) = sql.into_parts();
        let rows = sqlx::query_with(text, args).fetch_all(self.logs()).await?;
        Ok((rows.iter().map(from_row).collect::<Result<_, _>>()?, total))
    }

    /// One page of an export: rows matching `f` after the keyset position
    /// `after` = (created_at, id) in the filter's order, with their bodies
    /// when `with_detail` (empty strings when none were stored).
    pub async fn export_logs_page(
        &self,
        f: &LogFilter,
        after: Option<(i64, i64)>,
        limit: i64,
        with_detail: bool,
    ) -> Result<Vec<(LogRecord, LogDetail)>, StoreError> {
        let columns = LOG_COLUMNS
            .split(',')
            .map(|c| format!("l.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        let detail = if with_detail {
            ", COALESCE(d.request_body, '') AS request_body, COALESCE(d.response_body, '') AS response_body \
             FROM logs l LEFT JOIN request_details d ON d.log_id = l.id"
        } else {
            ", '' AS request_body, '' AS response_body FROM logs l"
        };
        let mut sql = Sql::new(&format!("SELECT l.id, {columns}{detail}"));
        push_filters_qualified(&mut sql, f)?;
        let (cmp, dir) = if f.ascending {
            (">", "ASC")
        } else {
            ("<", "DESC")
        };
        if let Some((created, id)) = after {
            sql.push(&format!(" AND (l.created_at {cmp} "))
                .bind(created)?
                .push(" OR (l.created_at = ")
                .bind(created)?
                .push(&format!(" AND l.id {cmp} "))
                .bind(id)?
                .push("))");
        }
        sql.push(&format!(" ORDER BY l.created_at {dir}, l.id {dir} LIMIT "))
            .bind(limit)?;
        let (text, args) = sql.into_parts();
        let rows = sqlx::query_with(text, args).fetch_all(self.logs()).await?;
        rows.iter()
            .map(|row| {
                Ok((
                    from_row(row)?,
                    LogDetail {
                        request_body: row.try_get("request_body")?,
                        response_body: row.try_get("response_body")?,
                        ..LogDetail::default()
                    },
                ))
            })
            .collect()
    }

    /// The stored bodies of a log row; `group` restricts to that group's logs.
    pub async fn log_detail(
        &self,
        log_id: i64,
        group: Option<&str>,
    ) -> Result<(i64, LogDetail), StoreError> {
        let row = sqlx::query(
            "SELECT d.id, d.request_body, d.response_body, d.request_body_truncated, d.response_body_truncated, \
             l.group_id FROM request_details d JOIN logs l ON l.id = d.log_id WHERE d.log_id = $1",
        )
        .bind(log_id)
        .fetch_optional(self.logs())
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("log detail {log_id}")))?;
        let owner: String = row.try_get("group_id")?;
        if group.is_some_and(|g| g != owner) {
            return Err(StoreError::NotFound(format!("log detail {log_id}")));
        }
        Ok((
            row.try_get("id")?,
            LogDetail {
                request_body: row.try_get("request_body")?,
                response_body: row.try_get("response_body")?,
                request_body_truncated: flag(&row, "request_body_truncated")?,
                response_body_truncated: flag(&row, "response_body_truncated")?,
            },
        ))
    }

    /// Failed attempts of one request, oldest first.
    pub async fn retry_logs(&self, request_id: &str) -> Result<Vec<RetryRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, request_id, request_at, retry_at, created_at, ttfb_milliseconds, group_id, token_name, \
             model, actual_model, channel_id, mode, code, attempt, content, request_body, response_body, \
             request_body_truncated, response_body_truncated FROM retry_logs WHERE request_id = $1 ORDER BY id",
        )
        .bind(request_id)
        .fetch_all(self.logs())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(RetryRecord {
                    id: row.try_get("id")?,
                    request_id: row.try_get("request_id")?,
                    request_at: row.try_get("request_at")?,
                    retry_at: row.try_get("retry_at")?,
                    created_at: row.try_get("created_at")?,
                    ttfb_milliseconds: row.try_get("ttfb_milliseconds")?,
                    group_id: row.try_get("group_id")?,
                    token_name: row.try_get("token_name")?,
                    model: row.try_get("model")?,
                    actual_model: row.try_get("actual_model")?,
                    channel_id: row.try_get("channel_id")?,
                    mode: row.try_get("mode")?,
                    code: row.try_get("code")?,
                    attempt: row.try_get("attempt")?,
                    content: row.try_get("content")?,
                    detail: LogDetail {
                        request_body: row.try_get("request_body")?,
                        response_body: row.try_get("response_body")?,
                        request_body_truncated: flag(row, "request_body_truncated")?,
                        response_body_truncated: flag(row, "response_body_truncated")?,
                    },
                })
            })
            .collect()
    }

    /// Delete up to `batch` rows of `table` older than `before_ms`; returns how many.
    pub async fn delete_old_rows(
        &self,
        table: RetentionTable,
        before_ms: i64,
        batch: i64,
    ) -> Result<u64, StoreError> {
        let name = table.name();
        let done = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM {name} WHERE id IN (SELECT id FROM {name} WHERE created_at < $1 LIMIT $2)"
        )))
        .bind(before_ms)
        .bind(batch)
        .execute(self.logs())
        .await?;
        Ok(done.rows_affected())
    }

    /// Delete every log (and detail, retry log) created before `before_ms`;
    /// returns how many log rows went.
    pub async fn delete_logs_before(&self, before_ms: i64) -> Result<u64, StoreError> {
        let mut logs = 0;
        for table in [
            RetentionTable::Details,
            RetentionTable::RetryLogs,
            RetentionTable::Logs,
        ] {
            let sql = format!("DELETE FROM {} WHERE created_at < $1", table.name());
            let n = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(before_ms)
                .execute(self.logs())
                .await?
                .rows_affected();
            if table == RetentionTable::Logs {
                logs = n;
            }
        }
        Ok(logs)
    }
}

/// Tables with time-based retention.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetentionTable {
    /// `logs`.
    Logs,
    /// `request_details`.
    Details,
    /// `retry_logs`.
    RetryLogs,
}

impl RetentionTable {
    fn name(self) -> &'static str {
        match self {
            Self::Logs => "logs",
            Self::Details => "request_details",
            Self::RetryLogs => "retry_logs",
        }
    }
}

/// `text` with `values` bound in order (sqlx owns copies of them).
fn bound<'q>(
    text: &'q str,
    values: &[Value<'_>],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    let mut query = sqlx::query(sqlx::AssertSqlSafe(text));
    for value in values {
        query = match *value {
            Value::Int(v) => query.bind(v),
            Value::Real(v) => query.bind(v),
            Value::Text(v) => query.bind(v.to_owned()),
        };
    }
    query
}

/// Run the statements that add `counters` to tokens, groups and channels.
async fn update_counters(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    counters: &UsageCounters,
) -> Result<(), StoreError> {
    for (text, values) in counters.updates() {
        bound(text, &values).execute(&mut **tx).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_updated_in_key_order_whatever_the_order_they_came_in() {
        let mut counters = UsageCounters::default();
        for id in (1..=20).rev() {
            counters.add(&LogEntry::CountOnly(Box::new(LogRecord {
                token_id: id,
                group_id: format!("g{:02}", 21 - id),
                channel_id: id * 7 % 20 + 1,
                used_amount: 0.5,
                created_at: 1_000 + id,
                ..LogRecord::default()
            })));
        }
        let keys: Vec<(&str, String)> = counters
            .updates()
            .into_iter()
            .map(|(text, values)| {
                let table = text.split_whitespace().nth(1).unwrap_or_default();
                let key = match values.last() {
                    Some(Value::Int(id)) => format!("{id:02}"),
                    Some(Value::Text(id)) => (*id).to_owned(),
                    other => panic!("{other:?}"),
                };
                (table, key)
            })
            .collect();
        for table in ["tokens", r#""groups""#, "channels"] {
            let in_table: Vec<&String> = keys
                .iter()
                .filter(|(t, _)| *t == table)
                .map(|(_, k)| k)
                .collect();
            assert_eq!(in_table.len(), 20, "{table}: {keys:?}");
            assert!(in_table.is_sorted(), "{table}: {in_table:?}");
        }
        let tables: Vec<&str> = keys.iter().map(|(t, _)| *t).collect();
        assert!(
            tables.is_sorted_by_key(|t| match *t {
                "tokens" => 0,
                r#""groups""# => 1,
                _ => 2,
            }),
            "{tables:?}"
        );
    }
}
