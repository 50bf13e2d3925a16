//! A batch of log entries laid out as the statements that write it, the
//! same for every driver: multi-row inserts of log rows (with their detail
//! rows), retry rows, and the summary upserts. [`super::logs`] runs the
//! plan through sqlx, [`super::sqlite_batch`] through a synchronous SQLite
//! connection; both in one transaction per batch.

use std::collections::{BTreeMap, HashMap};

use super::DbKind;
use super::summaries::UpsertText;
use super::values::{
    LOG_COLUMN_COUNT, LogRowText, PriceTexts, RowShape, SUMMARY_DATA_COUNT, Value,
    channel_summary_row, group_summary_row,
};
use crate::logs::record::{LogDetail, LogEntry, LogRecord, RetryRecord};
use crate::stats::summary::{SummaryBatch, SummaryData};

/// Most rows in one multi-row INSERT (37 values a row: 4,736 parameters,
/// under SQLite's 32,766 and PostgreSQL's 65,535).
pub const INSERT_CHUNK: usize = 128;
const _: () = assert!(INSERT_CHUNK * LOG_COLUMN_COUNT <= 32_766);
/// Most rows in one summary upsert (about 3,000 parameters).
const UPSERT_CHUNK: usize = 100;

/// A request's log row and its optional detail.
pub type RequestRow<'a> = (&'a LogRecord, Option<&'a LogDetail>);

/// The log rows of one multi-row insert, all of one shape.
#[derive(Debug, Clone, Copy)]
pub struct RequestChunk<'b, 'a> {
    /// The columns every row names.
    pub shape: RowShape,
    /// The rows.
    pub rows: &'b [RequestRow<'a>],
}

/// A multi-row statement: `head`, then `values` as rows of `width`
/// placeholders, then `tail`.
#[derive(Debug)]
pub struct MultiRow<'a> {
    /// Up to `VALUES `.
    pub head: &'a str,
    /// Values per row.
    pub width: usize,
    /// Every row's values, in order.
    pub values: Vec<Value<'a>>,
    /// After the rows (`ON CONFLICT …`).
    pub tail: &'a str,
}

/// The statements of one batch.
#[derive(Debug, Default)]
pub struct LogBatch<'a> {
    /// Requests whose id is unique in the batch and whose row is compact,
    /// inserted many to a statement.
    compact: Vec<RequestRow<'a>>,
    /// The other requests whose id is unique in the batch, likewise.
    full: Vec<RequestRow<'a>>,
    /// Requests whose client-chosen id repeats within the batch, inserted
    /// one by one so that each detail finds its own row.
    repeated: Vec<RequestRow<'a>>,
    /// Failed attempts that were retried.
    pub retries: Vec<&'a RetryRecord>,
    /// The batch's additions to the summary tables.
    pub summaries: SummaryBatch<'a>,
}

impl<'a> LogBatch<'a> {
    /// Lay out `entries`.
    pub fn new(entries: &'a [LogEntry]) -> Self {
        let mut requests = Vec::with_capacity(entries.len());
        let mut batch = Self::default();
        for entry in entries {
            match entry {
                LogEntry::Request { record, detail } => {
                    requests.push((record.as_ref(), detail.as_deref()));
                }
                LogEntry::Retry(retry) => batch.retries.push(retry),
                LogEntry::CountOnly(_) => {}
            }
            batch.summaries.add(entry);
        }
        let mut seen: HashMap<&str, usize> = HashMap::with_capacity(requests.len());
        for (record, _) in &requests {
            *seen.entry(record.request_id.as_str()).or_default() += 1;
        }
        for row in requests {
            let list = if seen.get(row.0.request_id.as_str()) != Some(&1) {
                &mut batch.repeated
            } else if RowShape::of(row.0) == RowShape::Compact {
                &mut batch.compact
            } else {
                &mut batch.full
            };
            list.push(row);
        }
        batch
    }

