//! Civil-date helpers (proleptic Gregorian, no external date crate).
//!
//! Days are counted from 1970-01-01; all local times are Asia/Shanghai (UTC+8,
//! no daylight saving).

use std::fmt::Write;

/// Milliseconds in a day.
pub const DAY_MS: i64 = 86_400_000;
/// Milliseconds in an hour.
pub const HOUR_MS: i64 = 3_600_000;
/// Milliseconds in a minute.
pub const MINUTE_MS: i64 = 60_000;
/// Asia/Shanghai offset from UTC in milliseconds.
pub const BEIJING_OFFSET_MS: i64 = 8 * HOUR_MS;

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i32, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y as i64 - 1 } else { y as i64 };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date `(year, month, day)` of a day number.
pub fn civil_from_days(z: i64) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    ((if m <= 2 { y + 1 } else { y }) as i32, m, d)
}

/// Whether `(y, m, d)` is a real calendar date.
pub fn is_valid_date(y: i32, m: u32, d: u32) -> bool {
    if !(1..=12).contains(&m) || d == 0 {
        return false;
    }
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let dim = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if leap => 29,
        _ => 28,
    };
    d <= dim
}

/// Day of week of a day number, 0 = Monday ... 6 = Sunday.
pub fn weekday(days: i64) -> u32 {
    (days + 3).rem_euclid(7) as u32
}

/// Epoch milliseconds of Beijing midnight starting the given day number.
pub fn beijing_midnight_ms(days: i64) -> i64 {
    days * DAY_MS - BEIJING_OFFSET_MS
}

/// Day number of the Beijing calendar date containing the instant `ms`.
pub fn beijing_day(ms: i64) -> i64 {
    (ms + BEIJING_OFFSET_MS).div_euclid(DAY_MS)
}

/// Appends `YYYY-MM-DD`.
pub fn push_date(buf: &mut String, days: i64) {
    let (y, m, d) = civil_from_days(days);
    let _ = write!(buf, "{y:04}-{m:02}-{d:02}");
}

/// Appends the Beijing wall-clock time of `ms` as `yyyy-MM-dd HH:mm:ss`.
pub fn push_beijing_datetime(buf: &mut String, ms: i64) {
    let local = ms + BEIJING_OFFSET_MS;
    let days = local.div_euclid(DAY_MS);
    let secs = local.rem_euclid(DAY_MS) / 1000;
    push_date(buf, days);
    let _ = write!(
        buf,
        " {:02}:{:02}:{:02}",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for z in -800_000..800_000i64 {
            let (y, m, d) = civil_from_days(z);
            assert!(is_valid_date(y, m, d));
            assert_eq!(days_from_civil(y, m, d), z);
        }
    }

    #[test]
    fn known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2026, 10, 1), 20_727);
        assert_eq!(weekday(days_from_civil(2026, 10, 1)), 3); // Thursday
        assert!(!is_valid_date(2026, 2, 29));
        assert!(is_valid_date(2028, 2, 29));
        let mut s = String::new();
        // 2026-10-01 00:30 Beijing = 2026-09-30 16:30 UTC
        let ms = beijing_midnight_ms(20_727) + 30 * MINUTE_MS;
        push_beijing_datetime(&mut s, ms);
        assert_eq!(s, "2026-10-01 00:30:00");
        assert_eq!(beijing_day(ms), 20_727);
        assert_eq!(beijing_day(ms - 31 * MINUTE_MS), 20_726);
    }
}
