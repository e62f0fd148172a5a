//! `normalize_phone(text)`: a phone number as typed -> E.164, or NULL when it is not one.

use std::sync::Arc;

use datafusion::arrow::array::StringArray;
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
    doc_section(label = "Identity Functions"),
    description = "Normalises a phone number to E.164. Mainland China mobiles \
    (`1[3-9]` + 9 digits) are accepted bare or after a `+86`, `0086` or `86` prefix; other \
    countries' numbers are kept when written with `+` (or `00`) and 8 to 15 digits. Spaces, \
    dashes, dots and parentheses are ignored. Anything else (landlines without a country \
    code, too short or too long numbers, letters) gives NULL.",
    syntax_example = "normalize_phone(text)",
    sql_example = r#"```sql
> SELECT normalize_phone('138-1234-5678'), normalize_phone('+86 138 1234 5678'), normalize_phone('12812345678');
+----------------+----------------+------+
| +8613812345678 | +8613812345678 | NULL |
+----------------+----------------+------+
```"#,
    argument(name = "text", description = "Phone number as typed. NULL gives NULL.")
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct NormalizePhoneFunc {
    signature: Signature,
}

impl Default for NormalizePhoneFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl NormalizePhoneFunc {
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

/// Whether `digits` is a mainland China mobile number (`^1[3-9]\d{9}$`).
fn is_cn_mobile(digits: &str) -> bool {
    let b = digits.as_bytes();
    b.len() == 11
        && b[0] == b'1'
        && (b'3'..=b'9').contains(&b[1])
        && b.iter().all(u8::is_ascii_digit)
}

/// `text` in E.164 (`+8613812345678`), or `None` when it is not a valid number.
pub fn normalize(text: &str) -> Option<String> {
    let mut plus = false;
    let mut digits = String::with_capacity(16);
    for c in text.trim().chars() {
        match c {
            '+' if !plus && digits.is_empty() => plus = true,
            ' ' | '-' | '.' | '(' | ')' | '\u{3000}' => {}
            '0'..='9' => digits.push(c),
            _ => return None,
        }
    }
    let international = if plus {
        Some(digits.as_str())
    } else {
        digits.strip_prefix("00")
    };
    let cn = match international {
        Some(rest) => match rest.strip_prefix("86") {
            Some(national) => national,
            None => {
                let valid = (8..=15).contains(&rest.len()) && !rest.starts_with('0');
                return valid.then(|| format!("+{rest}"));
            }
        },
        None if digits.len() == 13 => digits.strip_prefix("86")?,
        None => digits.as_str(),
    };
    is_cn_mobile(cn).then(|| format!("+86{cn}"))
}

/// The 11-digit national form of a mainland mobile in E.164, `None` for other numbers.
pub fn cn_national(e164: &str) -> Option<&str> {
    e164.strip_prefix("+86").filter(|n| is_cn_mobile(n))
}

impl ScalarUDFImpl for NormalizePhoneFunc {
    fn name(&self) -> &str {
        "normalize_phone"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [arg] = take_function_args(self.name(), &args.args)?;
        match arg {
            ColumnarValue::Scalar(s) => match s.try_as_str() {
                Some(v) => Ok(ColumnarValue::Scalar(ScalarValue::Utf8(
                    v.and_then(normalize),
                ))),
                None if s.is_null() => Ok(ColumnarValue::Scalar(ScalarValue::Utf8(None))),
                None => exec_err!("normalize_phone: expected a string, got {}", s.data_type()),
            },
            ColumnarValue::Array(array) => {
                let out = map_strings(self.name(), array.as_ref(), |s| Ok(normalize(s)))?;
                Ok(ColumnarValue::Array(Arc::new(StringArray::from(out))))
            }
        }
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::{Array, AsArray, StringViewArray};
    use datafusion::arrow::datatypes::Field;
    use datafusion::config::ConfigOptions;

    use super::*;

    #[test]
    fn chinese_mobiles_in_every_common_spelling() {
        for input in [
            "13812345678",
            "138 1234 5678",
            "138-1234-5678",
            "138.1234.5678",
            "+86 138 1234 5678",
            "+86-13812345678",
            "008613812345678",
            "8613812345678",
            "(+86) 13812345678",
            "  13812345678  ",
        ] {
            assert_eq!(
                normalize(input).as_deref(),
                Some("+8613812345678"),
                "{input}"
            );
        }
    }

    #[test]
    fn other_countries_and_bad_input() {
        assert_eq!(
            normalize("+44 20 7946 0958").as_deref(),
            Some("+442079460958")
        );
        assert_eq!(
            normalize("0044 20 7946 0958").as_deref(),
            Some("+442079460958")
        );
        assert_eq!(
            normalize("+1 (415) 555-2671").as_deref(),
            Some("+14155552671")
        );
        for bad in [
            "",
            "12812345678",
            "1381234567",
            "138123456789",
            "+8612812345678",
            "+86 010 1234 5678",
            "phone: 13812345678",
            "1381234567x",
            "+",
            "+0123456789",
            "+1234567",
            "+1234567890123456",
            "13812345678+",
            "861381234567",
        ] {
            assert_eq!(normalize(bad), None, "{bad:?}");
        }
        assert_eq!(cn_national("+8613812345678"), Some("13812345678"));
        assert_eq!(cn_national("+442079460958"), None);
    }

    #[test]
    fn arrays_of_any_string_type_keep_nulls() -> Result<()> {
        let input = StringViewArray::from(vec![Some("13812345678"), None, Some("x")]);
        let out = NormalizePhoneFunc::new().invoke_with_args(ScalarFunctionArgs {
            args: vec![ColumnarValue::Array(Arc::new(input))],
            arg_fields: vec![Arc::new(Field::new("a", DataType::Utf8View, true))],
            number_rows: 3,
            return_field: Arc::new(Field::new("f", DataType::Utf8, true)),
            config_options: Arc::new(ConfigOptions::default()),
        })?;
        let ColumnarValue::Array(out) = out else {
            panic!("expected an array");
        };
        let out = out.as_string::<i32>();
        assert_eq!(out.value(0), "+8613812345678");
        assert!(out.is_null(1) && out.is_null(2));
        Ok(())
    }
}
