//! The log writer's synchronous path to SQLite: its own connections,
//! opened on the writer thread, run each batch's statements
//! ([`super::log_batch`]) and the usage counters in place.
//!
//! sqlx runs every SQLite statement on a thread of its own and hands the
//! statement and its answer across (two context switches or more each),
//! and binds each value through its `Any` driver. Here a batch is bound
//! straight from the borrowed records and stepped on the calling thread.
//! Only the writer uses this; everything else (reads, admin writes,
//! PostgreSQL) goes through [`super::Store`]. Its connections call
//! [`switchyard_sched::give_way`] from SQLite's progress handler and while
//! binding, so that a long batch yields to requests when the writer has
//! turned that on.

use std::path::Path;
use std::time::Duration;

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{CachedStatement, Connection, OpenFlags, ToSql, Transaction};

use super::DbKind;
use super::StoreError;
use super::log_batch::{
    LogBatch, LogInsertHeads, MultiRow, RequestChunk, chunk_texts, has_details, request_insert,
};
use super::logs::UsageCounters;
use super::values::{
    INSERT_DETAIL, INSERT_RETRY, Value, detail_row, push_placeholder_rows, retry_row,
};
use crate::logs::record::LogEntry;

/// Prepared statements kept per connection: the sixteen log-row statements
/// (eight sizes of each row shape), the detail, retry and counter
/// statements, and the summary upserts.
const STATEMENT_CACHE: usize = 32;
/// SQLite virtual-machine steps between checks whether the writer should
/// yield the CPU ([`switchyard_sched::give_way`]): a clock read every few
/// microseconds of work.
const GIVE_WAY_STEPS: i32 = 100;
/// Values bound between the same checks (a 128-row insert binds 4,736).
const GIVE_WAY_BINDS: usize = 64;

impl ToSql for Value<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match *self {
            Value::Int(v) => ValueRef::Integer(v),
            Value::Real(v) => ValueRef::Real(v),
            Value::Text(v) => ValueRef::Text(v.as_bytes()),
        }))
    }
}

/// The writer's connections: to the log database and, when it is another
/// file, to the main one (usage counters).
#[derive(Debug)]
pub struct SqliteBatchWriter {
    logs: Connection,
    main: Option<Connection>,
}

impl SqliteBatchWriter {
    /// Open the log database at `logs` and the main one at `main`, with the
    /// pragmas of the pools ([`super::Store::connect`]).
    pub fn open(logs: &Path, main: &Path, busy_timeout: Duration) -> Result<Self, StoreError> {
        let main = (main != logs)
            .then(|| open_connection(main, busy_timeout))
            .transpose()?;
        Ok(Self {
            logs: open_connection(logs, busy_timeout)?,
            main,
        })
    }

    /// Insert a batch of entries (logs with their details, retry logs) and
    /// add their summaries, in one transaction. When the main database is
    /// this same file, `counters` (what the batch, and any batch whose
    /// counters are not saved yet, adds to tokens, groups and channels) join
    /// that transaction, so the rows and the usage they count are saved
    /// together or not at all, and the result is `true`. Otherwise the
    /// result is `false` and the caller applies them with
    /// [`Self::apply_usage_counters`].
    pub fn insert_log_batch(
        &mut self,
        entries: &[LogEntry],
        counters: &UsageCounters,
    ) -> Result<bool, StoreError> {
        let batch = LogBatch::new(entries);
        let tx = self.logs.transaction()?;
        let heads = LogInsertHeads::new(DbKind::Sqlite);
        for chunk in batch.request_chunks() {
            insert_requests(&tx, &heads, chunk)?;
        }
        let mut retry = tx.prepare_cached(INSERT_RETRY)?;
        for record in &batch.retries {
            execute(&mut retry, &retry_row(record))?;
        }
        drop(retry);
        // Same transaction as the rows: a retried batch is never counted twice.
        for upsert in batch.summary_upserts() {
            let mut statement = tx.prepare_cached(&multi_row_text(&upsert))?;
            execute(&mut statement, &upsert.values)?;
        }
        let counters_saved = self.main.is_none();
        if counters_saved {
            update_counters(&tx, counters)?;
        }
        tx.commit()?;
        Ok(counters_saved)
    }

