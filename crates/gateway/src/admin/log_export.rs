//! `GET /api/logs/export` and `GET /api/log/{group}/export`: the log search
//! as a CSV file, streamed page by page (keyset pagination, so memory stays
//! bounded by one page however large the export).
//!
//! Same filters as the search, plus `timezone` (how times are written),
//! `max_entries` (default 1,000, at most 100,000) and `include_detail`
//! (stored request/response bodies). The range may span at most 30 days
//! (default: the last 7). Cells starting with `= + - @` or a tab are
//! prefixed with `'` so spreadsheets do not run them as formulas.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::response::Response;
use bytes::Bytes;
use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::AdminError;
use super::extract::AdminQuery;
use crate::logs::record::{LogDetail, LogRecord};
use crate::state::AppState;
use crate::stats::timespan;
use crate::store::Store;
use crate::store::logs::LogFilter;
use crate::store::now_ms;

/// Longest exported range.
pub const MAX_SPAN_MS: i64 = 30 * 24 * 3_600_000;
const DEFAULT_SPAN_MS: i64 = 7 * 24 * 3_600_000;
/// Rows fetched per page.
pub const PAGE_ROWS: i64 = 500;
/// Default and largest `max_entries`.
pub const DEFAULT_MAX_ENTRIES: i64 = 1_000;
/// Largest `max_entries`.
pub const MAX_ENTRIES: i64 = 100_000;

const HEADER: [&str; 37] = [
    "id",
    "created_at",
    "request_at",
    "retry_at",
    "timezone",
    "group",
    "token_id",
    "token_name",
    "channel",
    "model",
    "actual_model",
    "endpoint",
    "code",
    "mode",
    "request_id",
    "upstream_id",
    "ip",
    "user",
    "stream",
    "ttfb_milliseconds",
    "retry_times",
    "input_tokens",
    "image_input_tokens",
    "audio_input_tokens",
    "output_tokens",
    "image_output_tokens",
    "cached_tokens",
    "cache_creation_tokens",
    "reasoning_tokens",
    "total_tokens",
    "web_search_count",
    "usage_estimated",
    "used_amount",
    "content",
    "metadata",
    "request_body",
    "response_body",
];

/// Quote a CSV cell when it holds a separator, quote or line break (RFC 4180).
pub fn csv_cell(value: &str, out: &mut String) {
    if value.contains([',', '"', '\n', '\r']) || value.starts_with(' ') || value.ends_with(' ') {
        out.push('"');
        out.push_str(&value.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(value);
    }
}

/// A text cell, defused against spreadsheet formula injection.
fn text_cell(value: &str, out: &mut String) {
    if value.starts_with(['=', '+', '-', '@', '\t']) {
        csv_cell(&format!("'{value}"), out);
    } else {
        csv_cell(value, out);
    }
}

fn time_cell(ms: i64, tz: &TimeZone) -> String {
    if ms == 0 {
        return String::new();
    }
    Timestamp::from_millisecond(ms)
        .ok()
        .and_then(|t| {
            t.to_zoned(tz.clone())
                .strftime("%Y-%m-%d %H:%M:%S%.3f %Z")
                .to_string()
                .into()
        })
        .unwrap_or_else(|| ms.to_string())
}

/// One CSV line of a log row.
fn row_line(r: &LogRecord, d: &LogDetail, tz: &TimeZone, tz_name: &str) -> String {
    let u = &r.usage;
    let metadata = if r.metadata.is_null() {
        String::new()
    } else {
        r.metadata.to_string()
    };
    let mut out = String::with_capacity(256);
    let numbers = |v: &[i64]| v.iter().map(i64::to_string).collect::<Vec<_>>();
    let mut cells: Vec<(String, bool)> = vec![
        (r.id.to_string(), false),
        (time_cell(r.created_at, tz), false),
        (time_cell(r.request_at, tz), false),
        (time_cell(r.retry_at, tz), false),
        (tz_name.to_owned(), true),
        (r.group_id.clone(), true),
        (r.token_id.to_string(), false),
        (r.token_name.clone(), true),
        (r.channel_id.to_string(), false),
        (r.model.clone(), true),
        (r.actual_model.clone(), true),
        (r.endpoint.clone(), true),
        (r.code.to_string(), false),
        (r.mode.to_string(), false),
        (r.request_id.clone(), true),
        (r.upstream_id.clone(), true),
        (r.ip.clone(), true),
        (r.user.clone(), true),
        (r.stream.to_string(), false),
    ];
    for n in numbers(&[
        r.ttfb_milliseconds,
        r.retry_times,
        u.input_tokens,
        u.image_input_tokens,
        u.audio_input_tokens,
        u.output_tokens,
        u.image_output_tokens,
        u.cached_tokens,
        u.cache_creation_tokens,
        u.reasoning_tokens,
        u.total_tokens,
        u.web_search_count,
    ]) {
        cells.push((n, false));
    }
    cells.push((r.usage_estimated.to_string(), false));
    cells.push((r.used_amount.to_string(), false));
    for text in [&r.content, &metadata, &d.request_body, &d.response_body] {
        cells.push((text.clone(), true));
    }
    for (i, (value, is_text)) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if *is_text {
            text_cell(value, &mut out);
        } else {
            csv_cell(value, &mut out);
        }
    }
    out.push_str("\r\n");
    out
}

