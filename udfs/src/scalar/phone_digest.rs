//! `phone_digest(text, format)`: a phone number hashed the way an ad platform wants it.

use std::fmt::Write;
use std::sync::Arc;

use datafusion::arrow::array::StringArray;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::types::logical_string;
use datafusion::common::{ScalarValue, exec_err, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::{
    Coercion, ColumnarValue, Documentation, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl,
    Signature, TypeSignatureClass, Volatility,
};
use datafusion_macros::user_doc;
use md5::Md5;
use sha2::{Digest, Sha256};

use super::map_strings;
use super::normalize_phone::{cn_national, normalize};
use crate::args::constant_str;

#[user_doc(
    doc_section(label = "Identity Functions"),
    description = "Hashes a phone number for an audience upload. `md5` and `sha256` hash \
    the 11-digit mainland mobile number without `+86`, as the Chinese platforms (Tencent \
    Ads, Ocean Engine, WeChat Pay brand audiences) require, and give NULL for numbers \
    outside mainland China; `e164_md5` and `e164_sha256` hash the E.164 form with the `+`, \
    as Western platforms require. Lower-case hex. Invalid numbers give NULL. Unlike \
    `phone_key`, these hashes are unkeyed and can be reversed by enumerating the number \
    space: produce them only at export time.",
    syntax_example = "phone_digest(text, format)",
    sql_example = r#"```sql
> SELECT phone_digest('+86 138 1234 5678', 'md5');
+----------------------------------+
| 4c0115d39ddea1eba5a7cdf8edfc18a9 |
+----------------------------------+
```"#,
    argument(name = "text", description = "Phone number as typed. NULL gives NULL."),
    argument(
        name = "format",
        description = "Constant: `md5`, `sha256`, `e164_md5` or `e164_sha256`."
    )
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct PhoneDigestFunc {
    signature: Signature,
}

impl Default for PhoneDigestFunc {
    fn default() -> Self {
        Self::new()
    }
}

/// The export encodings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestFormat {
    Md5,
    Sha256,
    E164Md5,
    E164Sha256,
}

impl DigestFormat {
    fn parse(text: &str) -> Option<Self> {
        Some(match text.trim().to_ascii_lowercase().as_str() {
            "md5" => Self::Md5,
            "sha256" => Self::Sha256,
            "e164_md5" => Self::E164Md5,
            "e164_sha256" => Self::E164Sha256,
            _ => return None,
        })
    }

    /// The digest of one phone as typed, `None` when there is nothing to hash.
    pub fn digest(self, phone: &str) -> Option<String> {
        let e164 = normalize(phone)?;
        let message = match self {
            Self::Md5 | Self::Sha256 => cn_national(&e164)?,
            Self::E164Md5 | Self::E164Sha256 => e164.as_str(),
        };
        let bytes: Vec<u8> = match self {
            Self::Md5 | Self::E164Md5 => Md5::digest(message.as_bytes()).to_vec(),
            Self::Sha256 | Self::E164Sha256 => Sha256::digest(message.as_bytes()).to_vec(),
        };
        let mut out = String::with_capacity(bytes.len() * 2);
        for byte in bytes {
            let _ = write!(out, "{byte:02x}");
        }
        Some(out)
    }
}

impl PhoneDigestFunc {
    pub fn new() -> Self {
        let string = || Coercion::new_exact(TypeSignatureClass::Native(logical_string()));
        Self {
            signature: Signature::coercible(vec![string(), string()], Volatility::Immutable),
        }
    }

    fn format(&self, scalar: Option<&ScalarValue>) -> Result<Option<DigestFormat>> {
        let Some(text) = constant_str(self.name(), 2, "format", scalar)? else {
            return Ok(None);
        };
        match DigestFormat::parse(text) {
            Some(format) => Ok(Some(format)),
            None => plan_err!(
                "phone_digest: argument 2 (format) must be one of 'md5', 'sha256', \
                 'e164_md5', 'e164_sha256', got '{text}'"
            ),
        }
    }
}

impl ScalarUDFImpl for PhoneDigestFunc {
    fn name(&self) -> &str {
        "phone_digest"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        if let Some(format) = args.scalar_arguments.get(1) {
            self.format(*format)?;
        }
        Ok(Arc::new(Field::new(self.name(), DataType::Utf8, true)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let format = match args.args.get(1) {
            Some(ColumnarValue::Scalar(s)) => self.format(Some(s))?,
            _ => self.format(None)?,
        };
        let Some(format) = format else {
            return Ok(ColumnarValue::Scalar(ScalarValue::Utf8(None)));
        };
        match &args.args[0] {
            ColumnarValue::Scalar(s) => match s.try_as_str() {
                Some(v) => Ok(ColumnarValue::Scalar(ScalarValue::Utf8(
                    v.and_then(|p| format.digest(p)),
                ))),
                None if s.is_null() => Ok(ColumnarValue::Scalar(ScalarValue::Utf8(None))),
                None => exec_err!("phone_digest: expected a string, got {}", s.data_type()),
            },
            ColumnarValue::Array(array) => {
                let out = map_strings(self.name(), array.as_ref(), |s| Ok(format.digest(s)))?;
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
    use super::*;

    #[test]
    fn chinese_platforms_hash_eleven_digits_others_e164() {
        let md5 = DigestFormat::Md5.digest("+86 138-1234-5678").unwrap();
        let expected: String = Md5::digest(b"13812345678")
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(md5, expected);
        assert_eq!(md5.len(), 32);
        let sha = DigestFormat::Sha256.digest("13812345678").unwrap();
        assert_eq!(sha.len(), 64);
        assert_ne!(sha, DigestFormat::E164Sha256.digest("13812345678").unwrap());
        // A UK number has no 11-digit Chinese form.
        assert_eq!(DigestFormat::Md5.digest("+44 20 7946 0958"), None);
        assert!(
            DigestFormat::E164Sha256
                .digest("+44 20 7946 0958")
                .is_some()
        );
        assert_eq!(DigestFormat::Sha256.digest("not a phone"), None);
    }

    #[test]
    fn formats_parse_and_bad_ones_are_named() {
        assert_eq!(DigestFormat::parse("SHA256"), Some(DigestFormat::Sha256));
        let func = PhoneDigestFunc::new();
        let err = func
            .format(Some(&ScalarValue::Utf8(Some("sha1".into()))))
            .unwrap_err()
            .to_string();
        assert!(err.contains("phone_digest: argument 2 (format)"), "{err}");
        let err = func.format(None).unwrap_err().to_string();
        assert!(err.contains("must be a constant string"), "{err}");
    }
}
