//! `phone_key(text)`: keyed hash (hex HMAC-SHA256) of a normalised phone number.

use std::fmt::Write;
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
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::map_strings;
use super::normalize_phone::normalize;

/// The environment variable the secret comes from when nothing else is configured.
pub const DEFAULT_KEY_ENV: &str = "PLINKDB_SECRET_KEY";

#[user_doc(
    doc_section(label = "Identity Functions"),
    description = "The keyed hash plinkdb stores instead of a phone number: lower-case hex \
    HMAC-SHA256 of the E.164 form (see `normalize_phone`) under the engine's secret key, \
    read from the environment variable named by `engine.secret_key_env` (default \
    `PLINKDB_SECRET_KEY`). Matches the `phone_key` column of `members`. Invalid numbers give \
    NULL; calling it with no key configured is an error. The checked-in sample was hashed \
    with the public demo key `plinkdb-demo-key`.",
    syntax_example = "phone_key(text)",
    sql_example = r#"```sql
> SELECT count(*) FROM members WHERE phone_key = phone_key('138 1234 5678');
+----------+
| count(*) |
+----------+
| 0        |
+----------+
```"#,
    argument(name = "text", description = "Phone number as typed. NULL gives NULL.")
)]
#[derive(PartialEq, Eq, Hash)]
pub struct PhoneKeyFunc {
    signature: Signature,
    key: Option<Vec<u8>>,
    key_env: String,
}

impl std::fmt::Debug for PhoneKeyFunc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PhoneKeyFunc")
            .field("key", &self.key.as_ref().map(|_| "<redacted>"))
            .field("key_env", &self.key_env)
            .finish()
    }
}

impl Default for PhoneKeyFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl PhoneKeyFunc {
    /// Without a key: the function is listed and documented but refuses to run.
    pub fn new() -> Self {
        Self::with_key(None, DEFAULT_KEY_ENV)
    }

    /// With the engine's key (`None` when the variable `key_env` is unset or empty).
    pub fn with_key(key: Option<Vec<u8>>, key_env: &str) -> Self {
        Self {
            signature: Signature::coercible(
                vec![Coercion::new_exact(TypeSignatureClass::Native(
                    logical_string(),
                ))],
                Volatility::Immutable,
            ),
            key: key.filter(|k| !k.is_empty()),
            key_env: key_env.to_string(),
        }
    }

    fn key(&self) -> Result<&[u8]> {
        match &self.key {
            Some(key) => Ok(key),
            None => exec_err!(
                "phone_key: no secret key is configured; set the environment variable {} \
                 (engine.secret_key_env) to the key your phone_key values were made with \
                 (the checked-in sample uses the public demo key 'plinkdb-demo-key')",
                self.key_env
            ),
        }
    }
}

/// Lower-case hex HMAC-SHA256 of `message` under `key`.
pub fn hmac_sha256_hex(key: &[u8], message: &[u8]) -> String {
    let mut out = String::with_capacity(64);
    // HMAC takes keys of any length: `new_from_slice` cannot fail.
    if let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) {
        mac.update(message);
        for byte in mac.finalize().into_bytes() {
            let _ = write!(out, "{byte:02x}");
        }
    }
    out
}

/// `phone_key` of one phone as typed: `None` when it is not a valid number.
pub fn phone_key(key: &[u8], phone: &str) -> Option<String> {
    normalize(phone).map(|e164| hmac_sha256_hex(key, e164.as_bytes()))
}

impl ScalarUDFImpl for PhoneKeyFunc {
    fn name(&self) -> &str {
        "phone_key"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let key = self.key()?;
        let [arg] = take_function_args(self.name(), &args.args)?;
        match arg {
            ColumnarValue::Scalar(s) => match s.try_as_str() {
                Some(v) => Ok(ColumnarValue::Scalar(ScalarValue::Utf8(
                    v.and_then(|p| phone_key(key, p)),
                ))),
                None if s.is_null() => Ok(ColumnarValue::Scalar(ScalarValue::Utf8(None))),
                None => exec_err!("phone_key: expected a string, got {}", s.data_type()),
            },
            ColumnarValue::Array(array) => {
                let out = map_strings(self.name(), array.as_ref(), |s| Ok(phone_key(key, s)))?;
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
    use datafusion::arrow::datatypes::Field;
    use datafusion::config::ConfigOptions;

    use super::*;

    fn invoke(func: &PhoneKeyFunc, value: Option<&str>) -> Result<Option<String>> {
        let out = func.invoke_with_args(ScalarFunctionArgs {
            args: vec![ColumnarValue::Scalar(ScalarValue::Utf8(
                value.map(String::from),
            ))],
            arg_fields: vec![Arc::new(Field::new("a", DataType::Utf8, true))],
            number_rows: 1,
            return_field: Arc::new(Field::new("f", DataType::Utf8, true)),
            config_options: Arc::new(ConfigOptions::default()),
        })?;
        match out {
            ColumnarValue::Scalar(ScalarValue::Utf8(v)) => Ok(v),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn matches_the_generator_and_rfc_4231() {
        // RFC 4231 test case 2.
        assert_eq!(
            hmac_sha256_hex(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let key = b"plinkdb-demo-key".to_vec();
        let func = PhoneKeyFunc::with_key(Some(key.clone()), DEFAULT_KEY_ENV);
        let spelled = invoke(&func, Some("138-1234-5678")).unwrap();
        let e164 = hmac_sha256_hex(&key, b"+8613812345678");
        assert_eq!(spelled.as_deref(), Some(e164.as_str()));
        assert_eq!(invoke(&func, Some("12812345678")).unwrap(), None);
        assert_eq!(invoke(&func, None).unwrap(), None);
    }

    #[test]
    fn no_key_is_a_clear_error_and_is_never_printed() {
        let func = PhoneKeyFunc::with_key(Some(Vec::new()), "MY_KEY");
        let err = invoke(&func, Some("13812345678")).unwrap_err().to_string();
        assert!(
            err.contains("phone_key: no secret key") && err.contains("MY_KEY"),
            "{err}"
        );
        let with = PhoneKeyFunc::with_key(Some(b"s3cret".to_vec()), "MY_KEY");
        assert!(!format!("{with:?}").contains("s3cret"));
    }
}