    /// The log rows by statement: of each shape, [`INSERT_CHUNK`] rows,
    /// then the rest of the unique ones by its binary digits (64, 32, … 1),
    /// so a batch is few statements of at most sixteen texts, all kept
    /// prepared; then each repeated id alone, with every column.
    pub fn request_chunks(&self) -> Vec<RequestChunk<'_, 'a>> {
        let unique = [
            (RowShape::Compact, &self.compact),
            (RowShape::Full, &self.full),
        ];
        let mut chunks: Vec<_> = unique
            .into_iter()
            .flat_map(|(shape, rows)| {
                insert_chunks(rows)
                    .into_iter()
                    .map(move |rows| RequestChunk { shape, rows })
            })
            .collect();
        chunks.extend(self.repeated.chunks(1).map(|rows| RequestChunk {
            shape: RowShape::Full,
            rows,
        }));
        chunks
    }

    /// The summary upserts, in a stable order (rows are locked in one order
    /// by concurrent writers).
    pub fn summary_upserts(&self) -> Vec<MultiRow<'_>> {
        use super::summaries::{CHANNEL_HOURS, CHANNEL_MINUTES, GROUP_HOURS, GROUP_MINUTES};
        let s = &self.summaries;
        let mut statements = Vec::new();
        push_upserts(
            &mut statements,
            &CHANNEL_HOURS,
            &s.channel_hours,
            3,
            channel_summary_row,
        );
        push_upserts(
            &mut statements,
            &CHANNEL_MINUTES,
            &s.channel_minutes,
            3,
            channel_summary_row,
        );
        push_upserts(
            &mut statements,
            &GROUP_HOURS,
            &s.group_hours,
            4,
            group_summary_row,
        );
        push_upserts(
            &mut statements,
            &GROUP_MINUTES,
            &s.group_minutes,
            4,
            group_summary_row,
        );
        statements
    }
}

/// Append the upserts of `rows` into one summary table, [`UPSERT_CHUNK`]
/// rows to a statement; `row` lays out a key of `key_width` values and
/// its counters.
fn push_upserts<'b, K>(
    statements: &mut Vec<MultiRow<'b>>,
    text: &'b UpsertText,
    rows: &'b BTreeMap<K, SummaryData>,
    key_width: usize,
    row: fn(&'b K, &SummaryData, &mut Vec<Value<'b>>),
) {
    let rows: Vec<_> = rows.iter().collect();
    for chunk in rows.chunks(UPSERT_CHUNK) {
        let mut values = Vec::with_capacity(chunk.len() * (key_width + SUMMARY_DATA_COUNT));
        for (key, data) in chunk {
            row(key, data, &mut values);
        }
        statements.push(text.statement(key_width, values));
    }
}

/// Split `rows` into statements of [`INSERT_CHUNK`] rows, then the rest by
/// its binary digits (64, 32, … 1).
fn insert_chunks<T>(mut rows: &[T]) -> Vec<&[T]> {
    let mut chunks = Vec::with_capacity(rows.len() / INSERT_CHUNK + 8);
    let mut size = INSERT_CHUNK;
    while !rows.is_empty() {
        while size > rows.len() {
            size /= 2;
        }
        let (chunk, rest) = rows.split_at(size);
        chunks.push(chunk);
        rows = rest;
    }
    chunks
}

/// The heads of the multi-row `INSERT`s of log rows (up to `VALUES `), by
/// row shape.
///
/// On SQLite it is `INSERT OR FAIL`: a multi-row statement whose constraints
/// may abort it (every `NOT NULL` column, by default) makes SQLite copy each
/// page it touches into a statement journal, so that the statement alone
/// can be undone; past 64 KiB that journal is a temporary file. With `FAIL`
/// nothing is journalled. The outcome of an error is the same: the batch's
/// transaction is rolled back as a whole and written again.
#[derive(Debug)]
pub struct LogInsertHeads {
    full: String,
    compact: String,
}

impl LogInsertHeads {
    /// The heads for a database of `kind`.
    pub fn new(kind: DbKind) -> Self {
        let verb = match kind {
            DbKind::Sqlite => "INSERT OR FAIL",
            DbKind::Postgres => "INSERT",
        };
        let head = |shape: RowShape| format!("{verb} INTO logs ({}) VALUES ", shape.columns());
        Self {
            full: head(RowShape::Full),
            compact: head(RowShape::Compact),
        }
    }

