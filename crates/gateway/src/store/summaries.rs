//! Summary tables (log database): additive upserts from the log writer's
//! batches, and the aggregate reads behind the dashboards and the group
//! consumption ranking. Timestamps here are Unix seconds, as in AI Proxy.

use std::sync::LazyLock;

use sqlx::Row;
use sqlx::any::AnyRow;

use super::log_batch::MultiRow;
use super::sql::{Page, Sql};
use super::values::{SUMMARY_DATA_COUNT, Value};
use super::{Store, StoreError};
use crate::stats::summary::{INT_COLUMNS, SummaryData};

/// Which summaries a dashboard reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SummaryScope {
    /// Channel × model rows, optionally one channel.
    Channels {
        /// Channel filter.
        channel: Option<i64>,
    },
    /// Group × token × model rows of one group, optionally one token name.
    Group {
        /// The group.
        group: String,
        /// Token-name filter.
        token_name: Option<String>,
    },
}

/// A dashboard read: scope, model filter, time range and table resolution.
#[derive(Debug, Clone)]
pub struct SummaryQuery {
    /// Rows to read.
    pub scope: SummaryScope,
    /// Model filter.
    pub model: Option<String>,
    /// Inclusive range start (s).
    pub start: i64,
    /// Inclusive range end (s).
    pub end: i64,
    /// Read the per-minute table instead of the hourly one.
    pub minutes: bool,
}

/// One aggregated row: bucket start, key columns and the data.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SummaryRow {
    /// Bucket start (s).
    pub timestamp: i64,
    /// Channel (channel scope with keys).
    pub channel_id: i64,
    /// Token name (group scope with keys).
    pub token_name: String,
    /// Model (with keys).
    pub model: String,
    /// Counters.
    pub data: SummaryData,
}

/// Peak per-minute requests and tokens of a key within an hour.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HourPeak {
    /// Hour start (s).
    pub hour: i64,
    /// Channel (channel scope).
    pub channel_id: i64,
    /// Token name (group scope).
    pub token_name: String,
    /// Model.
    pub model: String,
    /// Highest per-minute request count.
    pub max_rpm: i64,
    /// Highest per-minute token count.
    pub max_tpm: i64,
}

/// A group's consumption over a period.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct GroupConsumption {
    /// Group id.
    pub group_id: String,
    /// Requests.
    pub request_count: i64,
    /// Failed requests.
    pub exception_count: i64,
    /// Input tokens.
    pub input_tokens: i64,
    /// Output tokens.
    pub output_tokens: i64,
    /// All tokens.
    pub total_tokens: i64,
    /// Amount.
    pub used_amount: f64,
}

impl SummaryQuery {
    fn table(&self) -> &'static str {
        match (&self.scope, self.minutes) {
            (SummaryScope::Channels { .. }, false) => "summaries",
            (SummaryScope::Channels { .. }, true) => "summary_minutes",
            (SummaryScope::Group { .. }, false) => "group_summaries",
            (SummaryScope::Group { .. }, true) => "group_summary_minutes",
        }
    }

    fn ts(&self) -> &'static str {
        if self.minutes {
            "minute_timestamp"
        } else {
            "hour_timestamp"
        }
    }

    /// Key columns of the scope.
    fn keys(&self) -> &'static str {
        match self.scope {
            SummaryScope::Channels { .. } => "channel_id, model",
            SummaryScope::Group { .. } => "token_name, model",
        }
    }

    fn push_where(&self, sql: &mut Sql) -> Result<(), StoreError> {
        let ts = self.ts();
        sql.push(&format!(" WHERE {ts} >= "))
            .bind(self.start)?
            .push(&format!(" AND {ts} <= "))
            .bind(self.end)?;
        match &self.scope {
            SummaryScope::Channels { channel } => {
                if let Some(c) = channel {
                    sql.push(" AND channel_id = ").bind(*c)?;
                }
            }
            SummaryScope::Group { group, token_name } => {
                sql.push(" AND group_id = ").bind(group.clone())?;
                if let Some(t) = token_name {
                    sql.push(" AND token_name = ").bind(t.clone())?;
                }
            }
        }
        if let Some(m) = &self.model {
            sql.push(" AND model = ").bind(m.clone())?;
        }
        Ok(())
    }
}

