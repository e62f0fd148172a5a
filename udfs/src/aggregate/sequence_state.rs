//! Shared state of `sequence_match` and `sequence_count`: argument checks and the
//! per-group `(ts, condition bits)` lists (only rows with a true condition are kept, as
//! in ClickHouse; rows with a NULL argument are skipped).

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, BooleanArray, Int64Array};
use datafusion::arrow::datatypes::{DataType, FieldRef, TimeUnit};
use datafusion::common::plan_err;
use datafusion::error::Result;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::physical_expr::expressions::Literal;

use super::event_groups::{
    self, Event, EventAggregate, EventGroups, Grouped, Groups, Rows, Single,
};
use super::sequence_pattern::Pattern;

const MAX_CONDITIONS: usize = 32;

/// Checks `(pattern, ts, cond1, ..., condN)` argument types.
pub(crate) fn check(function: &str, types: &[DataType]) -> Result<()> {
    if types.len() < 3 {
        return plan_err!(
            "{function}: expected (pattern, ts, cond1, ...), got {} arguments",
            types.len()
        );
    }
    if types.len() - 2 > MAX_CONDITIONS {
        return plan_err!(
            "{function}: at most {MAX_CONDITIONS} conditions, got {}",
            types.len() - 2
        );
    }
    if !matches!(
        types[0],
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    ) {
        return plan_err!(
            "{function}: argument 1 (pattern) must be a constant string, got {}",
            types[0]
        );
    }
    if !matches!(types[1], DataType::Timestamp(_, _)) && !types[1].is_integer() {
        return plan_err!(
            "{function}: argument 2 (ts) must be a TIMESTAMP or an integer, got {}",
            types[1]
        );
    }
    for (i, t) in types.iter().enumerate().skip(2) {
        if !matches!(t, DataType::Boolean | DataType::Null) {
            return plan_err!(
                "{function}: argument {} (condition {}) must be BOOLEAN, got {t}",
                i + 1,
                i - 1
            );
        }
    }
    Ok(())
}

/// The types the planner casts the arguments to.
pub(crate) fn coerce(function: &str, types: &[DataType]) -> Result<Vec<DataType>> {
    check(function, types)?;
    Ok(types
        .iter()
        .enumerate()
        .map(|(i, t)| match i {
            0 => DataType::Utf8,
            1 if t.is_integer() => DataType::Int64,
            1 => t.clone(),
            _ => DataType::Boolean,
        })
        .collect())
}

/// What the accumulator returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Output {
    Match,
    Count,
}

/// The parsed constant arguments.
#[derive(Debug, Clone)]
pub(crate) struct Params {
    pattern: Arc<Pattern>,
    nullable_input: bool,
}

impl Params {
    pub(crate) fn from_args(function: &str, args: &AccumulatorArgs) -> Result<Self> {
        let types: Vec<DataType> = args
            .expr_fields
            .iter()
            .map(|f| f.data_type().clone())
            .collect();
        check(function, &types)?;
        let Some(lit) = args.exprs.first().and_then(|e| e.downcast_ref::<Literal>()) else {
            return plan_err!("{function}: argument 1 (pattern) must be a constant string");
        };
        let Some(text) = lit.value().try_as_str().flatten() else {
            return plan_err!("{function}: argument 1 (pattern) must be a non-NULL string");
        };
        let per_second = match types[1] {
            DataType::Timestamp(TimeUnit::Second, _) => 1,
            DataType::Timestamp(TimeUnit::Millisecond, _) => 1_000,
            DataType::Timestamp(TimeUnit::Microsecond, _) => 1_000_000,
            DataType::Timestamp(TimeUnit::Nanosecond, _) => 1_000_000_000,
            _ => 1,
        };
        let pattern = Pattern::parse(function, text, types.len() - 2, per_second)?;
        Ok(Self {
            pattern: Arc::new(pattern),
            nullable_input: args.expr_fields.iter().skip(1).any(|f| f.is_nullable()),
        })
    }
}

