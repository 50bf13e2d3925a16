//! Token quota periods: one definition of when a period starts, used by
//! every check. Periods are calendar periods in UTC: a day starts at
//! 00:00, a week on Monday 00:00, a month on its first day 00:00.

const DAY_MS: i64 = 86_400_000;

/// Start (ms) of the period of type `period_type` that contains `now_ms`.
pub fn period_start(now_ms: i64, period_type: &str) -> i64 {
    let days = now_ms.div_euclid(DAY_MS);
    match period_type {
        "daily" => days * DAY_MS,
        "weekly" => {
            // 1970-01-01 was a Thursday: Monday-based weekday index.
            let weekday = (days + 3).rem_euclid(7);
            (days - weekday) * DAY_MS
        }
        _ => {
            let (year, month, _) = civil_from_days(days);
            days_from_civil(year, month, 1) * DAY_MS
        }
    }
}

/// Amount spent in the current period: nothing when the stored period start
/// is older than the current period (the reset has not been written yet).
pub fn period_usage(
    now_ms: i64,
    period_type: &str,
    used_amount: f64,
    last_update_time: i64,
    last_update_amount: f64,
) -> f64 {
    if last_update_time < period_start(now_ms, period_type) {
        0.0
    } else {
        (used_amount - last_update_amount).max(0.0)
    }
}

// Howard Hinnant's civil calendar algorithms (public domain).
/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian.
pub(crate) fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year - era * 400;
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2026-11-22T13:45:00Z is a Sunday.
    const NOW: i64 = 1_795_355_100_000;

    #[test]
    fn boundaries() {
        assert_eq!(period_start(NOW, "daily"), 1_795_305_600_000); // 2026-11-22
        assert_eq!(period_start(NOW, "weekly"), 1_794_787_200_000); // Mon 2026-11-16
        assert_eq!(period_start(NOW, "monthly"), 1_793_491_200_000); // 2026-11-01
    }

    #[test]
    fn civil_round_trip() {
        for d in [-1000, 0, 59, 60, 18_000, 20_779] {
            let (y, m, day) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, day), d);
        }
    }

    #[test]
    fn usage_resets_with_period() {
        assert_eq!(period_usage(NOW, "daily", 10.0, NOW - 1000, 4.0), 6.0);
        assert_eq!(period_usage(NOW, "daily", 10.0, NOW - 86_400_000, 4.0), 0.0);
    }
}