fn sums() -> String {
    let mut out = String::new();
    for c in INT_COLUMNS {
        out.push_str(&format!(", CAST(SUM({c}) AS BIGINT) AS {c}"));
    }
    out.push_str(", CAST(SUM(used_amount) AS DOUBLE PRECISION) AS used_amount");
    out
}

fn data_from_row(row: &AnyRow) -> Result<SummaryData, StoreError> {
    let mut data = SummaryData {
        used_amount: row.try_get("used_amount")?,
        ..SummaryData::default()
    };
    for (slot, c) in data.ints.iter_mut().zip(INT_COLUMNS) {
        *slot = row.try_get(c)?;
    }
    Ok(data)
}

/// The fixed text of one summary table's upsert, built once: the head (up
/// to `VALUES `) and the `ON CONFLICT … DO UPDATE` tail that adds the new
/// figures to the stored ones.
pub(super) struct UpsertText {
    head: String,
    tail: String,
}

impl UpsertText {
    fn new(table: &str, keys: &[&str]) -> Self {
        let mut cols: Vec<&str> = keys.to_vec();
        cols.extend(INT_COLUMNS);
        cols.push("used_amount");
        let sets: Vec<String> = INT_COLUMNS
            .iter()
            .chain(std::iter::once(&"used_amount"))
            .map(|c| format!("{c} = {table}.{c} + excluded.{c}"))
            .collect();
        Self {
            head: format!("INSERT INTO {table} ({}) VALUES ", cols.join(", ")),
            tail: format!(
                " ON CONFLICT ({}) DO UPDATE SET {}",
                keys.join(", "),
                sets.join(", ")
            ),
        }
    }

    /// The upsert of `values`: rows of a key of `key_width` values and the counters.
    pub(super) fn statement<'a>(
        &'a self,
        key_width: usize,
        values: Vec<Value<'a>>,
    ) -> MultiRow<'a> {
        MultiRow {
            head: &self.head,
            width: key_width + SUMMARY_DATA_COUNT,
            values,
            tail: &self.tail,
        }
    }
}

pub(super) static CHANNEL_HOURS: LazyLock<UpsertText> =
    LazyLock::new(|| UpsertText::new("summaries", &["channel_id", "model", "hour_timestamp"]));
pub(super) static CHANNEL_MINUTES: LazyLock<UpsertText> = LazyLock::new(|| {
    UpsertText::new(
        "summary_minutes",
        &["channel_id", "model", "minute_timestamp"],
    )
});
pub(super) static GROUP_HOURS: LazyLock<UpsertText> = LazyLock::new(|| {
    UpsertText::new(
        "group_summaries",
        &["group_id", "token_name", "model", "hour_timestamp"],
    )
});
pub(super) static GROUP_MINUTES: LazyLock<UpsertText> = LazyLock::new(|| {
    UpsertText::new(
        "group_summary_minutes",
        &["group_id", "token_name", "model", "minute_timestamp"],
    )
});

impl Store {
    /// Summed rows per bucket; with `by_key` also per channel/token and model.
    pub async fn summary_rows(
        &self,
        q: &SummaryQuery,
        by_key: bool,
    ) -> Result<Vec<SummaryRow>, StoreError> {
        let ts = q.ts();
        let keys = if by_key {
            format!(", {}", q.keys())
        } else {
            String::new()
        };
        let mut sql = Sql::new(&format!(
            "SELECT {ts} AS ts{keys}{} FROM {}",
            sums(),
            q.table()
        ));
        q.push_where(&mut sql)?;
        sql.push(&format!(" GROUP BY {ts}{keys} ORDER BY {ts}"));
        let (text, args) = sql.into_parts();
        let rows = sqlx::query_with(text, args).fetch_all(self.logs()).await?;
        rows.iter()
            .map(|row| {
                let mut out = SummaryRow {
                    timestamp: row.try_get("ts")?,
                    data: data_from_row(row)?,
                    ..SummaryRow::default()
                };
                if by_key {
                    out.model = row.try_get("model")?;
                    match q.scope {
                        SummaryScope::Channels { .. } => {
                            out.channel_id = row.try_get("channel_id")?
                        }
                        SummaryScope::Group { .. } => out.token_name = row.try_get("token_name")?,
                    }
                }
                Ok(out)
            })
            .collect()
    }

