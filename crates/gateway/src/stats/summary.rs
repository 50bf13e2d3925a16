//! The summary data set: request, retry, exception and status-class counts,
//! the usage counters, the amount and the summed times of a group of
//! requests — one row of the summary tables, one point of a dashboard.
//!
//! [`SummaryBatch`] aggregates a batch of log entries (the log writer's) into
//! hourly and per-minute rows keyed by channel × model (every attempt) and by
//! group × token × model (final results only), ready for an additive upsert.

use std::collections::BTreeMap;

use serde::Serialize;
use serde::ser::SerializeMap;
use switchyard_protocol::Usage;

use crate::logs::record::{LogEntry, LogRecord, RetryRecord};

/// Integer columns of a summary row, in storage order.
pub const INT_COLUMNS: [&str; 26] = [
    "request_count",
    "retry_count",
    "exception_count",
    "status2xx_count",
    "status4xx_count",
    "status5xx_count",
    "status_other_count",
    "status400_count",
    "status429_count",
    "status500_count",
    "cache_hit_count",
    "cache_creation_count",
    "input_tokens",
    "image_input_tokens",
    "audio_input_tokens",
    "video_input_tokens",
    "output_tokens",
    "image_output_tokens",
    "audio_output_tokens",
    "cached_tokens",
    "cache_creation_tokens",
    "reasoning_tokens",
    "total_tokens",
    "web_search_count",
    "total_time_milliseconds",
    "total_ttfb_milliseconds",
];

/// Column index of `request_count`.
pub const REQUEST_COUNT: usize = 0;
const RETRY_COUNT: usize = 1;
/// Column index of `exception_count`.
pub const EXCEPTION_COUNT: usize = 2;
const STATUS_2XX: usize = 3;
const STATUS_4XX: usize = 4;
const STATUS_5XX: usize = 5;
const STATUS_OTHER: usize = 6;
const STATUS_400: usize = 7;
const STATUS_429: usize = 8;
const STATUS_500: usize = 9;
const CACHE_HIT: usize = 10;
const CACHE_CREATION: usize = 11;
const USAGE_START: usize = 12;
/// Column index of `total_tokens`.
pub const TOTAL_TOKENS: usize = 22;
const TOTAL_TIME: usize = 24;
const TOTAL_TTFB: usize = 25;

/// The JSON name of a column (AI Proxy writes the status counts as `status_2xx_count`).
pub fn json_name(column: &str) -> &str {
    match column {
        "status2xx_count" => "status_2xx_count",
        "status4xx_count" => "status_4xx_count",
        "status5xx_count" => "status_5xx_count",
        "status400_count" => "status_400_count",
        "status429_count" => "status_429_count",
        "status500_count" => "status_500_count",
        other => other,
    }
}

/// Counters of a set of requests.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SummaryData {
    /// The integer counters, indexed like [`INT_COLUMNS`].
    pub ints: [i64; INT_COLUMNS.len()],
    /// Summed amount.
    pub used_amount: f64,
}

impl SummaryData {
    /// Requests counted.
    pub fn request_count(&self) -> i64 {
        self.ints[REQUEST_COUNT]
    }

    /// Tokens counted.
    pub fn total_tokens(&self) -> i64 {
        self.ints[TOTAL_TOKENS]
    }

    /// Add another data set.
    pub fn add(&mut self, other: &Self) {
        for (a, b) in self.ints.iter_mut().zip(other.ints) {
            *a += b;
        }
        self.used_amount += other.used_amount;
    }

    /// Count one request (or attempt) that ended with `status`.
    fn count(&mut self, status: i64, is_retry: bool) {
        self.ints[REQUEST_COUNT] += 1;
        self.ints[RETRY_COUNT] += i64::from(is_retry);
        self.ints[EXCEPTION_COUNT] += i64::from(status != 200);
        let class = match status {
            200..=299 => STATUS_2XX,
            400..=499 => STATUS_4XX,
            500..=599 => STATUS_5XX,
            _ => STATUS_OTHER,
        };
        self.ints[class] += 1;
        match status {
            400 => self.ints[STATUS_400] += 1,
            429 => self.ints[STATUS_429] += 1,
            500 => self.ints[STATUS_500] += 1,
            _ => {}
        }
    }

