//! Dashboard time buckets: minute and hour buckets are aligned on Unix time,
//! day and month buckets start at local midnight of the client's time zone
//! (an IANA name such as `Asia/Shanghai`). Bucket starts are Unix seconds.

use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan, Zoned};
use thiserror::Error;

/// Most buckets a gap-filled series may have; beyond it only data points are returned.
pub const MAX_FILLED_POINTS: usize = 10_000;

/// A rejected time parameter.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum TimeSpanError {
    /// `timespan` is not one of the four spans.
    #[error("`timespan` must be minute, hour, day or month, got `{0}`")]
    BadSpan(String),
    /// `timezone` is not a known zone.
    #[error("unknown `timezone` `{0}` (use an IANA name such as Asia/Shanghai or UTC)")]
    BadZone(String),
}

/// The width of a dashboard bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeSpan {
    /// One minute (read from the per-minute table).
    Minute,
    /// One hour.
    Hour,
    /// One local day.
    Day,
    /// One local month.
    Month,
}

impl TimeSpan {
    /// Parse `minute|hour|day|month`; absent means `default`.
    pub fn parse(value: Option<&str>, default: Self) -> Result<Self, TimeSpanError> {
        match value.map(str::to_ascii_lowercase).as_deref() {
            None => Ok(default),
            Some("minute") => Ok(Self::Minute),
            Some("hour") => Ok(Self::Hour),
            Some("day") => Ok(Self::Day),
            Some("month") => Ok(Self::Month),
            Some(other) => Err(TimeSpanError::BadSpan(other.to_owned())),
        }
    }
}

/// The zone named by `timezone`: an IANA name, `UTC`, or absent/`Local` for the server's zone.
pub fn zone(name: Option<&str>) -> Result<TimeZone, TimeSpanError> {
    match name {
        None | Some("Local" | "local") => Ok(TimeZone::system()),
        Some(n) => TimeZone::get(n).map_err(|_| TimeSpanError::BadZone(n.to_owned())),
    }
}

fn zoned(ts: i64, tz: &TimeZone) -> Option<Zoned> {
    Timestamp::from_second(ts)
        .ok()
        .map(|t| t.to_zoned(tz.clone()))
}

fn local_start(z: &Zoned, span: TimeSpan) -> Option<Zoned> {
    match span {
        TimeSpan::Day => z.start_of_day().ok(),
        TimeSpan::Month => z.first_of_month().ok()?.start_of_day().ok(),
        TimeSpan::Minute | TimeSpan::Hour => None,
    }
}

/// Start of the bucket holding `ts` (s).
pub fn bucket(ts: i64, span: TimeSpan, tz: &TimeZone) -> i64 {
    match span {
        TimeSpan::Minute => ts - ts.rem_euclid(60),
        TimeSpan::Hour => ts - ts.rem_euclid(3600),
        TimeSpan::Day | TimeSpan::Month => zoned(ts, tz)
            .and_then(|z| local_start(&z, span))
            .map_or(ts, |z| z.timestamp().as_second()),
    }
}

/// Start of the bucket after the one starting at `start`.
fn next(start: i64, span: TimeSpan, tz: &TimeZone) -> Option<i64> {
    match span {
        TimeSpan::Minute => Some(start + 60),
        TimeSpan::Hour => Some(start + 3600),
        TimeSpan::Day => {
            let z = zoned(start, tz)?.tomorrow().ok()?;
            Some(z.start_of_day().ok()?.timestamp().as_second())
        }
        TimeSpan::Month => {
            let z = zoned(start, tz)?.checked_add(1.month()).ok()?;
            Some(local_start(&z, TimeSpan::Month)?.timestamp().as_second())
        }
    }
}

/// Every bucket start from the bucket of `start` to the bucket of `end`, or
/// `None` when there would be more than [`MAX_FILLED_POINTS`].
pub fn buckets_between(start: i64, end: i64, span: TimeSpan, tz: &TimeZone) -> Option<Vec<i64>> {
    let mut out = Vec::new();
    let last = bucket(end, span, tz);
    let mut at = bucket(start, span, tz);
    while at <= last {
        if out.len() >= MAX_FILLED_POINTS {
            return None;
        }
        out.push(at);
        at = next(at, span, tz)?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_days_and_months() {
        let shanghai = zone(Some("Asia/Shanghai")).unwrap();
        // 2024-03-10 20:00 UTC = 2024-03-11 04:00 in Shanghai; its day starts 2024-03-10 16:00 UTC.
        let t = 1_710_100_800;
        assert_eq!(bucket(t, TimeSpan::Day, &shanghai), 1_710_086_400);
        let utc = zone(Some("UTC")).unwrap();
        assert_eq!(bucket(t, TimeSpan::Day, &utc), 1_710_028_800);
        // 2024-03-01 00:00 Shanghai = 2024-02-29 16:00 UTC.
        assert_eq!(bucket(t, TimeSpan::Month, &shanghai), 1_709_222_400);
        let kolkata = zone(Some("Asia/Kolkata")).unwrap();
        assert_eq!(bucket(t, TimeSpan::Day, &kolkata), 1_710_095_400);
        assert_eq!(bucket(t + 59, TimeSpan::Minute, &utc), t);
        assert_eq!(bucket(t + 3599, TimeSpan::Hour, &utc), t);
    }

    #[test]
    fn dst_days_have_23_hours() {
        let ny = zone(Some("America/New_York")).unwrap();
        // 2024-03-10 is 23 hours long in New York.
        let start = bucket(1_710_100_800, TimeSpan::Day, &ny);
        assert_eq!(next(start, TimeSpan::Day, &ny).unwrap() - start, 23 * 3600);
    }

    #[test]
    fn fill_range_and_cap() {
        let utc = zone(Some("UTC")).unwrap();
        let b = buckets_between(3600 * 5 + 10, 3600 * 8, TimeSpan::Hour, &utc).unwrap();
        assert_eq!(b, vec![18_000, 21_600, 25_200, 28_800]);
        assert!(buckets_between(0, 60 * 20_000, TimeSpan::Minute, &utc).is_none());
        assert!(zone(Some("Mars/Olympus")).is_err());
        assert!(TimeSpan::parse(Some("week"), TimeSpan::Hour).is_err());
    }
}
