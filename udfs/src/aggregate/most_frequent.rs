//! `most_frequent(x)`: the mode, with a deterministic tie rule.

use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::common::utils::take_function_args;
use datafusion::error::Result;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDFImpl, Documentation, GroupsAccumulator, Signature, Volatility,
};
use datafusion_macros::user_doc;

use super::value_counts::{self, Output, ValueCounts, ValueCountsAccumulator};

const NAME: &str = "most_frequent";

#[user_doc(
    doc_section(label = "Tag Functions"),
    description = "The most frequent non-NULL value of the group (Segment's \"most \
    frequent\" computed trait, Sensors' preference tag). Ties go to the smallest value \
    (byte order), so the answer does not depend on row order or partitioning. NULL when \
    the group has no non-NULL value. Combine with `count(*)` in a `HAVING` for a minimum \
    of evidence.",
    syntax_example = "most_frequent(x)",
    sql_example = r#"```sql
> SELECT most_frequent(c) FROM (VALUES ('beauty'), ('snacks'), ('snacks'), ('beauty')) AS t(c);
+--------+
| beauty |
+--------+
```"#,
    argument(name = "x", description = "Text (other types: CAST to VARCHAR).")
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct MostFrequent {
    signature: Signature,
}

impl Default for MostFrequent {
    fn default() -> Self {
        Self::new()
    }
}

impl MostFrequent {
    pub fn new() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl AggregateUDFImpl for MostFrequent {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let [x] = take_function_args(NAME, arg_types)?;
        Ok(vec![value_counts::coerce_value(NAME, x)?])
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn accumulator(&self, _acc_args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(ValueCountsAccumulator::new(NAME, Output::One)))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(value_counts::state_fields(&args))
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(
        &self,
        _args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(ValueCounts::new(NAME, Output::One)))
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}