    fn usage(&mut self, u: &Usage) {
        self.ints[CACHE_HIT] += i64::from(u.cached_tokens > 0);
        self.ints[CACHE_CREATION] += i64::from(u.cache_creation_tokens > 0);
        let values = [
            u.input_tokens,
            u.image_input_tokens,
            u.audio_input_tokens,
            u.video_input_tokens,
            u.output_tokens,
            u.image_output_tokens,
            u.audio_output_tokens,
            u.cached_tokens,
            u.cache_creation_tokens,
            u.reasoning_tokens,
            u.total_tokens,
            u.web_search_count,
        ];
        for (slot, v) in self.ints[USAGE_START..USAGE_START + values.len()]
            .iter_mut()
            .zip(values)
        {
            *slot += v;
        }
    }

    /// The data set of one finished client request.
    pub fn from_record(r: &LogRecord) -> Self {
        let mut d = Self::default();
        d.count(r.code, r.retry_times > 0);
        d.usage(&r.usage);
        d.ints[TOTAL_TIME] += (r.created_at - r.request_at).max(0);
        d.ints[TOTAL_TTFB] += r.ttfb_milliseconds.max(0);
        d.used_amount = r.used_amount;
        d
    }

    /// The data set of one failed attempt that was retried.
    pub fn from_retry(r: &RetryRecord) -> Self {
        let mut d = Self::default();
        d.count(r.code, r.attempt > 0);
        d.ints[TOTAL_TIME] += (r.created_at - r.retry_at).max(0);
        d.ints[TOTAL_TTFB] += r.ttfb_milliseconds.max(0);
        d
    }

    /// Write every counter into a JSON map under its AI Proxy name.
    pub fn serialize_fields<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
        for (column, value) in INT_COLUMNS.iter().zip(self.ints) {
            map.serialize_entry(json_name(column), &value)?;
        }
        map.serialize_entry("used_amount", &self.used_amount)
    }
}

impl Serialize for SummaryData {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(INT_COLUMNS.len() + 1))?;
        self.serialize_fields(&mut map)?;
        map.end()
    }
}

/// Key of a channel summary row: (channel, model, bucket start in s),
/// borrowed from the batch's entries.
pub type ChannelKey<'a> = (i64, &'a str, i64);
/// Key of a group summary row: (group, token name, model, bucket start in
/// s), borrowed from the batch's entries.
pub type GroupKey<'a> = (&'a str, &'a str, &'a str, i64);

/// Summary rows aggregated from one batch of log entries, keyed by text the
/// entries own (a row costs no copies of its names). Ordered maps keep the
/// upsert order stable, so concurrent writers lock rows in one order.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct SummaryBatch<'a> {
    /// Channel × model per hour.
    pub channel_hours: BTreeMap<ChannelKey<'a>, SummaryData>,
    /// Channel × model per minute.
    pub channel_minutes: BTreeMap<ChannelKey<'a>, SummaryData>,
    /// Group × token × model per hour.
    pub group_hours: BTreeMap<GroupKey<'a>, SummaryData>,
    /// Group × token × model per minute.
    pub group_minutes: BTreeMap<GroupKey<'a>, SummaryData>,
}

/// Start of the hour and of the minute (Unix seconds) of a time in ms.
fn buckets(at_ms: i64) -> (i64, i64) {
    let s = at_ms.div_euclid(1000);
    (s - s.rem_euclid(3600), s - s.rem_euclid(60))
}