struct Export {
    store: Store,
    filter: LogFilter,
    tz: TimeZone,
    tz_name: String,
    with_detail: bool,
    remaining: i64,
    after: Option<(i64, i64)>,
    header_sent: bool,
}

impl Export {
    /// The next chunk of CSV text, `None` when done.
    async fn next_chunk(&mut self) -> Option<Result<Bytes, std::io::Error>> {
        if !self.header_sent {
            self.header_sent = true;
            let mut head = String::from("\u{feff}");
            head.push_str(&HEADER.join(","));
            head.push_str("\r\n");
            return Some(Ok(Bytes::from(head)));
        }
        if self.remaining <= 0 {
            return None;
        }
        let limit = self.remaining.min(PAGE_ROWS);
        let page = match self
            .store
            .export_logs_page(&self.filter, self.after, limit, self.with_detail)
            .await
        {
            Ok(page) => page,
            Err(e) => {
                tracing::error!(error = %e, "log export stopped: database error");
                return Some(Err(std::io::Error::other(e.to_string())));
            }
        };
        let last = page.last()?;
        self.after = Some((last.0.created_at, last.0.id));
        self.remaining -= page.len() as i64;
        if (page.len() as i64) < limit {
            self.remaining = 0;
        }
        let mut text = String::new();
        for (record, detail) in &page {
            text.push_str(&row_line(record, detail, &self.tz, &self.tz_name));
        }
        Some(Ok(Bytes::from(text)))
    }
}

fn filename(tz: &TimeZone, prefix: &str) -> String {
    let stamp = Timestamp::from_millisecond(now_ms())
        .map(|t| t.to_zoned(tz.clone()).strftime("%Y%m%d_%H%M%S").to_string())
        .unwrap_or_default();
    let prefix: String = prefix
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{prefix}_logs_{stamp}.csv")
}

async fn export(
    app: AppState,
    q: AdminQuery,
    group: Option<String>,
) -> Result<Response, AdminError> {
    let mut filter = super::logs::filter(&q, group.clone())?;
    let end = filter.end_ms.unwrap_or_else(now_ms);
    let start = filter.start_ms.unwrap_or(end - DEFAULT_SPAN_MS);
    if end - start > MAX_SPAN_MS {
        return Err(AdminError::BadRequest(
            "an export may span at most 30 days: narrow `start_timestamp`/`end_timestamp`".into(),
        ));
    }
    filter.start_ms = Some(start);
    filter.end_ms = Some(end);
    let max_entries = q.int("max_entries")?.unwrap_or(DEFAULT_MAX_ENTRIES);
    if !(1..=MAX_ENTRIES).contains(&max_entries) {
        return Err(AdminError::BadRequest(format!(
            "`max_entries` must be between 1 and {MAX_ENTRIES}"
        )));
    }
    let tz_name = q.text("timezone").unwrap_or_else(|| "UTC".into());
    let tz = timespan::zone(Some(&tz_name)).map_err(|e| AdminError::BadRequest(e.to_string()))?;
    let name = filename(&tz, group.as_deref().unwrap_or("global"));
    let state = Export {
        store: app.store.clone(),
        filter,
        tz,
        tz_name,
        with_detail: q.flag("include_detail")?,
        remaining: max_entries,
        after: None,
        header_sent: false,
    };
    let stream = futures_util::stream::unfold(state, |mut s| async move {
        s.next_chunk().await.map(|chunk| (chunk, s))
    });
    let mut response = Response::new(Body::from_stream(stream));
    let headers = response.headers_mut();
    let set = |h: &mut http::HeaderMap, k: http::HeaderName, v: &str| {
        if let Ok(v) = http::HeaderValue::from_str(v) {
            h.insert(k, v);
        }
    };
    set(
        headers,
        http::header::CONTENT_TYPE,
        "text/csv; charset=utf-8",
    );
    set(
        headers,
        http::header::CONTENT_DISPOSITION,
        &format!("attachment; filename=\"{name}\""),
    );
    set(headers, http::header::CACHE_CONTROL, "no-store");
    set(
        headers,
        http::HeaderName::from_static("x-accel-buffering"),
        "no",
    );
    Ok(response)
}

/// `GET /api/logs/export`.
pub async fn export_all(
    State(app): State<AppState>,
    q: AdminQuery,
) -> Result<Response, AdminError> {
    export(app, q, None).await
}

/// `GET /api/log/{group}/export`.
pub async fn export_group(
    State(app): State<AppState>,
    Path(group): Path<String>,
    q: AdminQuery,
) -> Result<Response, AdminError> {
    export(app, q, Some(group)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_and_defused() {
        let mut out = String::new();
        csv_cell("a,b \"q\"\nline", &mut out);
        assert_eq!(out, "\"a,b \"\"q\"\"\nline\"");
        let mut out = String::new();
        text_cell("=SUM(A1)", &mut out);
        assert_eq!(out, "'=SUM(A1)");
        let mut out = String::new();
        csv_cell("plain", &mut out);
        assert_eq!(out, "plain");
    }

    #[test]
    fn times_in_the_zone() {
        let tz = timespan::zone(Some("Asia/Shanghai")).unwrap();
        assert_eq!(
            time_cell(1_710_100_800_123, &tz),
            "2024-03-11 04:00:00.123 CST"
        );
        assert_eq!(time_cell(0, &tz), "");
    }
}