    /// Add request counts, amounts and last-access times to tokens, groups
    /// and channels.
    pub fn apply_usage_counters(&mut self, counters: &UsageCounters) -> Result<(), StoreError> {
        let connection = self.main.as_mut().unwrap_or(&mut self.logs);
        let tx = connection.transaction()?;
        update_counters(&tx, counters)?;
        tx.commit()?;
        Ok(())
    }
}

/// Run the statements that add `counters` to tokens, groups and channels.
fn update_counters(tx: &Transaction<'_>, counters: &UsageCounters) -> Result<(), StoreError> {
    for (text, values) in counters.updates() {
        execute(&mut tx.prepare_cached(text)?, &values)?;
    }
    Ok(())
}

fn open_connection(path: &Path, busy_timeout: Duration) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let connection = Connection::open_with_flags(path, flags)?;
    connection.busy_timeout(busy_timeout)?;
    // `journal_mode` answers with a row; the others answer nothing.
    connection.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))?;
    connection.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")?;
    connection.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    // Never interrupts: only lets a runnable request thread go first.
    connection.progress_handler(
        GIVE_WAY_STEPS,
        Some(|| {
            switchyard_sched::give_way();
            false
        }),
    )?;
    Ok(connection)
}

/// One multi-row insert of log rows; with details, it returns the rows'
/// ids and the details are inserted against them.
fn insert_requests(
    tx: &Transaction<'_>,
    heads: &LogInsertHeads,
    chunk: RequestChunk<'_, '_>,
) -> Result<(), StoreError> {
    let texts = chunk_texts(chunk.rows);
    let insert = request_insert(heads, chunk, &texts);
    let text = multi_row_text(&insert);
    if !has_details(chunk.rows) {
        return execute(&mut tx.prepare_cached(&text)?, &insert.values);
    }
    let mut statement = tx.prepare(&text)?;
    bind(&mut statement, &insert.values)?;
    let mut ids = std::collections::HashMap::with_capacity(chunk.rows.len());
    let mut rows = statement.raw_query();
    while let Some(row) = rows.next()? {
        ids.insert(row.get::<_, String>(1)?, row.get::<_, i64>(0)?);
    }
    drop(rows);
    let mut detail_insert = tx.prepare_cached(INSERT_DETAIL)?;
    for (record, detail) in chunk.rows {
        if let (Some(detail), Some(log_id)) = (detail, ids.get(&record.request_id)) {
            execute(
                &mut detail_insert,
                &detail_row(*log_id, record.created_at, detail),
            )?;
        }
    }
    Ok(())
}

/// The text of a multi-row statement with anonymous placeholders.
fn multi_row_text(statement: &MultiRow<'_>) -> String {
    let rows = statement.values.len() / statement.width.max(1);
    let mut text = String::with_capacity(
        statement.head.len() + statement.values.len() * 2 + statement.tail.len() + rows * 3,
    );
    text.push_str(statement.head);
    push_placeholder_rows(&mut text, rows, statement.width);
    text.push_str(statement.tail);
    text
}

fn bind(statement: &mut rusqlite::Statement<'_>, values: &[Value<'_>]) -> Result<(), StoreError> {
    for (index, value) in values.iter().enumerate() {
        statement.raw_bind_parameter(index + 1, value)?;
        if index % GIVE_WAY_BINDS == GIVE_WAY_BINDS - 1 {
            switchyard_sched::give_way();
        }
    }
    Ok(())
}

