//! Calendar dates and Beijing time (UTC+8, no daylight saving), as days since 1970-01-01
//! (Arrow's `Date32`).

use std::time::{SystemTime, UNIX_EPOCH};

/// Beijing time is UTC+8 all year.
const BEIJING_OFFSET_SECS: i64 = 8 * 3600;

/// A calendar date: days since 1970-01-01.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(pub i32);

impl Date {
    /// `YYYY-MM-DD`.
    ///
    /// # Errors
    /// Anything else, or a day that does not exist.
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = || format!("'{text}' is not a date like 2026-10-05");
        let mut parts = text.trim().splitn(3, '-');
        let mut next =
            || -> Result<i64, String> { parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad) };
        let (y, m, d) = (next()?, next()?, next()?);
        if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
            return Err(bad());
        }
        Ok(Self(days_from_civil(y, m, d) as i32))
    }

    /// The date `n` days later.
    pub fn add_days(self, n: i32) -> Self {
        Self(self.0 + n)
    }

    /// (year, month, day).
    pub fn ymd(self) -> (i64, i64, i64) {
        civil_from_days(i64::from(self.0))
    }

    /// 0 = Sunday ... 6 = Saturday.
    pub fn weekday(self) -> u32 {
        // 1970-01-01 was a Thursday
        (i64::from(self.0) + 4).rem_euclid(7) as u32
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

/// A minute of Beijing wall-clock time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BeijingMinute {
    pub date: Date,
    /// Minutes since midnight (0..1440).
    pub minute: u32,
}

impl BeijingMinute {
    /// Now.
    pub fn now() -> Self {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        Self::from_unix(secs)
    }

    /// The Beijing minute of a Unix time in seconds.
    pub fn from_unix(secs: i64) -> Self {
        let local = secs + BEIJING_OFFSET_SECS;
        Self {
            date: Date(local.div_euclid(86_400) as i32),
            minute: (local.rem_euclid(86_400) / 60) as u32,
        }
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Howard Hinnant's civil calendar algorithms.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        for text in ["1970-01-01", "2000-02-29", "2026-10-05", "2026-12-31"] {
            assert_eq!(Date::parse(text).unwrap().to_string(), text);
        }
        assert_eq!(Date::parse("1970-01-02").unwrap(), Date(1));
        assert_eq!(Date::parse("2026-10-05").unwrap().weekday(), 1); // a Monday
        assert!(Date::parse("2026-02-29").is_err());
        assert!(Date::parse("2026-13-01").is_err());
        assert!(Date::parse("yesterday").is_err());
    }

    #[test]
    fn beijing_is_utc_plus_eight() {
        // 2026-10-04T16:30:00Z = 2026-10-05 00:30 in Beijing
        let t = BeijingMinute::from_unix(1_791_131_400);
        assert_eq!(t.date.to_string(), "2026-10-05");
        assert_eq!(t.minute, 30);
    }
}
