//! `top_n(x, n)`: the `n` most frequent values, with a deterministic tie rule.

use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::common::plan_err;
use datafusion::error::Result;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDFImpl, Documentation, GroupsAccumulator, Signature, Volatility,
};
use datafusion_macros::user_doc;

use super::value_counts::{self, Output, ValueCounts, ValueCountsAccumulator};

const NAME: &str = "top_n";

#[user_doc(
    doc_section(label = "Tag Functions"),
    description = "The `n` most frequent non-NULL values of the group, most frequent \
    first (a preference tag's top-N). Ties go to the smallest value (byte order), as in \
    `most_frequent`, so `top_n(x, 1)[1] = most_frequent(x)`. An empty list when the \
    group has no non-NULL value; fewer than `n` when there are fewer distinct values.",
    syntax_example = "top_n(x, n)",
    sql_example = r#"```sql
> SELECT top_n(c, 2) FROM (VALUES ('a'), ('b'), ('b'), ('c'), ('c')) AS t(c);
+--------+
| [b, c] |
+--------+
```"#,
    argument(name = "x", description = "Text (other types: CAST to VARCHAR)."),
    argument(name = "n", description = "Constant integer, at least 1.")
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct TopN {
    signature: Signature,
}

impl Default for TopN {
    fn default() -> Self {
        Self::new()
    }
}

impl TopN {
    pub fn new() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl AggregateUDFImpl for TopN {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let [x, n] = arg_types else {
            return plan_err!(
                "{NAME}: expected 2 arguments (x, n), got {}",
                arg_types.len()
            );
        };
        if !n.is_integer() {
            return plan_err!("{NAME}: argument 2 (n) must be a constant integer, got {n}");
        }
        Ok(vec![value_counts::coerce_value(NAME, x)?, DataType::Int64])
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::new_list(DataType::Utf8, true))
    }

    fn is_nullable(&self) -> bool {
        false
    }

    fn accumulator(&self, acc_args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let n = value_counts::constant_n(NAME, &acc_args)?;
        Ok(Box::new(ValueCountsAccumulator::new(NAME, Output::List(n))))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(value_counts::state_fields(&args))
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(
        &self,
        args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        let n = value_counts::constant_n(NAME, &args)?;
        Ok(Box::new(ValueCounts::new(NAME, Output::List(n))))
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}