fn execute(statement: &mut CachedStatement<'_>, values: &[Value<'_>]) -> Result<(), StoreError> {
    bind(statement, values)?;
    statement.raw_execute()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use rusqlite::types::Value as Stored;

    use super::*;
    use crate::billing::Charge;
    use crate::config::{DatabaseConfig, DbTarget};
    use crate::logs::record::{LogDetail, LogRecord, RetryRecord};
    use crate::store::Store;
    use crate::store::values::LOG_COLUMN_COUNT;

    const TABLES: [&str; 10] = [
        "logs",
        "request_details",
        "retry_logs",
        "summaries",
        "summary_minutes",
        "group_summaries",
        "group_summary_minutes",
        "tokens",
        r#""groups""#,
        "channels",
    ];

    fn record(id: &str, at: i64, code: i64) -> LogRecord {
        LogRecord {
            request_id: id.into(),
            request_at: at - 40,
            created_at: at,
            ttfb_milliseconds: 12,
            group_id: "g1".into(),
            token_id: 1,
            token_name: "t1".into(),
            model: "gpt-4o".into(),
            actual_model: "gpt-4o-2024".into(),
            channel_id: 1,
            mode: 1,
            endpoint: "/v1/chat/completions".into(),
            code,
            content: if code == 200 {
                String::new()
            } else {
                "upstream said no ☹".into()
            },
            ip: "10.0.0.1".into(),
            user: "u".into(),
            metadata: serde_json::json!({"chat": "x"}),
            upstream_id: "chatcmpl-1".into(),
            stream: true,
            usage: switchyard_protocol::Usage::from_counts(7, 3),
            used_amount: 0.25,
            charge: Some(Charge::default()),
            ..LogRecord::default()
        }
    }

    /// The usage counters of `entries`, as the writer gathers them.
    fn counters_of(entries: &[LogEntry]) -> UsageCounters {
        let mut counters = UsageCounters::default();
        for entry in entries {
            counters.add(entry);
        }
        counters
    }

    /// Every kind of entry: unique and repeated request ids, a detail on
    /// each kind, a retried attempt, a count-only request, two minutes.
    fn entries() -> Vec<LogEntry> {
        let detail = |body: &str| {
            Some(Box::new(LogDetail {
                request_body: body.into(),
                response_body: "{}".into(),
                request_body_truncated: true,
                response_body_truncated: false,
            }))
        };
        let request = |r: LogRecord, detail| LogEntry::Request {
            record: Box::new(r),
            detail,
        };
        // Every other row is compact: no end user, no metadata.
        let mut entries: Vec<LogEntry> = (0..200)
            .map(|i| {
                let mut r = record(&format!("r{i}"), 1_700_000_000_000 + i * 500, 200);
                if i % 2 == 0 {
                    r.user.clear();
                    r.metadata = serde_json::Value::Null;
                }
                request(r, None)
            })
            .collect();
        entries.push(request(
            record("err", 1_700_000_100_000, 502),
            detail("req"),
        ));
        entries.push(request(
            record("dup", 1_700_000_100_001, 200),
            detail("first"),
        ));
        entries.push(request(
            record("dup", 1_700_000_100_002, 200),
            detail("second"),
        ));
        entries.push(LogEntry::Retry(Box::new(RetryRecord {
            request_id: "err".into(),
            channel_id: 1,
            model: "gpt-4o".into(),
            code: 500,
            attempt: 1,
            created_at: 1_700_000_099_000,
            detail: LogDetail {
                request_body: "attempt".into(),
                ..LogDetail::default()
            },
            ..RetryRecord::default()
        })));
        entries.push(LogEntry::CountOnly(Box::new(record(
            "quiet",
            1_700_000_100_003,
            200,
        ))));
        entries
    }

    async fn migrated(path: &Path) -> DatabaseConfig {
        let database = DatabaseConfig {
            main: DbTarget::Sqlite(path.to_owned()),
            logs: None,
            max_connections: 2,
            sqlite_busy_timeout: Duration::from_secs(3),
        };
        let store = Store::connect(&database).await.unwrap();
        store.migrate().await.unwrap();
        store.close().await;
        let c = Connection::open(path).unwrap();
        c.execute_batch(
            r#"INSERT INTO channels (id, type, created_at, updated_at) VALUES (1, 1, 0, 0);
               INSERT INTO "groups" (id, created_at, updated_at) VALUES ('g1', 0, 0);
               INSERT INTO tokens (id, key_hash, key, name, group_id, created_at, updated_at)
                   VALUES (1, 'h', 'k', 't1', 'g1', 0, 0);"#,
        )
        .unwrap();
        database
    }

    fn dump(path: &Path) -> Vec<(&'static str, Vec<Vec<Stored>>)> {
        dump_tables(path, &TABLES)
    }

    fn dump_tables(path: &Path, tables: &[&'static str]) -> Vec<(&'static str, Vec<Vec<Stored>>)> {
        let c = Connection::open(path).unwrap();
        tables
            .iter()
            .map(|table| {
                let mut statement = c
                    .prepare(&format!("SELECT * FROM {table} ORDER BY 1, 2"))
                    .unwrap();
                let width = statement.column_count();
                let rows = statement
                    .query_map([], |row| {
                        (0..width).map(|i| row.get::<_, Stored>(i)).collect()
                    })
                    .unwrap()
                    .collect::<Result<Vec<Vec<Stored>>, _>>()
                    .unwrap();
                (*table, rows)
            })
            .collect()
    }

    /// `.cargo/config.toml` builds SQLite without memory statistics and with
    /// a page cache per connection: neither takes a global mutex on the log
    /// writer's every allocation and page.
    #[test]
    fn sqlite_is_built_without_its_global_allocation_mutexes() {
        let dir = tempfile::tempdir().unwrap();
        let connection = open_connection(&dir.path().join("o.db"), Duration::from_secs(1)).unwrap();
        let mut statement = connection.prepare("PRAGMA compile_options").unwrap();
        let options: Vec<String> = statement
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(
            options.iter().any(|o| o == "DEFAULT_MEMSTATUS=0"),
            "{options:?}"
        );
        assert!(
            !options.iter().any(|o| o == "ENABLE_MEMORY_MANAGEMENT"),
            "{options:?}"
        );
        assert!(options.iter().any(|o| o == "THREADSAFE=1"), "{options:?}");
    }

    #[tokio::test]
    async fn writes_exactly_what_the_pool_writes() {
        let dir = tempfile::tempdir().unwrap();
        let (pooled, direct) = (dir.path().join("pooled.db"), dir.path().join("direct.db"));
        let entries = entries();
        let counters = counters_of(&entries);

        let store = Store::connect(&migrated(&pooled).await).await.unwrap();
        let saved = store.insert_log_batch(&entries, &counters).await.unwrap();
        assert!(saved, "one database: the counters go with the rows");
        store.close().await;

        migrated(&direct).await;
        let mut writer = SqliteBatchWriter::open(&direct, &direct, Duration::from_secs(3)).unwrap();
        let saved = writer.insert_log_batch(&entries, &counters).unwrap();
        assert!(saved, "one file: the counters go with the rows");
        drop(writer);

        let (expected, written) = (dump(&pooled), dump(&direct));
        let count = |table: &str| written.iter().find(|(t, _)| *t == table).unwrap().1.len();
        assert_eq!(
            count("logs"),
            203,
            "every request row, not the count-only one"
        );
        assert_eq!(count("request_details"), 3);
        assert_eq!(count("retry_logs"), 1);
        assert_eq!(count("summary_minutes"), 3, "the batch spans three minutes");
        for ((table, want), (_, got)) in expected.iter().zip(&written) {
            assert_eq!(got, want, "{table}");
        }
        let details = &written[1].1;
        let bodies: Vec<&Stored> = details.iter().map(|row| &row[2]).collect();
        assert!(
            bodies.contains(&&Stored::Text("first".into()))
                && bodies.contains(&&Stored::Text("second".into())),
            "each repeated id keeps its own detail: {details:?}"
        );
    }

    /// A compact row reads back exactly as the same record written with
    /// every column, and rows of both shapes share a batch.
    #[tokio::test]
    async fn a_compact_row_stores_what_a_full_row_stores() {
        use crate::store::values::{LOG_COLUMNS, LogRowText, PriceTexts, RowShape, log_row};

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shapes.db");
        migrated(&path).await;
        let mut compact = record("compact", 1_700_000_000_000, 200);
        compact.user.clear();
        compact.metadata = serde_json::Value::Null;
        compact.usage.cached_tokens = 2;
        compact.usage.reasoning_tokens = 1;
        assert_eq!(RowShape::of(&compact), RowShape::Compact);
        let full = record("full", 1_700_000_000_001, 502);
        assert_eq!(RowShape::of(&full), RowShape::Full);
        let entries: Vec<LogEntry> = [&compact, &full]
            .map(|r| LogEntry::Request {
                record: Box::new(r.clone()),
                detail: None,
            })
            .into();
        let mut writer = SqliteBatchWriter::open(&path, &path, Duration::from_secs(3)).unwrap();
        writer
            .insert_log_batch(&entries, &UsageCounters::default())
            .unwrap();
        // The same records again, under other ids, every column named.
        let c = Connection::open(&path).unwrap();
        for (r, id) in [(&compact, "compact-full"), (&full, "full-full")] {
            let r = LogRecord {
                request_id: id.into(),
                ..r.clone()
            };
            let text = LogRowText::of(&r, &mut PriceTexts::default());
            let placeholders = vec!["?"; LOG_COLUMN_COUNT].join(", ");
            c.execute(
                &format!("INSERT INTO logs ({LOG_COLUMNS}) VALUES ({placeholders})"),
                rusqlite::params_from_iter(log_row(&r, &text)),
            )
            .unwrap();
        }
        let row = |id: &str| -> Vec<Stored> {
            let mut statement = c
                .prepare("SELECT * FROM logs WHERE request_id = ?")
                .unwrap();
            let width = statement.column_count();
            statement
                .query_row([id], |row| (2..width).map(|i| row.get(i)).collect())
                .unwrap()
        };
        assert_eq!(row("compact"), row("compact-full"));
        assert_eq!(row("full"), row("full-full"));
        assert!(
            row("full").contains(&Stored::Text("upstream said no ☹".into())),
            "the full row keeps its error text"
        );
    }

    #[tokio::test]
    async fn counters_go_to_the_main_database_when_logs_have_their_own() {
        let dir = tempfile::tempdir().unwrap();
        let (main, logs) = (dir.path().join("main.db"), dir.path().join("logs.db"));
        migrated(&main).await;
        migrated(&logs).await;
        let entries = entries();
        let counters = counters_of(&entries);
        let mut writer = SqliteBatchWriter::open(&logs, &main, Duration::from_secs(3)).unwrap();
        let saved = writer.insert_log_batch(&entries, &counters).unwrap();
        assert!(!saved, "the counters are the main database's to save");
        let requests = |path: &Path| -> i64 {
            Connection::open(path)
                .unwrap()
                .query_row("SELECT request_count FROM tokens WHERE id = 1", [], |row| {
                    row.get(0)
                })
                .unwrap()
        };
        assert_eq!(requests(&logs), 0, "not saved by the batch");
        writer.apply_usage_counters(&counters).unwrap();
        drop(writer);
        assert_eq!(requests(&main), 204, "every request, count-only included");
        assert_eq!(
            requests(&logs),
            0,
            "the log database's tokens are not the real ones"
        );
        let logged = |path: &Path| dump_tables(path, &["logs"])[0].1.len();
        assert_eq!((logged(&logs), logged(&main)), (203, 0));
    }

    #[tokio::test]
    async fn a_batch_gives_way_when_the_writer_asks_to() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("yielding.db");
        migrated(&path).await;
        let entries = entries();
        let counters = counters_of(&entries);
        let mut writer = SqliteBatchWriter::open(&path, &path, Duration::from_secs(3)).unwrap();
        let before = switchyard_sched::yields();
        writer
            .insert_log_batch(&entries[..100], &UsageCounters::default())
            .unwrap();
        assert_eq!(switchyard_sched::yields(), before, "off unless asked");

        switchyard_sched::give_way_every(Some(Duration::ZERO));
        let before = switchyard_sched::yields();
        writer.insert_log_batch(&entries[100..], &counters).unwrap();
        let batch = switchyard_sched::yields() - before;
        switchyard_sched::give_way_every(None);
        // Binding yields once per 64 values: the 103 log rows and, at most,
        // a thousand values of details, retries, summaries and counters.
        // Anything beyond that came from SQLite's progress handler, in the
        // middle of its steps.
        let from_binding = (103 * LOG_COLUMN_COUNT + 1000) / GIVE_WAY_BINDS;
        assert!(
            batch > from_binding as u64 + 10,
            "{batch} yields, binding accounts for {from_binding} at most"
        );
        let logged = dump_tables(&path, &["logs"])[0].1.len();
        assert_eq!(logged, 203, "yielding changes nothing written");
    }

    #[tokio::test]
    async fn a_failed_batch_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("broken.db");
        migrated(&path).await;
        // The last statement of a batch fails: the rows before it go too.
        Connection::open(&path)
            .unwrap()
            .execute_batch("DROP TABLE group_summary_minutes")
            .unwrap();
        let mut writer = SqliteBatchWriter::open(&path, &path, Duration::from_secs(1)).unwrap();
        let entries = entries();
        let error = writer
            .insert_log_batch(&entries, &counters_of(&entries))
            .unwrap_err();
        assert!(
            error.to_string().contains("group_summary_minutes"),
            "{error}"
        );
        let written = dump_tables(&path, &TABLES[..4]);
        assert!(
            written.iter().all(|(_, rows)| rows.is_empty()),
            "{written:?}"
        );
    }

    #[tokio::test]
    async fn rows_and_their_counters_are_saved_together_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("held.db");
        migrated(&path).await;
        let hold = Connection::open(&path).unwrap();
        hold.execute_batch(
            "CREATE TRIGGER hold BEFORE UPDATE ON channels BEGIN SELECT RAISE(ABORT, 'channels held'); END",
        )
        .unwrap();
        let entries = entries();
        let counters = counters_of(&entries);
        let mut writer = SqliteBatchWriter::open(&path, &path, Duration::from_secs(1)).unwrap();

        // The counters' last statement fails: the batch's rows go too.
        let error = writer.insert_log_batch(&entries, &counters).unwrap_err();
        assert!(error.to_string().contains("channels held"), "{error}");
        let written = dump_tables(&path, &TABLES[..4]);
        assert!(
            written.iter().all(|(_, rows)| rows.is_empty()),
            "{written:?}"
        );
        let counted = || -> (i64, i64) {
            hold.query_row(
                "SELECT (SELECT request_count FROM tokens WHERE id = 1), \
                        (SELECT request_count FROM channels WHERE id = 1)",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .unwrap()
        };
        assert_eq!(counted(), (0, 0), "no counter moved");

        // Retried once the database takes it: everything, counted once.
        hold.execute_batch("DROP TRIGGER hold").unwrap();
        assert!(writer.insert_log_batch(&entries, &counters).unwrap());
        assert_eq!(dump_tables(&path, &["logs"])[0].1.len(), 203);
        assert_eq!(counted(), (204, 204), "every request, count-only included");
    }
}