impl<'a> SummaryBatch<'a> {
    /// Account one entry: final requests count for their group and (when one
    /// was reached) their channel; failed attempts count for their channel.
    pub fn add(&mut self, entry: &'a LogEntry) {
        match entry {
            LogEntry::Request { record, .. } | LogEntry::CountOnly(record) => {
                let data = SummaryData::from_record(record);
                let (hour, minute) = buckets(record.created_at);
                if record.channel_id > 0 {
                    self.add_channel(record.channel_id, &record.model, hour, minute, &data);
                }
                let (group, token, model) = (&record.group_id, &record.token_name, &record.model);
                for (map, ts) in [
                    (&mut self.group_hours, hour),
                    (&mut self.group_minutes, minute),
                ] {
                    map.entry((group, token, model, ts)).or_default().add(&data);
                }
            }
            LogEntry::Retry(retry) => {
                if retry.channel_id > 0 {
                    let (hour, minute) = buckets(retry.created_at);
                    let data = SummaryData::from_retry(retry);
                    self.add_channel(retry.channel_id, &retry.model, hour, minute, &data);
                }
            }
        }
    }

    fn add_channel(
        &mut self,
        channel: i64,
        model: &'a str,
        hour: i64,
        minute: i64,
        d: &SummaryData,
    ) {
        for (map, ts) in [
            (&mut self.channel_hours, hour),
            (&mut self.channel_minutes, minute),
        ] {
            map.entry((channel, model, ts)).or_default().add(d);
        }
    }

    /// True when there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.channel_hours.is_empty() && self.group_hours.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(code: i64, channel: i64, created_at: i64) -> LogRecord {
        LogRecord {
            code,
            channel_id: channel,
            group_id: "g".into(),
            token_name: "t".into(),
            model: "m".into(),
            request_at: created_at - 250,
            created_at,
            ttfb_milliseconds: 100,
            used_amount: 0.5,
            usage: Usage {
                input_tokens: 3,
                output_tokens: 4,
                total_tokens: 7,
                cached_tokens: 1,
                ..Usage::default()
            },
            ..LogRecord::default()
        }
    }

    #[test]
    fn counts_status_classes_and_usage() {
        let mut d = SummaryData::from_record(&record(200, 1, 10_000));
        d.add(&SummaryData::from_record(&record(429, 1, 10_000)));
        d.add(&SummaryData::from_record(&record(500, 1, 10_000)));
        assert_eq!(d.request_count(), 3);
        assert_eq!(d.ints[EXCEPTION_COUNT], 2);
        assert_eq!(
            (d.ints[STATUS_2XX], d.ints[STATUS_4XX], d.ints[STATUS_5XX]),
            (1, 1, 1)
        );
        assert_eq!((d.ints[STATUS_429], d.ints[STATUS_500]), (1, 1));
        assert_eq!(d.total_tokens(), 21);
        assert_eq!(d.ints[CACHE_HIT], 3);
        assert_eq!((d.ints[TOTAL_TIME], d.ints[TOTAL_TTFB]), (750, 300));
        assert!((d.used_amount - 1.5).abs() < 1e-9);
        let json = serde_json::to_value(d).unwrap();
        assert_eq!(json["status_4xx_count"], 1);
        assert_eq!(json["request_count"], 3);
    }

    #[test]
    fn batch_keys_by_hour_and_minute() {
        let t = 7_200_000 + 61_000; // 02:01:01 UTC on day 0
        let entries = [
            LogEntry::CountOnly(Box::new(record(200, 3, t))),
            LogEntry::CountOnly(Box::new(record(200, 0, t))),
            LogEntry::Retry(Box::new(RetryRecord {
                channel_id: 4,
                model: "m".into(),
                code: 502,
                created_at: t,
                retry_at: t - 10,
                ..RetryRecord::default()
            })),
        ];
        let mut b = SummaryBatch::default();
        for entry in &entries {
            b.add(entry);
        }
        assert_eq!(b.channel_hours.len(), 2, "channel 0 is not a channel");
        assert_eq!(b.channel_hours[&(3, "m", 7200)].request_count(), 1);
        assert_eq!(b.channel_minutes[&(4, "m", 7260)].ints[STATUS_5XX], 1);
        let g = &b.group_hours[&("g", "t", "m", 7200)];
        assert_eq!(g.request_count(), 2, "retries do not count for the group");
    }
}
