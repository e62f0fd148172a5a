//! `sequence_match(pattern, ts, cond1, ...)`: ClickHouse `sequenceMatch`.

use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::error::Result;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDFImpl, Documentation, GroupsAccumulator, Signature, Volatility,
};
use datafusion_macros::user_doc;

use super::sequence_state::{
    self, Output, Params, SequenceAccumulator, SequenceGroups, check, coerce,
};

const NAME: &str = "sequence_match";

#[user_doc(
    doc_section(label = "Funnel Functions"),
    description = "Whether the events of the group, in time order, match `pattern` (ClickHouse `sequenceMatch`). Only rows where some condition holds take part; a row matching a condition the pattern never names still breaks adjacency. The result is false when a condition the pattern needs never held. Events with equal timestamps keep arrival order (ClickHouse leaves it undefined). Pattern syntax (no spaces): `(?N)` an event matching condition N,     `.` any one event, `.*` any run of events, `(?t op n)` (op one of `<= < >= > ==`)     the time since the previous matched event, in seconds for TIMESTAMP `ts` and in `ts`     units for integer `ts`. Rows with a NULL argument are skipped.",
    syntax_example = "sequence_match(pattern, ts, cond1, ..., condN)",
    sql_example = r#"```sql
> SELECT sequence_match('(?1)(?t<=600)(?2)', ts, kind = 'view', kind = 'pay')
  FROM (VALUES (TIMESTAMP '2025-11-01 10:00:00', 'view'),
               (TIMESTAMP '2025-11-01 10:05:00', 'pay')) AS t(ts, kind);
+------+
| true |
+------+
```"#,
    argument(name = "pattern", description = "Constant pattern string."),
    argument(name = "ts", description = "Event time: TIMESTAMP or integer."),
    argument(name = "cond1", description = "BOOLEAN condition (up to 32).")
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SequenceMatch {
    signature: Signature,
}

impl Default for SequenceMatch {
    fn default() -> Self {
        Self::new()
    }
}

impl SequenceMatch {
    pub fn new() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl AggregateUDFImpl for SequenceMatch {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        coerce(NAME, arg_types)
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        check(NAME, arg_types)?;
        Ok(DataType::Boolean)
    }

    fn accumulator(&self, acc_args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let params = Params::from_args(NAME, &acc_args)?;
        Ok(Box::new(SequenceAccumulator::new(
            NAME,
            params,
            Output::Match,
        )))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(sequence_state::state_fields(&args))
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(
        &self,
        args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        let params = Params::from_args(NAME, &args)?;
        Ok(Box::new(SequenceGroups::new(NAME, params, Output::Match)))
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}