pub(crate) fn state_fields(args: &StateFieldsArgs) -> Vec<FieldRef> {
    event_groups::state_fields(args.name, "conditions")
}

/// A sequence aggregate over its `(ts, condition bits)` events (see [`EventAggregate`]).
#[derive(Debug)]
pub(crate) struct Sequence {
    function: &'static str,
    params: Params,
    output: Output,
    store: EventGroups,
}

/// The sequence aggregates' [`GroupsAccumulator`](datafusion::logical_expr::GroupsAccumulator).
pub(crate) type SequenceGroups = Groups<Sequence>;
/// The sequence aggregates' plain [`Accumulator`](datafusion::logical_expr::Accumulator).
pub(crate) type SequenceAccumulator = Single<Sequence>;

impl Sequence {
    fn rows(&self, values: &[ArrayRef], opt_filter: Option<&BooleanArray>) -> Result<Rows> {
        Rows::read(self.function, &values[1], &values[2..], opt_filter)
    }
}

impl EventAggregate for Sequence {
    fn function(&self) -> &'static str {
        self.function
    }

    fn store(&self) -> &EventGroups {
        &self.store
    }

    fn store_mut(&mut self) -> &mut EventGroups {
        &mut self.store
    }

    fn add_rows(
        &mut self,
        values: &[ArrayRef],
        group_of: impl Fn(usize) -> usize,
        opt_filter: Option<&BooleanArray>,
    ) -> Result<()> {
        let rows = self.rows(values, opt_filter)?;
        let ts = rows.ts.values();
        self.store.reserve(rows.masks.len());
        for (i, &mask) in rows.masks.iter().enumerate() {
            if !rows.counts(i) {
                continue;
            }
            let g = group_of(i);
            self.store.mark_seen(g);
            if mask != 0 {
                self.store.push(g, (ts[i], mask));
            }
        }
        Ok(())
    }

    fn rows_as_groups(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Grouped> {
        let rows = self.rows(values, opt_filter)?;
        let ts = rows.ts.values().clone();
        Ok(Grouped::from_rows(&rows, |i, out| {
            if rows.masks[i] != 0 {
                out.push((ts[i], rows.masks[i]));
            }
        }))
    }

    fn finish(&self, mut groups: Grouped) -> Result<ArrayRef> {
        let nulls = groups.result_nulls(self.params.nullable_input);
        let pattern = &self.params.pattern;
        let n = groups.len();
        match self.output {
            Output::Match => {
                let out = (0..n)
                    .map(|g| {
                        let events = sort_by_time(groups.group_mut(g));
                        pattern.matches(events, conditions_met(events))
                    })
                    .collect::<Result<Vec<bool>>>()?;
                let values = BooleanArray::from(out);
                Ok(Arc::new(BooleanArray::new(values.values().clone(), nulls)))
            }
            Output::Count => {
                let out = (0..n)
                    .map(|g| {
                        let events = sort_by_time(groups.group_mut(g));
                        pattern.count(events, conditions_met(events))
                    })
                    .collect::<Result<Vec<i64>>>()?;
                Ok(Arc::new(Int64Array::new(out.into(), nulls)))
            }
        }
    }
}

/// Sorts a group's events by time, keeping arrival order among equal times.
fn sort_by_time(events: &mut [Event]) -> &[Event] {
    if !events.is_sorted_by_key(|(ts, _)| *ts) {
        events.sort_by_key(|(ts, _)| *ts);
    }
    events
}

/// The conditions that hold on at least one event.
fn conditions_met(events: &[Event]) -> u32 {
    events.iter().fold(0, |m, (_, c)| m | c)
}

impl SequenceGroups {
    pub(crate) fn new(function: &'static str, params: Params, output: Output) -> Self {
        Groups(Sequence {
            function,
            params,
            output,
            store: EventGroups::default(),
        })
    }
}

impl SequenceAccumulator {
    pub(crate) fn new(function: &'static str, params: Params, output: Output) -> Self {
        Single::of(SequenceGroups::new(function, params, output).0)
    }
}
