//! Shared argument checks: errors name the function and the argument position.

use datafusion::common::{ScalarValue, plan_err};
use datafusion::error::Result;

/// The constant string at `position` (1-based) of `function`'s call, if the caller wrote
/// one; a planning error naming both when the argument is not a constant string.
pub(crate) fn constant_str<'a>(
    function: &str,
    position: usize,
    name: &str,
    scalar: Option<&'a ScalarValue>,
) -> Result<Option<&'a str>> {
    match scalar {
        None => plan_err!(
            "{function}: argument {position} ({name}) must be a constant string, not a column"
        ),
        Some(value) if value.is_null() => Ok(None),
        Some(value) => match value.try_as_str() {
            Some(s) => Ok(s),
            None => plan_err!(
                "{function}: argument {position} ({name}) must be a string, got {}",
                value.data_type()
            ),
        },
    }
}
