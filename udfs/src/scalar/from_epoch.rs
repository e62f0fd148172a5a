//! `from_epoch(x [, unit])`: an epoch number in any common unit -> UTC timestamp (ms).

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, TimestampMillisecondArray};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Int64Type};
use datafusion::common::types::{NativeType, logical_int64, logical_string};
use datafusion::common::{ScalarValue, exec_err, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::{
    Coercion, ColumnarValue, Documentation, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl,
    Signature, TypeSignature, TypeSignatureClass, Volatility,
};
use datafusion_macros::user_doc;

use super::utc_millis;
use crate::args::constant_str;

#[user_doc(
    doc_section(label = "Normalisation Functions"),
    description = "Converts an epoch number to a UTC timestamp in milliseconds. Platform \
    exports disagree on units (Douyin documents milliseconds and sends seconds in places; \
    WeChat sends seconds; Kuaishou milliseconds), so by default the unit is detected from \
    the magnitude: below 1e11 seconds, below 1e14 milliseconds, below 1e17 microseconds, \
    else nanoseconds. Any instant after 1973 is detected correctly.",
    syntax_example = "from_epoch(x [, unit])",
    sql_example = r#"```sql
> SELECT from_epoch(1761955200), from_epoch(1761955200000), from_epoch(1761955200, 'ms');
+----------------------+----------------------+-------------------------+
| 2025-11-01T00:00:00Z | 2025-11-01T00:00:00Z | 1970-01-21T09:25:55.200Z |
+----------------------+----------------------+-------------------------+
```"#,
    argument(name = "x", description = "Integer epoch value. NULL gives NULL."),
    argument(
        name = "unit",
        description = "Optional constant: `auto` (default), `s`, `ms`, `us` or `ns`."
    )
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct FromEpochFunc {
    signature: Signature,
}

impl Default for FromEpochFunc {
    fn default() -> Self {
        Self::new()
    }
}

/// The unit of an epoch value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EpochUnit {
    /// Detect from the magnitude.
    Auto,
    Seconds,
    Millis,
    Micros,
    Nanos,
}

impl EpochUnit {
    fn parse(text: &str) -> Option<Self> {
        Some(match text.trim().to_ascii_lowercase().as_str() {
            "auto" => Self::Auto,
            "s" | "sec" | "seconds" => Self::Seconds,
            "ms" | "millis" | "milliseconds" => Self::Millis,
            "us" | "micros" | "microseconds" => Self::Micros,
            "ns" | "nanos" | "nanoseconds" => Self::Nanos,
            _ => return None,
        })
    }

    /// `x` in this unit, as epoch milliseconds (`None` on overflow).
    pub fn to_millis(self, x: i64) -> Option<i64> {
        let unit = match self {
            Self::Auto => match x.unsigned_abs() {
                0..100_000_000_000 => Self::Seconds,
                100_000_000_000..100_000_000_000_000 => Self::Millis,
                100_000_000_000_000..100_000_000_000_000_000 => Self::Micros,
                _ => Self::Nanos,
            },
            unit => unit,
        };
        match unit {
            Self::Seconds => x.checked_mul(1000),
            Self::Micros => Some(x.div_euclid(1000)),
            Self::Nanos => Some(x.div_euclid(1_000_000)),
            Self::Millis | Self::Auto => Some(x),
        }
    }
}

impl FromEpochFunc {
    pub fn new() -> Self {
        let int = || {
            Coercion::new_implicit(
                TypeSignatureClass::Native(logical_int64()),
                vec![TypeSignatureClass::Integer],
                NativeType::Int64,
            )
        };
        let string = Coercion::new_exact(TypeSignatureClass::Native(logical_string()));
        Self {
            signature: Signature::one_of(
                vec![
                    TypeSignature::Coercible(vec![int()]),
                    TypeSignature::Coercible(vec![int(), string]),
                ],
                Volatility::Immutable,
            ),
        }
    }

    fn unit(&self, scalar: Option<&ScalarValue>) -> Result<EpochUnit> {
        let text = constant_str(self.name(), 2, "unit", scalar)?.unwrap_or("auto");
        match EpochUnit::parse(text) {
            Some(unit) => Ok(unit),
            None => plan_err!(
                "from_epoch: argument 2 (unit) must be one of 'auto', 's', 'ms', 'us', \
                 'ns', got '{text}'"
            ),
        }
    }
}

impl ScalarUDFImpl for FromEpochFunc {
    fn name(&self) -> &str {
        "from_epoch"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(utc_millis())
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        if args.scalar_arguments.len() == 2 {
            self.unit(args.scalar_arguments[1])?;
        }
        let nullable = args.arg_fields.iter().any(|f| f.is_nullable());
        Ok(Arc::new(Field::new(self.name(), utc_millis(), nullable)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let unit = match args.args.get(1) {
            None => EpochUnit::Auto,
            Some(ColumnarValue::Scalar(s)) => self.unit(Some(s))?,
            Some(ColumnarValue::Array(_)) => self.unit(None)?,
        };
        let convert = |x: i64| match unit.to_millis(x) {
            Some(ms) => Ok(ms),
            None => exec_err!("from_epoch: {x} is out of the timestamp range"),
        };
        match &args.args[0] {
            ColumnarValue::Scalar(ScalarValue::Int64(v)) => {
                let ms = v.map(convert).transpose()?;
                Ok(ColumnarValue::Scalar(ScalarValue::TimestampMillisecond(
                    ms,
                    Some("UTC".into()),
                )))
            }
            ColumnarValue::Array(array) => {
                let input = array.as_primitive::<Int64Type>();
                let mut out = Vec::with_capacity(input.len());
                for &x in input.values() {
                    // null slots hold arbitrary values: never fail on them
                    out.push(unit.to_millis(x).unwrap_or_default());
                }
                if let Some(bad) = input
                    .iter()
                    .flatten()
                    .find(|&x| unit.to_millis(x).is_none())
                {
                    convert(bad)?;
                }
                let result = TimestampMillisecondArray::new(out.into(), input.nulls().cloned())
                    .with_timezone("UTC");
                Ok(ColumnarValue::Array(Arc::new(result)))
            }
            other => exec_err!("from_epoch: unexpected argument {other:?}"),
        }
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::Int64Array;
    use datafusion::config::ConfigOptions;

    use super::*;

    fn invoke(args: Vec<ColumnarValue>, rows: usize) -> Result<ColumnarValue> {
        let arg_fields = args
            .iter()
            .map(|a| Arc::new(Field::new("a", a.data_type(), true)))
            .collect();
        FromEpochFunc::new().invoke_with_args(ScalarFunctionArgs {
            args,
            arg_fields,
            number_rows: rows,
            return_field: Arc::new(Field::new("f", utc_millis(), true)),
            config_options: Arc::new(ConfigOptions::default()),
        })
    }

    #[test]
    fn detects_units_from_magnitude() {
        let ms = 1_761_955_200_000;
        for x in [
            1_761_955_200,
            ms,
            1_761_955_200_000_000,
            1_761_955_200_000_000_000,
        ] {
            assert_eq!(EpochUnit::Auto.to_millis(x), Some(ms), "{x}");
        }
        assert_eq!(EpochUnit::Seconds.to_millis(-1), Some(-1000));
        assert_eq!(EpochUnit::Seconds.to_millis(i64::MAX), None);
    }

    #[test]
    fn arrays_keep_nulls_and_scalars_stay_scalar() -> Result<()> {
        let input = Int64Array::from(vec![Some(1_761_955_200), None, Some(1_761_955_200_123)]);
        let ColumnarValue::Array(out) = invoke(vec![ColumnarValue::Array(Arc::new(input))], 3)?
        else {
            panic!("expected an array");
        };
        let out = out.as_primitive::<datafusion::arrow::datatypes::TimestampMillisecondType>();
        assert_eq!(out.value(0), 1_761_955_200_000);
        assert!(out.is_null(1));
        assert_eq!(out.value(2), 1_761_955_200_123);

        let scalar = invoke(vec![ColumnarValue::Scalar(ScalarValue::Int64(Some(5)))], 1)?;
        assert!(matches!(
            scalar,
            ColumnarValue::Scalar(ScalarValue::TimestampMillisecond(Some(5000), _))
        ));
        Ok(())
    }

    #[test]
    fn explicit_unit_and_bad_unit() {
        let unit = |s: &str| {
            invoke(
                vec![
                    ColumnarValue::Scalar(ScalarValue::Int64(Some(7))),
                    ColumnarValue::Scalar(ScalarValue::Utf8(Some(s.into()))),
                ],
                1,
            )
        };
        assert!(matches!(
            unit("ms").unwrap(),
            ColumnarValue::Scalar(ScalarValue::TimestampMillisecond(Some(7), _))
        ));
        let err = unit("days").unwrap_err().to_string();
        assert!(err.contains("from_epoch: argument 2 (unit)"), "{err}");
    }

    #[test]
    fn overflow_is_an_error_not_a_wrap() {
        let input = Int64Array::from(vec![i64::MAX / 10]);
        let err = invoke(
            vec![
                ColumnarValue::Array(Arc::new(input)),
                ColumnarValue::Scalar(ScalarValue::Utf8(Some("s".into()))),
            ],
            1,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("out of the timestamp range"), "{err}");
    }
}