    /// Per hour and key, the busiest minute's requests and tokens (minute table).
    pub async fn summary_hour_peaks(&self, q: &SummaryQuery) -> Result<Vec<HourPeak>, StoreError> {
        let q = SummaryQuery {
            minutes: true,
            ..q.clone()
        };
        let keys = q.keys();
        let mut sql = Sql::new(&format!(
            "SELECT (minute_timestamp - minute_timestamp % 3600) AS hour, {keys}, \
             MAX(request_count) AS max_rpm, MAX(total_tokens) AS max_tpm FROM {}",
            q.table()
        ));
        q.push_where(&mut sql)?;
        sql.push(&format!(
            " GROUP BY (minute_timestamp - minute_timestamp % 3600), {keys}"
        ));
        let (text, args) = sql.into_parts();
        let rows = sqlx::query_with(text, args).fetch_all(self.logs()).await?;
        rows.iter()
            .map(|row| {
                let mut peak = HourPeak {
                    hour: row.try_get("hour")?,
                    model: row.try_get("model")?,
                    max_rpm: row.try_get("max_rpm")?,
                    max_tpm: row.try_get("max_tpm")?,
                    ..HourPeak::default()
                };
                match q.scope {
                    SummaryScope::Channels { .. } => peak.channel_id = row.try_get("channel_id")?,
                    SummaryScope::Group { .. } => peak.token_name = row.try_get("token_name")?,
                }
                Ok(peak)
            })
            .collect()
    }

    /// The busiest minute in the range: (requests, tokens) summed over the filtered keys.
    pub async fn summary_peak(&self, q: &SummaryQuery) -> Result<(i64, i64), StoreError> {
        let q = SummaryQuery {
            minutes: true,
            ..q.clone()
        };
        let mut inner = Sql::new(&format!(
            "SELECT CAST(SUM(request_count) AS BIGINT) AS r, CAST(SUM(total_tokens) AS BIGINT) AS t FROM {}",
            q.table()
        ));
        q.push_where(&mut inner)?;
        inner.push(" GROUP BY minute_timestamp");
        let (text, args) = inner.into_parts();
        let text = format!(
            "SELECT COALESCE(MAX(r), 0) AS max_rpm, COALESCE(MAX(t), 0) AS max_tpm FROM ({}) AS per_minute",
            text.0
        );
        let row = sqlx::query_with(sqlx::AssertSqlSafe(text), args)
            .fetch_one(self.logs())
            .await?;
        Ok((row.try_get("max_rpm")?, row.try_get("max_tpm")?))
    }

    /// Distinct values of `column` (`channel_id`, `model` or `token_name`) in the
    /// range, biggest spenders first. The scope's own filter on `column` is ignored.
    pub async fn summary_values(
        &self,
        q: &SummaryQuery,
        column: SummaryColumn,
    ) -> Result<Vec<String>, StoreError> {
        let mut q = q.clone();
        match (&mut q.scope, column) {
            (SummaryScope::Channels { channel }, SummaryColumn::Channel) => *channel = None,
            (SummaryScope::Group { token_name, .. }, SummaryColumn::TokenName) => {
                *token_name = None;
            }
            _ => {}
        }
        if column == SummaryColumn::Model {
            q.model = None;
        }
        let col = column.name();
        let mut sql = Sql::new(&format!(
            "SELECT CAST({col} AS TEXT) AS v, CAST(SUM(used_amount) AS DOUBLE PRECISION) AS a, \
             CAST(SUM(request_count) AS BIGINT) AS n FROM {}",
            q.table()
        ));
        q.push_where(&mut sql)?;
        sql.push(&format!(" GROUP BY {col} ORDER BY a DESC, n DESC, {col}"));
        let (text, args) = sql.into_parts();
        let rows = sqlx::query_with(text, args).fetch_all(self.logs()).await?;
        rows.iter()
            .map(|r| r.try_get::<String, _>("v").map_err(StoreError::from))
            .collect()
    }

