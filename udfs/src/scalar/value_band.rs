//! `value_band(x, b1, ..., bn)`: which band between ascending bounds a value falls in.

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, Int32Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float64Type};
use datafusion::common::{ScalarValue, exec_err, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature,
    Volatility,
};
use datafusion_macros::user_doc;

const NAME: &str = "value_band";

#[user_doc(
    doc_section(label = "Tag Functions"),
    description = "The band index of `x` between ascending bounds: 0 when `x < b1`, `i` \
    when `b_i <= x < b_(i+1)`, `n` when `x >= bn`. Percentile bands come from bounds \
    computed by `approx_percentile_cont`; names from an array: \
    `['low', 'mid', 'high'][value_band(x, p33, p67) + 1]`. The bounds must be ascending; \
    equal neighbours are allowed (the band between them is empty, as happens with \
    percentiles of skewed data). Constant bounds are checked when the query is planned, \
    column bounds on each row; the error names the argument position. A NULL `x` or \
    bound gives NULL.",
    syntax_example = "value_band(x, b1, ..., bn)",
    sql_example = r#"```sql
> SELECT value_band(5, 10, 100), value_band(10, 10, 100), value_band(250, 10, 100);
+---+---+---+
| 0 | 1 | 2 |
+---+---+---+
```"#,
    argument(name = "x", description = "A number."),
    argument(name = "b1, ..., bn", description = "One or more numbers, ascending.")
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ValueBandFunc {
    signature: Signature,
}

impl Default for ValueBandFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl ValueBandFunc {
    pub fn new() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

/// The band of `x` between `bounds` (ascending).
pub fn band(x: f64, bounds: &[f64]) -> i32 {
    bounds.partition_point(|&b| b <= x) as i32
}

/// An error naming the first bound (1-based argument position) below its predecessor.
fn check_ascending(bounds: &[f64], row: Option<usize>) -> Result<()> {
    for i in 1..bounds.len() {
        if bounds[i].is_nan() || bounds[i - 1].is_nan() || bounds[i] < bounds[i - 1] {
            let at = row.map(|r| format!(" on row {r}")).unwrap_or_default();
            let (position, previous) = (i + 2, i + 1);
            let message = format!(
                "{NAME}: bounds must be ascending, but argument {position} ({}) is below \
                 argument {previous} ({}){at}",
                bounds[i],
                bounds[i - 1]
            );
            return if row.is_some() {
                exec_err!("{message}")
            } else {
                plan_err!("{message}")
            };
        }
    }
    Ok(())
}

impl ScalarUDFImpl for ValueBandFunc {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if arg_types.len() < 2 {
            return plan_err!(
                "{NAME}: expected a value and at least one bound, got {} argument(s)",
                arg_types.len()
            );
        }
        for (i, t) in arg_types.iter().enumerate() {
            if !(t.is_numeric() || t.is_null()) {
                return plan_err!("{NAME}: argument {} must be a number, got {t}", i + 1);
            }
        }
        Ok(vec![DataType::Float64; arg_types.len()])
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int32)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let constants: Option<Vec<f64>> = args
            .scalar_arguments
            .get(1..)
            .unwrap_or_default()
            .iter()
            .map(|s| match s.map(|v| v.cast_to(&DataType::Float64)) {
                Some(Ok(ScalarValue::Float64(Some(v)))) => Some(v),
                _ => None,
            })
            .collect();
        if let Some(bounds) = constants {
            check_ascending(&bounds, None)?;
        }
        Ok(Arc::new(Field::new(NAME, DataType::Int32, true)))
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
            .map(|a| Ok(cast(&a.to_array(rows)?, &DataType::Float64)?))
            .collect::<Result<Vec<_>>>()?;
        let columns: Vec<_> = arrays
            .iter()
            .map(|a| a.as_primitive::<Float64Type>())
            .collect();
        let constant_bounds = args.args[1..]
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let mut bounds = vec![0.0; columns.len() - 1];
        let mut out = Vec::with_capacity(rows);
        for row in 0..rows {
            if columns.iter().any(|c| c.is_null(row)) {
                out.push(None);
                continue;
            }
            for (b, c) in bounds.iter_mut().zip(&columns[1..]) {
                *b = c.value(row);
            }
            if row == 0 || !constant_bounds {
                check_ascending(&bounds, Some(row + 1))?;
            }
            out.push(Some(band(columns[0].value(row), &bounds)));
        }
        let result = Int32Array::from(out);
        if all_scalar {
            Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
                &result, 0,
            )?))
        } else {
            Ok(ColumnarValue::Array(Arc::new(result) as Arc<dyn Array>))
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
    fn bands_are_half_open() {
        let bounds = [10.0, 100.0];
        assert_eq!(band(-1.0, &bounds), 0);
        assert_eq!(band(9.99, &bounds), 0);
        assert_eq!(band(10.0, &bounds), 1);
        assert_eq!(band(99.0, &bounds), 1);
        assert_eq!(band(100.0, &bounds), 2);
        assert_eq!(band(1e9, &bounds), 2);
    }

    #[test]
    fn bounds_out_of_order_name_the_position() {
        let err = check_ascending(&[1.0, 5.0, 4.0], None)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("argument 4 (4) is below argument 3 (5)"),
            "{err}"
        );
        let err = check_ascending(&[3.0, 2.0], Some(7))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("argument 3 (2) is below argument 2 (3) on row 7"),
            "{err}"
        );
        assert!(check_ascending(&[1.0], None).is_ok());
        // equal bounds: an empty band
        assert!(check_ascending(&[1.0, 1.0, 2.0], None).is_ok());
        assert_eq!(band(1.0, &[1.0, 1.0, 2.0]), 2);
    }
}
