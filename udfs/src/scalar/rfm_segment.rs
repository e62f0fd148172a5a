//! `rfm_segment(r, f, m)`: the RFM class of a customer from high/low scores.

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{ScalarValue, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};
use datafusion_macros::user_doc;

const NAME: &str = "rfm_segment";
const ARGUMENTS: [&str; 3] = ["r", "f", "m"];

/// The 8 classes, indexed by `r << 2 | f << 1 | m` (1 = high). Names follow the
/// common Chinese CDP convention (重要价值, 重要唤回, ... 流失).
pub const CLASSES: [&str; 8] = [
    "lost",               // L L L  流失
    "important_retain",   // L L H  重要挽留
    "maintain",           // L H L  一般维持
    "important_win_back", // L H H  重要唤回
    "new",                // H L L  新客
    "important_develop",  // H L H  重要深耕
    "potential",          // H H L  潜力
    "important_value",    // H H H  重要价值
];

#[user_doc(
    doc_section(label = "Tag Functions"),
    description = "The RFM class of a customer from three high/low scores: `r` recent \
    (TRUE = bought recently), `f` frequent, `m` high monetary value. The 8 classes \
    (R F M): `important_value` (H H H, 重要价值), `important_win_back` (L H H, 重要唤回), \
    `important_develop` (H L H, 重要深耕), `important_retain` (L L H, 重要挽留), \
    `potential` (H H L, 潜力), `new` (H L L, 新客), `maintain` (L H L, 一般维持), `lost` \
    (L L L, 流失). Scores are booleans, or numbers where non-zero means high. A NULL score \
    gives NULL.",
    syntax_example = "rfm_segment(r, f, m)",
    sql_example = r#"```sql
> SELECT rfm_segment(true, true, true), rfm_segment(days_since <= 30, orders >= 3, spent_fen >= 100000)
  FROM (VALUES (90, 5, 250000)) AS t(days_since, orders, spent_fen);
+-----------------+--------------------+
| important_value | important_win_back |
+-----------------+--------------------+
```"#,
    argument(name = "r", description = "Recency is high (bought recently)."),
    argument(name = "f", description = "Frequency is high."),
    argument(name = "m", description = "Monetary value is high.")
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct RfmSegmentFunc {
    signature: Signature,
}

impl Default for RfmSegmentFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl RfmSegmentFunc {
    pub fn new() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

/// The class name of high/low scores.
pub fn class(r: bool, f: bool, m: bool) -> &'static str {
    CLASSES[(usize::from(r) << 2) | (usize::from(f) << 1) | usize::from(m)]
}

impl ScalarUDFImpl for RfmSegmentFunc {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if arg_types.len() != 3 {
            return plan_err!(
                "{NAME}: expected 3 arguments (r, f, m), got {}",
                arg_types.len()
            );
        }
        for (i, t) in arg_types.iter().enumerate() {
            if !(t.is_numeric() || matches!(t, DataType::Boolean | DataType::Null)) {
                return plan_err!(
                    "{NAME}: argument {} ({}) must be a boolean or a number, got {t}",
                    i + 1,
                    ARGUMENTS[i]
                );
            }
        }
        Ok(vec![DataType::Boolean; 3])
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let all_scalar = args
            .args
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let rows = if all_scalar { 1 } else { args.number_rows };
        let arrays = args
            .args
            .iter()
            .map(|a| Ok(cast(&a.to_array(rows)?, &DataType::Boolean)?))
            .collect::<Result<Vec<_>>>()?;
        let [r, f, m] = [0, 1, 2].map(|i| arrays[i].as_boolean());
        let classes: StringArray = (0..rows)
            .map(|i| {
                (r.is_valid(i) && f.is_valid(i) && m.is_valid(i))
                    .then(|| class(r.value(i), f.value(i), m.value(i)))
            })
            .collect();
        if all_scalar {
            Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
                &classes, 0,
            )?))
        } else {
            Ok(ColumnarValue::Array(Arc::new(classes) as Arc<dyn Array>))
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
    fn eight_distinct_classes() {
        assert_eq!(class(true, true, true), "important_value");
        assert_eq!(class(false, true, true), "important_win_back");
        assert_eq!(class(true, false, true), "important_develop");
        assert_eq!(class(false, false, true), "important_retain");
        assert_eq!(class(true, true, false), "potential");
        assert_eq!(class(true, false, false), "new");
        assert_eq!(class(false, true, false), "maintain");
        assert_eq!(class(false, false, false), "lost");
        let mut all = CLASSES.to_vec();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), 8);
    }
}
