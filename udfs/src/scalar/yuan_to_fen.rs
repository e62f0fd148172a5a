//! `yuan_to_fen(text)`: a decimal yuan amount string -> integer fen, exactly.

use std::sync::Arc;

use datafusion::arrow::array::Int64Array;
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

use super::map_strings;

#[user_doc(
    doc_section(label = "Normalisation Functions"),
    description = "Converts a yuan amount written as a decimal string (Taobao's \
    `payment`, `\"200.07\"`) into integer fen without going through floating point. \
    Accepts an optional sign and up to two decimals; anything else is an error that quotes \
    the value.",
    syntax_example = "yuan_to_fen(text)",
    sql_example = r#"```sql
> SELECT yuan_to_fen('200.07'), yuan_to_fen('3.5'), yuan_to_fen('12');
+-------+-----+------+
| 20007 | 350 | 1200 |
+-------+-----+------+
```"#,
    argument(name = "text", description = "Amount in yuan. NULL gives NULL.")
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct YuanToFenFunc {
    signature: Signature,
}

impl Default for YuanToFenFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl YuanToFenFunc {
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

/// `"200.07"` -> `20007`; `None` when `text` is not a yuan amount.
pub fn parse_fen(text: &str) -> Option<i64> {
    let s = text.trim();
    let (negative, digits) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || frac.len() > 2 || !all_digits(whole) || !all_digits(frac) {
        return None;
    }
    if digits.ends_with('.') {
        return None;
    }
    let yuan: i64 = whole.parse().ok()?;
    let mut fen: i64 = 0;
    for (i, b) in frac.bytes().enumerate() {
        fen += i64::from(b - b'0') * if i == 0 { 10 } else { 1 };
    }
    let total = yuan.checked_mul(100)?.checked_add(fen)?;
    Some(if negative { -total } else { total })
}

fn parse_or_error(text: &str) -> Result<Option<i64>> {
    match parse_fen(text) {
        Some(fen) => Ok(Some(fen)),
        None => exec_err!(
            "yuan_to_fen: cannot read '{text}' as a yuan amount (expected digits with up \
             to two decimals, e.g. 200.07)"
        ),
    }
}

impl ScalarUDFImpl for YuanToFenFunc {
    fn name(&self) -> &str {
        "yuan_to_fen"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [text] = take_function_args(self.name(), &args.args)?;
        match text {
            ColumnarValue::Scalar(scalar) => {
                let fen = match scalar.try_as_str() {
                    Some(Some(s)) => parse_or_error(s)?,
                    Some(None) => None,
                    None => return exec_err!("yuan_to_fen: expected a string"),
                };
                Ok(ColumnarValue::Scalar(ScalarValue::Int64(fen)))
            }
            ColumnarValue::Array(array) => {
                let values = map_strings(self.name(), array.as_ref(), parse_or_error)?;
                Ok(ColumnarValue::Array(Arc::new(Int64Array::from(values))))
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
    fn exact_conversion() {
        assert_eq!(parse_fen("200.07"), Some(20007));
        assert_eq!(parse_fen("0.1"), Some(10));
        assert_eq!(parse_fen("12"), Some(1200));
        assert_eq!(parse_fen(" -3.50 "), Some(-350));
        // 0.29 * 100 is 28.999999999999996 in f64: no floating point here
        assert_eq!(parse_fen("0.29"), Some(29));
    }

    #[test]
    fn rejects_what_is_not_an_amount() {
        for bad in [
            "",
            "-",
            "1.234",
            "1.",
            ".5",
            "1e3",
            "1,000.00",
            "¥5",
            "9223372036854775807",
        ] {
            assert_eq!(parse_fen(bad), None, "{bad}");
        }
        let err = parse_or_error("abc").unwrap_err().to_string();
        assert!(err.contains("yuan_to_fen: cannot read 'abc'"), "{err}");
    }
}
