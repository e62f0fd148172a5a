//! Scalar functions, one per file.

use std::sync::Arc;

use datafusion::logical_expr::ScalarUDF;

use crate::macros::make_udf;

pub mod from_beijing_time;
pub mod from_epoch;
pub mod normalize_phone;
pub mod phone_digest;
pub mod phone_key;
pub mod rfm_segment;
pub mod time_slot;
pub mod value_band;
pub mod yuan_to_fen;

make_udf!(
    from_beijing_time::FromBeijingTimeFunc,
    from_beijing_time_udf
);
make_udf!(from_epoch::FromEpochFunc, from_epoch_udf);
make_udf!(normalize_phone::NormalizePhoneFunc, normalize_phone_udf);
make_udf!(phone_digest::PhoneDigestFunc, phone_digest_udf);
make_udf!(yuan_to_fen::YuanToFenFunc, yuan_to_fen_udf);
make_udf!(rfm_segment::RfmSegmentFunc, rfm_segment_udf);
make_udf!(time_slot::TimeSlotFunc, time_slot_udf);
make_udf!(value_band::ValueBandFunc, value_band_udf);

/// The return type of every timestamp-producing plinkdb function: UTC milliseconds.
pub fn utc_millis() -> datafusion::arrow::datatypes::DataType {
    datafusion::arrow::datatypes::DataType::Timestamp(
        datafusion::arrow::datatypes::TimeUnit::Millisecond,
        Some("UTC".into()),
    )
}

/// `phone_key` under `key` (`None`: the function errors, naming `key_env`).
pub fn phone_key_udf(key: Option<Vec<u8>>, key_env: &str) -> Arc<ScalarUDF> {
    Arc::new(ScalarUDF::new_from_impl(phone_key::PhoneKeyFunc::with_key(
        key, key_env,
    )))
}

/// Every scalar function of this crate (`phone_key` without a key).
pub fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        from_beijing_time_udf(),
        from_epoch_udf(),
        normalize_phone_udf(),
        phone_digest_udf(),
        phone_key_udf(None, phone_key::DEFAULT_KEY_ENV),
        yuan_to_fen_udf(),
        rfm_segment_udf(),
        time_slot_udf(),
        value_band_udf(),
    ]
}

/// Applies `f` to every non-null string of `array` (Utf8, LargeUtf8 or Utf8View),
/// keeping nulls, and collects the results in order.
pub(crate) fn map_strings<T>(
    function: &str,
    array: &dyn datafusion::arrow::array::Array,
    mut f: impl FnMut(&str) -> datafusion::error::Result<Option<T>>,
) -> datafusion::error::Result<Vec<Option<T>>> {
    use datafusion::arrow::array::AsArray;
    use datafusion::arrow::datatypes::DataType;
    let mut out = Vec::with_capacity(array.len());
    let mut push = |v: Option<&str>| -> datafusion::error::Result<()> {
        out.push(match v {
            Some(s) => f(s)?,
            None => None,
        });
        Ok(())
    };
    match array.data_type() {
        DataType::Utf8 => array.as_string::<i32>().iter().try_for_each(&mut push)?,
        DataType::LargeUtf8 => array.as_string::<i64>().iter().try_for_each(&mut push)?,
        DataType::Utf8View => array.as_string_view().iter().try_for_each(&mut push)?,
        DataType::Null => (0..array.len()).try_for_each(|_| push(None))?,
        other => {
            return datafusion::common::exec_err!(
                "{function}: expected a string argument, got {other}"
            );
        }
    }
    Ok(out)
}