    /// The head for rows of `shape`.
    pub fn get(&self, shape: RowShape) -> &str {
        match shape {
            RowShape::Full => &self.full,
            RowShape::Compact => &self.compact,
        }
    }
}

/// The multi-row insert of a chunk's log rows. With a detail among them it
/// returns each row's id and request id, to attach the details to. The
/// encoded text columns live in `texts`, which must outlive the statement.
pub fn request_insert<'a>(
    heads: &'a LogInsertHeads,
    chunk: RequestChunk<'_, 'a>,
    texts: &'a [LogRowText],
) -> MultiRow<'a> {
    let width = chunk.shape.width();
    let mut values = Vec::with_capacity(chunk.rows.len() * width);
    for ((record, _), text) in chunk.rows.iter().zip(texts) {
        chunk.shape.push_row(record, text, &mut values);
    }
    MultiRow {
        head: heads.get(chunk.shape),
        width,
        values,
        tail: if has_details(chunk.rows) {
            " RETURNING id, request_id"
        } else {
            ""
        },
    }
}

/// Encode the text columns of a chunk's rows.
pub fn chunk_texts<'a>(rows: &[RequestRow<'a>]) -> Vec<LogRowText> {
    let mut prices = PriceTexts::default();
    rows.iter()
        .map(|(r, _)| LogRowText::of(r, &mut prices))
        .collect()
}

/// True when some row of the chunk has a detail (its insert must return ids).
pub fn has_details(chunk: &[RequestRow<'_>]) -> bool {
    chunk.iter().any(|(_, detail)| detail.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::summary::INT_COLUMNS;

    fn sizes(n: usize) -> Vec<usize> {
        let rows: Vec<usize> = (0..n).collect();
        let chunks = insert_chunks(&rows);
        assert_eq!(chunks.concat(), rows, "every row once, in order");
        chunks.iter().map(|c| c.len()).collect()
    }

    #[test]
    fn batches_split_into_full_chunks_then_binary_digits() {
        assert_eq!(sizes(0), Vec::<usize>::new());
        assert_eq!(sizes(1), [1]);
        assert_eq!(sizes(127), [64, 32, 16, 8, 4, 2, 1]);
        assert_eq!(sizes(128), [128]);
        assert_eq!(sizes(460), [128, 128, 128, 64, 8, 4]);
        assert_eq!(sizes(512), [128; 4]);
    }

    fn request(id: &str, detail: bool) -> LogEntry {
        LogEntry::Request {
            record: Box::new(LogRecord {
                request_id: id.into(),
                channel_id: 1,
                model: "m".into(),
                group_id: "g".into(),
                created_at: 3_600_000,
                ..LogRecord::default()
            }),
            detail: detail.then(|| Box::new(LogDetail::default())),
        }
    }

    #[test]
    fn repeated_ids_are_inserted_one_by_one_after_the_unique_ones() {
        let entries = vec![
            request("a", false),
            request("b", true),
            request("a", false),
            LogEntry::Retry(Box::default()),
            request("c", false),
        ];
        let batch = LogBatch::new(&entries);
        let chunks: Vec<Vec<&str>> = batch
            .request_chunks()
            .iter()
            .map(|c| c.rows.iter().map(|(r, _)| r.request_id.as_str()).collect())
            .collect();
        assert_eq!(chunks, vec![vec!["b", "c"], vec!["a"], vec!["a"]]);
        assert!(has_details(batch.request_chunks()[0].rows));
        assert_eq!(batch.retries.len(), 1);
    }

    #[test]
    fn summaries_become_one_upsert_per_table() {
        let entries = vec![request("a", false), request("b", false)];
        let batch = LogBatch::new(&entries);
        let upserts = batch.summary_upserts();
        assert_eq!(upserts.len(), 4, "hours and minutes, channels and groups");
        assert_eq!(upserts[0].width, 3 + INT_COLUMNS.len() + 1);
        assert_eq!(
            upserts[0].values.len(),
            upserts[0].width,
            "one row: same key"
        );
        assert!(upserts[0].head.starts_with("INSERT INTO summaries "));
        assert!(upserts[3].tail.contains("ON CONFLICT"));
        assert_eq!(upserts[3].values[0], Value::Text("g"));
    }
}
