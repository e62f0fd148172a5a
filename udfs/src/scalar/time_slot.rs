//! `time_slot(ts)`: the Beijing-time hour bucket of an instant.

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, TimestampMillisecondType};
use datafusion::common::utils::take_function_args;
use datafusion::common::{ScalarValue, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};
use datafusion_macros::user_doc;

use super::utc_millis;

const NAME: &str = "time_slot";

/// The slots, with their first and last Beijing hour (inclusive), as in the generator's
/// `truth.persons.active_slot`.
pub const SLOTS: [(&str, u32, u32); 6] = [
    ("late", 0, 6),
    ("am", 7, 11),
    ("noon", 12, 13),
    ("pm", 14, 17),
    ("prime", 18, 21),
    ("night", 22, 23),
];

const HOUR_MS: i64 = 3_600_000;
const BEIJING_OFFSET_MS: i64 = 8 * HOUR_MS;

#[user_doc(
    doc_section(label = "Tag Functions"),
    description = "The Beijing-time (UTC+8) hour bucket of an instant: `late` (0–6 h), \
    `am` (7–11), `noon` (12–13), `pm` (14–17), `prime` (18–21), `night` (22–23), the \
    vocabulary of the `active_slot` tag and of `truth.persons.active_slot`. A timestamp \
    without a time zone is read as UTC.",
    syntax_example = "time_slot(ts)",
    sql_example = r#"```sql
> SELECT time_slot(TIMESTAMP '2026-10-01T12:30:00Z');
+-------+
| prime |
+-------+
```"#,
    argument(name = "ts", description = "A timestamp. NULL gives NULL.")
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct TimeSlotFunc {
    signature: Signature,
}

impl Default for TimeSlotFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl TimeSlotFunc {
    pub fn new() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

/// The slot of epoch milliseconds `ms` (UTC).
pub fn slot_of_millis(ms: i64) -> &'static str {
    let hour = (ms + BEIJING_OFFSET_MS).rem_euclid(24 * HOUR_MS) / HOUR_MS;
    slot_of_hour(hour as u32)
}

/// The slot of a Beijing hour (0..=23).
pub fn slot_of_hour(hour: u32) -> &'static str {
    SLOTS
        .iter()
        .find(|&&(_, lo, hi)| hour >= lo && hour <= hi)
        .map_or("night", |&(name, _, _)| name)
}

impl ScalarUDFImpl for TimeSlotFunc {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let [t] = take_function_args(NAME, arg_types)?;
        match t {
            DataType::Timestamp(..) | DataType::Null => Ok(vec![utc_millis()]),
            other => plan_err!("{NAME}: argument 1 (ts) must be a timestamp, got {other}"),
        }
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [ts] = take_function_args(NAME, args.args)?;
        let scalar = matches!(ts, ColumnarValue::Scalar(_));
        let array = cast(&ts.into_array(args.number_rows)?, &utc_millis())?;
        let millis = array.as_primitive::<TimestampMillisecondType>();
        let slots: StringArray = millis.iter().map(|v| v.map(slot_of_millis)).collect();
        if scalar {
            Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
                &slots, 0,
            )?))
        } else {
            Ok(ColumnarValue::Array(Arc::new(slots) as Arc<dyn Array>))
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
    fn hours_map_to_the_generator_buckets() {
        let expected = [
            "late", "late", "late", "late", "late", "late", "late", "am", "am", "am", "am", "am",
            "noon", "noon", "pm", "pm", "pm", "pm", "prime", "prime", "prime", "prime", "night",
            "night",
        ];
        for (hour, want) in expected.iter().enumerate() {
            assert_eq!(slot_of_hour(hour as u32), *want, "hour {hour}");
        }
    }

    #[test]
    fn beijing_is_utc_plus_eight() {
        // 2026-10-01T00:00:00Z is 08:00 in Beijing
        let midnight_utc = 1_790_812_800_000;
        assert_eq!(slot_of_millis(midnight_utc), "am");
        // 16:00Z is 00:00 the next day in Beijing
        assert_eq!(slot_of_millis(midnight_utc + 16 * HOUR_MS), "late");
        // before the epoch
        assert_eq!(slot_of_millis(-HOUR_MS), "am");
    }
}
