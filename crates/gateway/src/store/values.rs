//! The log writer's statements, described once for both ways of running
//! them: the values each row binds (borrowed from the entry) and the SQL
//! text they fill. [`super::logs`] binds them into sqlx's arguments
//! (PostgreSQL, and a SQLite log database beside a PostgreSQL main one);
//! [`super::sqlite_batch`] binds them straight into a SQLite statement.

use std::sync::Arc;

use super::row::{flag_value, to_json};
use crate::billing::AppliedPrice;
use crate::logs::record::{LogDetail, LogRecord, RetryRecord};
use crate::stats::summary::{ChannelKey, GroupKey, INT_COLUMNS, SummaryData};

/// One value of a write statement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    /// An integer (also flags and timestamps).
    Int(i64),
    /// A floating-point amount.
    Real(f64),
    /// Text, borrowed from the record.
    Text(&'a str),
}

/// Columns of a `logs` row, in the order [`log_row`] gives their values.
pub const LOG_COLUMNS: &str = "request_id, request_at, retry_at, created_at, ttfb_milliseconds, \
    group_id, token_id, token_name, model, actual_model, channel_id, mode, endpoint, code, content, \
    ip, retry_times, end_user, metadata, upstream_id, stream, input_tokens, image_input_tokens, \
    audio_input_tokens, video_input_tokens, output_tokens, image_output_tokens, \
    audio_output_tokens, cached_tokens, cache_creation_tokens, reasoning_tokens, total_tokens, \
    web_search_count, usage_estimated, used_amount, price, amount";
/// Values in a `logs` row.
pub const LOG_COLUMN_COUNT: usize = 37;

/// The columns a compact log row leaves out, by their place in
/// [`LOG_COLUMNS`]: `retry_at`, `content`, `retry_times`, `end_user`,
/// `metadata`, the image, audio and video token counts, `web_search_count`
/// and `usage_estimated`. They are zero or empty on almost every request,
/// and the schema defaults each of them to just that (`0` or `''`).
const SPARSE_COLUMNS: [usize; 12] = [2, 14, 16, 17, 18, 22, 23, 24, 26, 27, 32, 33];
/// Values in a compact `logs` row.
pub const COMPACT_LOG_COLUMN_COUNT: usize = LOG_COLUMN_COUNT - SPARSE_COLUMNS.len();
/// The columns of a compact row, by their place in [`LOG_COLUMNS`].
const COMPACT_COLUMNS_AT: [usize; COMPACT_LOG_COLUMN_COUNT] = compact_columns_at();
/// Columns of a compact `logs` row, in the order [`RowShape::push_row`]
/// gives their values: [`LOG_COLUMNS`] without `SPARSE_COLUMNS`.
pub const COMPACT_LOG_COLUMNS: &str = "request_id, request_at, created_at, ttfb_milliseconds, \
    group_id, token_id, token_name, model, actual_model, channel_id, mode, endpoint, code, ip, \
    upstream_id, stream, input_tokens, output_tokens, cached_tokens, cache_creation_tokens, \
    reasoning_tokens, total_tokens, used_amount, price, amount";

const fn compact_columns_at() -> [usize; COMPACT_LOG_COLUMN_COUNT] {
    let mut at = [0; COMPACT_LOG_COLUMN_COUNT];
    let (mut column, mut kept, mut sparse) = (0, 0, 0);
    while column < LOG_COLUMN_COUNT {
        if sparse < SPARSE_COLUMNS.len() && SPARSE_COLUMNS[sparse] == column {
            sparse += 1;
        } else {
            at[kept] = column;
            kept += 1;
        }
        column += 1;
    }
    at
}

/// Which columns a log row's insert names.
///
/// Every value bound costs a bind, an unbind and a clear, whatever it
/// holds, so a row whose sparse columns are all at their defaults is
/// written without them. The batch's rows are grouped by shape, one
/// statement per group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowShape {
    /// Every column ([`LOG_COLUMNS`]).
    Full,
    /// Without the sparse columns ([`COMPACT_LOG_COLUMNS`]).
    Compact,
}

