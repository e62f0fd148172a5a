//! `sequence_count(pattern, ts, cond1, ...)`: ClickHouse `sequenceCount`.

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

const NAME: &str = "sequence_count";

#[user_doc(
    doc_section(label = "Funnel Functions"),
    description = "The number of non-overlapping matches of `pattern` in the events of the group, in time order (ClickHouse `sequenceCount`); each search restarts after the previous match. An empty pattern counts the stored events (rows where some condition holds). Pattern syntax (no spaces): `(?N)` an event matching condition N,     `.` any one event, `.*` any run of events, `(?t op n)` (op one of `<= < >= > ==`)     the time since the previous matched event, in seconds for TIMESTAMP `ts` and in `ts`     units for integer `ts`. Rows with a NULL argument are skipped.",
    syntax_example = "sequence_count(pattern, ts, cond1, ..., condN)",
    sql_example = r#"```sql
> SELECT sequence_count('(?1).*(?2)', ts, kind = 'view', kind = 'pay')
  FROM (VALUES (1, 'view'), (2, 'pay'), (3, 'view'), (4, 'pay')) AS t(ts, kind);
+---+
| 2 |
+---+
```"#,
    argument(name = "pattern", description = "Constant pattern string."),
    argument(name = "ts", description = "Event time: TIMESTAMP or integer."),
    argument(name = "cond1", description = "BOOLEAN condition (up to 32).")
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SequenceCount {
    signature: Signature,
}

impl Default for SequenceCount {
    fn default() -> Self {
        Self::new()
    }
}

impl SequenceCount {
    pub fn new() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl AggregateUDFImpl for SequenceCount {
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
        Ok(DataType::Int64)
    }

    fn accumulator(&self, acc_args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let params = Params::from_args(NAME, &acc_args)?;
        Ok(Box::new(SequenceAccumulator::new(
            NAME,
            params,
            Output::Count,
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
        Ok(Box::new(SequenceGroups::new(NAME, params, Output::Count)))
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}