    /// Groups ranked by amount (then requests) over `[start, end]` (s, hourly table).
    pub async fn group_ranking(
        &self,
        start: i64,
        end: i64,
        page: Page,
    ) -> Result<(Vec<GroupConsumption>, i64), StoreError> {
        let total: i64 = sqlx::query_scalar(
            "SELECT COUNT(DISTINCT group_id) FROM group_summaries \
             WHERE hour_timestamp >= $1 AND hour_timestamp <= $2",
        )
        .bind(start)
        .bind(end)
        .fetch_one(self.logs())
        .await?;
        let mut sql = Sql::new(
            "SELECT group_id, CAST(SUM(request_count) AS BIGINT) AS request_count, \
             CAST(SUM(exception_count) AS BIGINT) AS exception_count, \
             CAST(SUM(input_tokens) AS BIGINT) AS input_tokens, \
             CAST(SUM(output_tokens) AS BIGINT) AS output_tokens, \
             CAST(SUM(total_tokens) AS BIGINT) AS total_tokens, \
             CAST(SUM(used_amount) AS DOUBLE PRECISION) AS used_amount FROM group_summaries WHERE hour_timestamp >= ",
        );
        sql.bind(start)?.push(" AND hour_timestamp <= ").bind(end)?;
        sql.push(" GROUP BY group_id ORDER BY used_amount DESC, request_count DESC, group_id");
        page.push_limit(&mut sql)?;
        let (text, args) = sql.into_parts();
        let rows = sqlx::query_with(text, args).fetch_all(self.logs()).await?;
        let ranking = rows
            .iter()
            .map(|r| {
                Ok(GroupConsumption {
                    group_id: r.try_get("group_id")?,
                    request_count: r.try_get("request_count")?,
                    exception_count: r.try_get("exception_count")?,
                    input_tokens: r.try_get("input_tokens")?,
                    output_tokens: r.try_get("output_tokens")?,
                    total_tokens: r.try_get("total_tokens")?,
                    used_amount: r.try_get("used_amount")?,
                })
            })
            .collect::<Result<_, StoreError>>()?;
        Ok((ranking, total))
    }

    /// Delete up to `batch` rows of every summary table older than `before_s`; returns how many.
    pub async fn delete_old_summaries(&self, before_s: i64, batch: i64) -> Result<u64, StoreError> {
        let mut deleted = 0;
        for (table, ts) in [
            ("summaries", "hour_timestamp"),
            ("summary_minutes", "minute_timestamp"),
            ("group_summaries", "hour_timestamp"),
            ("group_summary_minutes", "minute_timestamp"),
        ] {
            let done = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DELETE FROM {table} WHERE id IN (SELECT id FROM {table} WHERE {ts} < $1 LIMIT $2)"
            )))
            .bind(before_s)
            .bind(batch)
            .execute(self.logs())
            .await?;
            deleted += done.rows_affected();
        }
        Ok(deleted)
    }
}

/// A key column of the summary tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SummaryColumn {
    /// `channel_id`.
    Channel,
    /// `model`.
    Model,
    /// `token_name`.
    TokenName,
}

impl SummaryColumn {
    fn name(self) -> &'static str {
        match self {
            Self::Channel => "channel_id",
            Self::Model => "model",
            Self::TokenName => "token_name",
        }
    }
}

impl Store {
    /// Spend per group over `[start, end)` (Unix seconds, hourly table).
    pub async fn group_spend(
        &self,
        start: i64,
        end: i64,
    ) -> Result<std::collections::HashMap<String, f64>, StoreError> {
        let rows = sqlx::query(
            "SELECT group_id, CAST(SUM(used_amount) AS DOUBLE PRECISION) AS spent FROM group_summaries \
             WHERE hour_timestamp >= $1 AND hour_timestamp < $2 GROUP BY group_id",
        )
        .bind(start)
        .bind(end)
        .fetch_all(self.logs())
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("group_id")?, r.try_get("spent")?)))
            .collect()
    }
}