impl RowShape {
    /// The shape `r` is written in: compact when each sparse column would
    /// hold its default.
    pub fn of(r: &LogRecord) -> Self {
        // The encoded texts only feed `metadata` among the sparse columns,
        // and it is empty exactly when the metadata is null.
        let no_text = LogRowText::default();
        let row = log_row(r, &no_text);
        let sparse_at_default = SPARSE_COLUMNS
            .iter()
            .all(|&at| matches!(row[at], Value::Int(0) | Value::Text("")));
        if sparse_at_default && r.metadata.is_null() {
            Self::Compact
        } else {
            Self::Full
        }
    }

    /// Values in a row of this shape.
    pub fn width(self) -> usize {
        match self {
            Self::Full => LOG_COLUMN_COUNT,
            Self::Compact => COMPACT_LOG_COLUMN_COUNT,
        }
    }

    /// The column list of a row of this shape.
    pub fn columns(self) -> &'static str {
        match self {
            Self::Full => LOG_COLUMNS,
            Self::Compact => COMPACT_LOG_COLUMNS,
        }
    }

    /// Append `r`'s values in this shape to `out`.
    pub fn push_row<'a>(self, r: &'a LogRecord, text: &'a LogRowText, out: &mut Vec<Value<'a>>) {
        let row = log_row(r, text);
        match self {
            Self::Full => out.extend(row),
            Self::Compact => out.extend(COMPACT_COLUMNS_AT.map(|at| row[at])),
        }
    }
}

/// A request's detail row, attached to its log row by id.
pub const INSERT_DETAIL: &str = "INSERT INTO request_details (log_id, request_body, response_body, \
    request_body_truncated, response_body_truncated, created_at) VALUES ($1, $2, $3, $4, $5, $6)";

/// A failed attempt that was retried.
pub const INSERT_RETRY: &str = "INSERT INTO retry_logs (request_id, request_at, retry_at, \
    created_at, ttfb_milliseconds, group_id, token_name, model, actual_model, channel_id, mode, \
    code, attempt, content, request_body, response_body, request_body_truncated, \
    response_body_truncated) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)";

/// Usage counters: `(requests, amount, last access, id)` for tokens and
/// groups, `(requests, amount, last access, retries, id)` for channels.
/// Placeholders appear in the order of their numbers, so binding by
/// position and by number agree.
pub const UPDATE_TOKEN_COUNTERS: &str = "UPDATE tokens SET request_count = request_count + $1, \
    used_amount = used_amount + $2, \
    accessed_at = CASE WHEN accessed_at < $3 THEN $3 ELSE accessed_at END WHERE id = $4";
/// See [`UPDATE_TOKEN_COUNTERS`].
pub const UPDATE_GROUP_COUNTERS: &str = r#"UPDATE "groups" SET request_count = request_count + $1, used_amount = used_amount + $2, accessed_at = CASE WHEN accessed_at < $3 THEN $3 ELSE accessed_at END WHERE id = $4"#;
/// See [`UPDATE_TOKEN_COUNTERS`].
pub const UPDATE_CHANNEL_COUNTERS: &str = "UPDATE channels SET request_count = request_count + $1, \
    used_amount = used_amount + $2, \
    accessed_at = CASE WHEN accessed_at < $3 THEN $3 ELSE accessed_at END, \
    retry_count = retry_count + $4 WHERE id = $5";

/// The columns of a log row that are encoded to text before binding.
#[derive(Debug, Default)]
pub struct LogRowText {
    metadata: String,
    price: Option<Arc<str>>,
    amount: String,
}

