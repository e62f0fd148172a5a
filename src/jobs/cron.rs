//! Five-field cron expressions (`minute hour day-of-month month day-of-week`), evaluated in
//! Beijing time. Fields take `*`, `n`, `a-b`, `*/s`, `a-b/s` and comma lists; day of week
//! is 0-7 (0 and 7 are Sunday). As in classic cron, when both day fields are restricted a
//! day matches if either does.

use super::date::{BeijingMinute, Date};

/// A parsed schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron {
    text: String,
    minutes: u64,
    hours: u64,
    days: u64,
    months: u64,
    weekdays: u64,
    days_restricted: bool,
    weekdays_restricted: bool,
}

impl std::fmt::Display for Cron {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

fn field(text: &str, name: &str, min: u32, max: u32) -> Result<u64, String> {
    let mut bits = 0u64;
    for part in text.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (
                r,
                s.parse::<u32>()
                    .ok()
                    .filter(|s| *s > 0)
                    .ok_or_else(|| format!("{name}: bad step in '{part}'"))?,
            ),
            None => (part, 1),
        };
        let number = |s: &str| {
            s.parse::<u32>()
                .ok()
                .filter(|n| (min..=max).contains(n))
                .ok_or_else(|| format!("{name}: '{s}' is not a number in {min}-{max}"))
        };
        let (lo, hi) = if range == "*" {
            (min, max)
        } else if let Some((a, b)) = range.split_once('-') {
            (number(a)?, number(b)?)
        } else {
            let n = number(range)?;
            (n, if part.contains('/') { max } else { n })
        };
        if lo > hi {
            return Err(format!("{name}: empty range '{part}'"));
        }
        for v in (lo..=hi).step_by(step as usize) {
            bits |= 1 << v;
        }
    }
    Ok(bits)
}

impl Cron {
    /// Parses `m h dom mon dow`.
    ///
    /// # Errors
    /// A message naming the field at fault.
    pub fn parse(text: &str) -> Result<Self, String> {
        let fields: Vec<&str> = text.split_whitespace().collect();
        let [m, h, dom, mon, dow] = fields[..] else {
            return Err(format!(
                "'{text}' needs 5 fields (minute hour day-of-month month day-of-week)"
            ));
        };
        let mut weekdays = field(dow, "day of week", 0, 7)?;
        if weekdays & (1 << 7) != 0 {
            weekdays |= 1; // 7 is Sunday too
        }
        Ok(Self {
            text: text.to_string(),
            minutes: field(m, "minute", 0, 59)?,
            hours: field(h, "hour", 0, 23)?,
            days: field(dom, "day of month", 1, 31)?,
            months: field(mon, "month", 1, 12)?,
            weekdays,
            days_restricted: dom != "*",
            weekdays_restricted: dow != "*",
        })
    }

    /// Whether the schedule fires on `date` at all.
    pub fn fires_on(&self, date: Date) -> bool {
        let (_, month, day) = date.ymd();
        if self.months & (1 << month) == 0 {
            return false;
        }
        let dom = self.days & (1 << day) != 0;
        let dow = self.weekdays & (1 << date.weekday()) != 0;
        match (self.days_restricted, self.weekdays_restricted) {
            (true, true) => dom || dow,
            (true, false) => dom,
            (false, true) => dow,
            (false, false) => true,
        }
    }

    /// Whether it fires at this minute.
    pub fn matches(&self, t: BeijingMinute) -> bool {
        self.fires_on(t.date)
            && self.hours & (1 << (t.minute / 60)) != 0
            && self.minutes & (1 << (t.minute % 60)) != 0
    }

    /// Whether it has fired on `t`'s day at or before `t`: the run for that day is due.
    pub fn due_by(&self, t: BeijingMinute) -> bool {
        (0..=t.minute).any(|minute| {
            self.matches(BeijingMinute {
                date: t.date,
                minute,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(date: &str, hh: u32, mm: u32) -> BeijingMinute {
        BeijingMinute {
            date: Date::parse(date).unwrap(),
            minute: hh * 60 + mm,
        }
    }

    #[test]
    fn fields_and_matching() {
        let daily = Cron::parse("30 2 * * *").unwrap();
        assert!(daily.matches(at("2026-10-05", 2, 30)));
        assert!(!daily.matches(at("2026-10-05", 2, 31)));
        assert!(!daily.due_by(at("2026-10-05", 2, 29)));
        assert!(daily.due_by(at("2026-10-05", 23, 0)));
        let every = Cron::parse("*/15 8-10,20 * * 1-5").unwrap();
        assert!(every.matches(at("2026-10-05", 8, 45))); // Monday
        assert!(every.matches(at("2026-10-05", 20, 0)));
        assert!(!every.matches(at("2026-10-04", 8, 45))); // Sunday
        assert!(!every.matches(at("2026-10-05", 11, 0)));
        let sunday = Cron::parse("0 0 * * 7").unwrap();
        assert!(sunday.matches(at("2026-10-04", 0, 0)));
        // either day field matches when both are restricted
        let either = Cron::parse("0 0 1 * 1").unwrap();
        assert!(either.fires_on(Date::parse("2026-10-01").unwrap()));
        assert!(either.fires_on(Date::parse("2026-10-05").unwrap()));
        assert!(!either.fires_on(Date::parse("2026-10-06").unwrap()));
    }

    #[test]
    fn bad_fields_are_named() {
        assert!(Cron::parse("0 0 * *").unwrap_err().contains("5 fields"));
        assert!(Cron::parse("0 24 * * *").unwrap_err().contains("hour"));
        assert!(Cron::parse("*/0 * * * *").unwrap_err().contains("step"));
        assert!(
            Cron::parse("5-1 * * * *")
                .unwrap_err()
                .contains("empty range")
        );
    }
}
