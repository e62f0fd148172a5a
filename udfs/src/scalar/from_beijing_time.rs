//! `from_beijing_time(text)`: a zone-less Beijing local time string -> UTC timestamp (ms).

use std::sync::Arc;

use datafusion::arrow::array::TimestampMillisecondArray;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::types::logical_string;
use datafusion::common::utils::take_function_args;
use datafusion::common::{ScalarValue, exec_err};
use datafusion::error::Result;
use datafusion::logical_expr::{
    Coercion, ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature,
    TypeSignatureClass, Volatility,
};
use datafusion_macros::user_doc;

use super::{map_strings, utc_millis};

/// Asia/Shanghai has been UTC+8 without daylight saving since 1991.
const BEIJING_OFFSET_MS: i64 = 8 * 3600 * 1000;

#[user_doc(
    doc_section(label = "Normalisation Functions"),
    description = "Parses a local Beijing time string without a zone, as Taobao exports \
    them (`yyyy-MM-dd HH:mm:ss`, also with a `T` separator, fractional seconds or no time \
    part), as Asia/Shanghai (UTC+8) and returns the UTC instant. A string that is not such \
    a time is an error that quotes it.",
    syntax_example = "from_beijing_time(text)",
    sql_example = r#"```sql
> SELECT from_beijing_time('2026-11-01 08:00:00');
+----------------------+
| 2026-11-01T00:00:00Z |
+----------------------+
```"#,
    argument(name = "text", description = "Beijing local time. NULL gives NULL.")
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct FromBeijingTimeFunc {
    signature: Signature,
}

impl Default for FromBeijingTimeFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl FromBeijingTimeFunc {
    pub fn new() -> Self {
        Self {
            signature: Signature::coercible(
                vec![Coercion::new_exact(TypeSignatureClass::Native(
                    logical_string(),
                ))],
                Volatility::Immutable,
            ),
        }
    }
}

/// Days from 1970-01-01 to the civil date (proleptic Gregorian), H. Hinnant's algorithm.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(month) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses `yyyy-MM-dd[( |T)HH:mm[:ss[.fff]]]` as Beijing time; epoch ms UTC.
pub fn parse_beijing_millis(text: &str) -> Option<i64> {
    let s = text.trim().as_bytes();
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = s.get(range)?;
        if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    if s.len() < 10 || s[4] != b'-' || s[7] != b'-' {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        _ => return None,
    };
    if day == 0 || day > days_in_month {
        return None;
    }
    let (mut hour, mut minute, mut second, mut millis) = (0, 0, 0, 0);
    if s.len() > 10 {
        if !(s[10] == b' ' || s[10] == b'T') || s.len() < 16 || s[13] != b':' {
            return None;
        }
        hour = num(11..13)?;
        minute = num(14..16)?;
        if s.len() > 16 {
            if s[16] != b':' || s.len() < 19 {
                return None;
            }
            second = num(17..19)?;
            if s.len() > 19 {
                if s[19] != b'.' || s.len() == 20 {
                    return None;
                }
                let frac = &s[20..];
                if !frac.iter().all(u8::is_ascii_digit) {
                    return None;
                }
                for (i, digit) in frac.iter().take(3).enumerate() {
                    millis += u32::from(digit - b'0') * 10u32.pow(2 - i as u32);
                }
            }
        }
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let days = days_from_civil(i64::from(year), month, day);
    let local_ms = days * 86_400_000
        + i64::from(hour) * 3_600_000
        + i64::from(minute) * 60_000
        + i64::from(second) * 1000
        + i64::from(millis);
    Some(local_ms - BEIJING_OFFSET_MS)
}

fn parse_or_error(text: &str) -> Result<Option<i64>> {
    match parse_beijing_millis(text) {
        Some(ms) => Ok(Some(ms)),
        None => exec_err!(
            "from_beijing_time: cannot read '{text}' as a Beijing time \
             (expected yyyy-MM-dd HH:mm:ss)"
        ),
    }
}

impl ScalarUDFImpl for FromBeijingTimeFunc {
    fn name(&self) -> &str {
        "from_beijing_time"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(utc_millis())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [text] = take_function_args(self.name(), &args.args)?;
        match text {
            ColumnarValue::Scalar(scalar) => {
                let ms = match scalar.try_as_str() {
                    Some(Some(s)) => parse_or_error(s)?,
                    Some(None) => None,
                    None => return exec_err!("from_beijing_time: expected a string"),
                };
                Ok(ColumnarValue::Scalar(ScalarValue::TimestampMillisecond(
                    ms,
                    Some("UTC".into()),
                )))
            }
            ColumnarValue::Array(array) => {
                let values = map_strings(self.name(), array.as_ref(), parse_or_error)?;
                let result = TimestampMillisecondArray::from(values).with_timezone("UTC");
                Ok(ColumnarValue::Array(Arc::new(result)))
            }
        }
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beijing_morning_is_utc_midnight() {
        let midnight_utc = days_from_civil(2026, 11, 1) * 86_400_000;
        assert_eq!(
            parse_beijing_millis("2026-11-01 08:00:00"),
            Some(midnight_utc)
        );
        assert_eq!(
            parse_beijing_millis("2026-11-01T08:00:00"),
            Some(midnight_utc)
        );
        assert_eq!(parse_beijing_millis("2026-11-01 08:00"), Some(midnight_utc));
        assert_eq!(
            parse_beijing_millis("2026-11-01 08:00:00.25"),
            Some(midnight_utc + 250)
        );
        assert_eq!(
            parse_beijing_millis("2026-11-01"),
            Some(midnight_utc - 8 * 3_600_000)
        );
    }

    #[test]
    fn calendar_is_checked() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert!(parse_beijing_millis("2024-02-29 00:00:00").is_some());
        for bad in [
            "2026-02-29 00:00:00",
            "2026-13-01 00:00:00",
            "2026-11-01 24:00:00",
            "2026/11/01 08:00:00",
            "20261101",
            "2026-11-01 08:00:00Z",
            "",
        ] {
            assert_eq!(parse_beijing_millis(bad), None, "{bad}");
        }
    }

    #[test]
    fn bad_text_is_quoted_in_the_error() {
        let err = parse_or_error("yesterday").unwrap_err().to_string();
        assert!(err.contains("'yesterday'"), "{err}");
    }
}