/// The last price encoded and its JSON text, reused while the rows that
/// follow were billed at the same price (as most rows of a model are):
/// comparing two prices costs a fraction of encoding one.
#[derive(Debug, Default)]
pub struct PriceTexts<'a> {
    last: Option<(&'a AppliedPrice, Arc<str>)>,
}

impl<'a> PriceTexts<'a> {
    /// The JSON text of `price`.
    fn text(&mut self, price: &'a AppliedPrice) -> Arc<str> {
        if let Some((seen, text)) = &self.last
            && *seen == price
        {
            return Arc::clone(text);
        }
        let text: Arc<str> = Arc::from(to_json(price));
        self.last = Some((price, Arc::clone(&text)));
        text
    }
}

impl LogRowText {
    /// Encode `r`'s metadata and charge; `prices` remembers the last price.
    pub fn of<'a>(r: &'a LogRecord, prices: &mut PriceTexts<'a>) -> Self {
        let (price, amount) = r
            .charge
            .as_ref()
            .map(|c| (Some(prices.text(&c.price)), to_json(&c.amount)))
            .unwrap_or_default();
        let metadata = if r.metadata.is_null() {
            String::new()
        } else {
            r.metadata.to_string()
        };
        Self {
            metadata,
            price,
            amount,
        }
    }
}

/// The values of `r`'s `logs` row, in [`LOG_COLUMNS`] order.
pub fn log_row<'a>(r: &'a LogRecord, text: &'a LogRowText) -> [Value<'a>; LOG_COLUMN_COUNT] {
    use Value::{Int, Real, Text};
    let u = &r.usage;
    [
        Text(&r.request_id),
        Int(r.request_at),
        Int(r.retry_at),
        Int(r.created_at),
        Int(r.ttfb_milliseconds),
        Text(&r.group_id),
        Int(r.token_id),
        Text(&r.token_name),
        Text(&r.model),
        Text(&r.actual_model),
        Int(r.channel_id),
        Int(r.mode),
        Text(&r.endpoint),
        Int(r.code),
        Text(&r.content),
        Text(&r.ip),
        Int(r.retry_times),
        Text(&r.user),
        Text(&text.metadata),
        Text(&r.upstream_id),
        Int(flag_value(r.stream)),
        Int(u.input_tokens),
        Int(u.image_input_tokens),
        Int(u.audio_input_tokens),
        Int(u.video_input_tokens),
        Int(u.output_tokens),
        Int(u.image_output_tokens),
        Int(u.audio_output_tokens),
        Int(u.cached_tokens),
        Int(u.cache_creation_tokens),
        Int(u.reasoning_tokens),
        Int(u.total_tokens),
        Int(u.web_search_count),
        Int(flag_value(r.usage_estimated)),
        Real(r.used_amount),
        Text(text.price.as_deref().unwrap_or_default()),
        Text(&text.amount),
    ]
}

/// The values of [`INSERT_DETAIL`] for the log row `log_id`.
pub fn detail_row(log_id: i64, created_at: i64, d: &LogDetail) -> [Value<'_>; 6] {
    [
        Value::Int(log_id),
        Value::Text(&d.request_body),
        Value::Text(&d.response_body),
        Value::Int(flag_value(d.request_body_truncated)),
        Value::Int(flag_value(d.response_body_truncated)),
        Value::Int(created_at),
    ]
}

/// The values of [`INSERT_RETRY`].
pub fn retry_row(r: &RetryRecord) -> [Value<'_>; 18] {
    use Value::{Int, Text};
    [
        Text(&r.request_id),
        Int(r.request_at),
        Int(r.retry_at),
        Int(r.created_at),
        Int(r.ttfb_milliseconds),
        Text(&r.group_id),
        Text(&r.token_name),
        Text(&r.model),
        Text(&r.actual_model),
        Int(r.channel_id),
        Int(r.mode),
        Int(r.code),
        Int(r.attempt),
        Text(&r.content),
        Text(&r.detail.request_body),
        Text(&r.detail.response_body),
        Int(flag_value(r.detail.request_body_truncated)),
        Int(flag_value(r.detail.response_body_truncated)),
    ]
}

