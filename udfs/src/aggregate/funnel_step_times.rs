//! `funnel_step_times(window, [mode,] ts, cond1, ..., condN)`: the timestamps of the
//! chain that `window_funnel` reports.

use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::error::Result;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDFImpl, Documentation, GroupsAccumulator, Signature, Volatility,
};
use datafusion_macros::user_doc;

use super::funnel_state::{self, FunnelAccumulator, FunnelGroups, Output, Params, coerce, layout};

const NAME: &str = "funnel_step_times";

#[user_doc(
    doc_section(label = "Funnel Functions"),
    description = "The timestamps of each step of the chain whose depth `window_funnel` \
    returns for the same arguments (a list as long as that depth; empty when step 1 never \
    happened). When several chains reach the deepest step, the newest one is reported, the \
    one ClickHouse's scan keeps. Time to convert per step is then plain SQL, e.g. \
    `t[3] - t[1]` and `approx_percentile_cont` over it.",
    syntax_example = "funnel_step_times(window, [mode,] ts, cond1, ..., condN)",
    sql_example = r#"```sql
> SELECT funnel_step_times(3600, ts, kind = 'view', kind = 'cart')
  FROM (VALUES (TIMESTAMP '2025-11-01 10:00:00', 'view'),
               (TIMESTAMP '2025-11-01 10:20:00', 'cart')) AS t(ts, kind);
+--------------------------------------------+
| [2025-11-01T10:00:00, 2025-11-01T10:20:00] |
+--------------------------------------------+
```"#,
    argument(name = "window", description = "As in `window_funnel`."),
    argument(name = "mode", description = "As in `window_funnel`."),
    argument(name = "ts", description = "Event time: TIMESTAMP or integer."),
    argument(
        name = "cond1",
        description = "BOOLEAN condition of step 1 (up to 32 steps)."
    )
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct FunnelStepTimes {
    signature: Signature,
}

impl Default for FunnelStepTimes {
    fn default() -> Self {
        Self::new()
    }
}

impl FunnelStepTimes {
    pub fn new() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl AggregateUDFImpl for FunnelStepTimes {
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
        let layout = layout(NAME, arg_types)?;
        let ts = match &arg_types[layout.ts_pos] {
            t @ DataType::Timestamp(_, _) => t.clone(),
            _ => DataType::Int64,
        };
        Ok(DataType::List(std::sync::Arc::new(Field::new_list_field(
            ts, false,
        ))))
    }

    fn accumulator(&self, acc_args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let params = Params::from_args(NAME, &acc_args)?;
        Ok(Box::new(FunnelAccumulator::new(
            NAME,
            params,
            Output::StepTimes,
        )))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(funnel_state::state_fields(&args))
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(
        &self,
        args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        let params = Params::from_args(NAME, &args)?;
        Ok(Box::new(FunnelGroups::new(NAME, params, Output::StepTimes)))
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}

#[cfg(test)]
mod tests {
    use super::funnel_state::{Modes, scan};

    #[test]
    fn reports_the_winning_chain() {
        // Two starts; only the second reaches step 3 within the window.
        let mut events = vec![(0, 1), (5, 2), (30, 1), (35, 2), (38, 3)];
        let s = scan(&mut events, 3, 10, Modes::default(), true);
        assert_eq!(s.level, 3);
        assert_eq!(&s.times[..3], &[30, 35, 38]);
        let mut events = vec![(0, 1), (5, 2), (30, 3)];
        let s = scan(&mut events, 3, 10, Modes::default(), true);
        assert_eq!(&s.times[..s.level], &[0, 5]);
    }
}