/// Append the key and counters of a channel summary row to `out`.
pub fn channel_summary_row<'a>(
    (channel, model, at): &ChannelKey<'a>,
    data: &SummaryData,
    out: &mut Vec<Value<'a>>,
) {
    out.extend([Value::Int(*channel), Value::Text(model), Value::Int(*at)]);
    summary_data(data, out);
}

/// Append the key and counters of a group summary row to `out`.
pub fn group_summary_row<'a>(
    (group, token, model, at): &GroupKey<'a>,
    data: &SummaryData,
    out: &mut Vec<Value<'a>>,
) {
    out.extend([
        Value::Text(group),
        Value::Text(token),
        Value::Text(model),
        Value::Int(*at),
    ]);
    summary_data(data, out);
}

fn summary_data(data: &SummaryData, out: &mut Vec<Value<'_>>) {
    out.extend(data.ints.iter().map(|v| Value::Int(*v)));
    out.push(Value::Real(data.used_amount));
}

/// Values in a summary row after its key.
pub const SUMMARY_DATA_COUNT: usize = INT_COLUMNS.len() + 1;

/// Append `rows` groups of `width` anonymous placeholders to `text`:
/// `(?,?),(?,?)`.
pub fn push_placeholder_rows(text: &mut String, rows: usize, width: usize) {
    text.reserve(rows * (width * 2 + 2));
    for row in 0..rows {
        text.push_str(if row == 0 { "(" } else { ",(" });
        for column in 0..width {
            text.push_str(if column == 0 { "?" } else { ",?" });
        }
        text.push(')');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_row_has_a_value_per_column() {
        assert_eq!(LOG_COLUMNS.split(',').count(), LOG_COLUMN_COUNT);
        let record = LogRecord {
            request_id: "r1".into(),
            stream: true,
            used_amount: 1.5,
            metadata: serde_json::json!({"k": "v"}),
            ..LogRecord::default()
        };
        let text = LogRowText::of(&record, &mut PriceTexts::default());
        let row = log_row(&record, &text);
        assert_eq!(row[0], Value::Text("r1"));
        assert_eq!(row[18], Value::Text(r#"{"k":"v"}"#));
        assert_eq!(row[20], Value::Int(1));
        assert_eq!(row[34], Value::Real(1.5));
        assert_eq!(row[35], Value::Text(""), "no charge: empty price");
    }

    #[test]
    fn compact_rows_name_every_column_but_the_sparse_ones() {
        let all: Vec<&str> = LOG_COLUMNS.split(',').map(str::trim).collect();
        let compact: Vec<&str> = COMPACT_LOG_COLUMNS.split(',').map(str::trim).collect();
        let kept: Vec<&str> = COMPACT_COLUMNS_AT.iter().map(|&at| all[at]).collect();
        assert_eq!(compact, kept);
        let sparse: Vec<&str> = SPARSE_COLUMNS.iter().map(|&at| all[at]).collect();
        assert_eq!(
            sparse,
            [
                "retry_at",
                "content",
                "retry_times",
                "end_user",
                "metadata",
                "image_input_tokens",
                "audio_input_tokens",
                "video_input_tokens",
                "image_output_tokens",
                "audio_output_tokens",
                "web_search_count",
                "usage_estimated"
            ]
        );
    }

    #[test]
    fn a_row_is_compact_only_while_every_sparse_column_is_at_its_default() {
        let base = LogRecord {
            request_id: "r1".into(),
            model: "m".into(),
            content: String::new(),
            usage: switchyard_protocol::Usage::from_counts(7, 3),
            ..LogRecord::default()
        };
        assert_eq!(RowShape::of(&base), RowShape::Compact);
        let shape_after = |change: fn(&mut LogRecord)| {
            let mut r = base.clone();
            change(&mut r);
            (RowShape::of(&r), r)
        };
        let common: [fn(&mut LogRecord); 4] = [
            |r| r.usage.cached_tokens = 1,
            |r| r.usage.cache_creation_tokens = 1,
            |r| r.usage.reasoning_tokens = 1,
            |r| r.stream = true,
        ];
        for change in common {
            let (shape, r) = shape_after(change);
            assert_eq!(shape, RowShape::Compact, "{r:?}");
        }
        let sparse: [fn(&mut LogRecord); 12] = [
            |r| r.retry_at = 5,
            |r| r.content = "no".into(),
            |r| r.retry_times = 1,
            |r| r.user = "u".into(),
            |r| r.metadata = serde_json::json!({}),
            |r| r.usage.image_input_tokens = 1,
            |r| r.usage.audio_input_tokens = 1,
            |r| r.usage.video_input_tokens = 1,
            |r| r.usage.image_output_tokens = 1,
            |r| r.usage.audio_output_tokens = 1,
            |r| r.usage.web_search_count = 1,
            |r| r.usage_estimated = true,
        ];
        for change in sparse {
            let (shape, r) = shape_after(change);
            assert_eq!(shape, RowShape::Full, "{r:?}");
        }
        let text = LogRowText::of(&base, &mut PriceTexts::default());
        let (mut compact, mut full) = (Vec::new(), Vec::new());
        RowShape::Compact.push_row(&base, &text, &mut compact);
        RowShape::Full.push_row(&base, &text, &mut full);
        assert_eq!(compact.len(), COMPACT_LOG_COLUMN_COUNT);
        let kept: Vec<Value<'_>> = COMPACT_COLUMNS_AT.iter().map(|&at| full[at]).collect();
        assert_eq!(compact, kept);
    }

    #[test]
    fn rows_billed_at_one_price_share_its_text() {
        use crate::billing::{Charge, Price};
        use rust_decimal::Decimal;

        let charged = |input: i64| LogRecord {
            charge: Some(Charge {
                price: AppliedPrice::new(
                    &Price {
                        input_price: Decimal::new(input, 3),
                        ..Price::default()
                    },
                    None,
                ),
                ..Charge::default()
            }),
            ..LogRecord::default()
        };
        let records = [charged(15), charged(15), charged(20)];
        let mut prices = PriceTexts::default();
        let texts: Vec<LogRowText> = records
            .iter()
            .map(|r| LogRowText::of(r, &mut prices))
            .collect();
        let price = |i: usize| texts[i].price.clone().unwrap();
        assert!(Arc::ptr_eq(&price(0), &price(1)), "encoded once");
        assert_eq!(&*price(0), r#"{"input_price":0.015}"#);
        assert_eq!(&*price(2), r#"{"input_price":0.02}"#);
        assert!(
            LogRowText::of(&LogRecord::default(), &mut prices)
                .price
                .is_none()
        );
    }

    #[test]
    fn placeholders_in_the_order_of_their_numbers() {
        for sql in [
            UPDATE_TOKEN_COUNTERS,
            UPDATE_GROUP_COUNTERS,
            UPDATE_CHANNEL_COUNTERS,
            INSERT_DETAIL,
            INSERT_RETRY,
        ] {
            let mut next = 1;
            for (i, _) in sql.match_indices('$') {
                let n: String = sql[i + 1..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                let n: usize = n.parse().unwrap();
                assert!(n <= next, "{sql}: ${n} before ${next}");
                if n == next {
                    next += 1;
                }
            }
        }
        assert_eq!(
            INSERT_RETRY.matches('$').count(),
            retry_row(&RetryRecord::default()).len()
        );
    }

    #[test]
    fn placeholder_rows() {
        let mut text = String::from("VALUES ");
        push_placeholder_rows(&mut text, 2, 3);
        assert_eq!(text, "VALUES (?,?,?),(?,?,?)");
    }
}
