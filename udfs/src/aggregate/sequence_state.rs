//! Shared state of `sequence_match` and `sequence_count`: argument checks and the
//! per-group `(ts, condition bits)` lists (only rows with a true condition are kept, as
//! in ClickHouse; rows with a NULL argument are skipped).

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Int64Array, ListArray, UInt32Array,
};
use datafusion::arrow::buffer::{NullBuffer, OffsetBuffer, ScalarBuffer};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Int64Type, TimeUnit, UInt32Type};
use datafusion::common::{ScalarValue, exec_err, internal_err, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{Accumulator, EmitTo, GroupsAccumulator};
use datafusion::physical_expr::expressions::Literal;

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
    vec![
        Arc::new(Field::new(
            format!("{}[ts]", args.name),
            DataType::new_list(DataType::Int64, false),
            true,
        )),
        Arc::new(Field::new(
            format!("{}[conditions]", args.name),
            DataType::new_list(DataType::UInt32, false),
            true,
        )),
    ]
}

const EVENT_BYTES: usize = size_of::<(i64, u32)>();

/// Per-group event lists; with one group it is also the plain [`Accumulator`].
#[derive(Debug)]
pub(crate) struct SequenceGroups {
    function: &'static str,
    params: Params,
    output: Output,
    events: Vec<Vec<(i64, u32)>>,
    seen: Vec<bool>,
    heap: usize,
}

impl SequenceGroups {
    pub(crate) fn new(function: &'static str, params: Params, output: Output) -> Self {
        Self {
            function,
            params,
            output,
            events: Vec::new(),
            seen: Vec::new(),
            heap: 0,
        }
    }

    fn resize(&mut self, total: usize) {
        if self.events.len() < total {
            self.events.resize_with(total, Vec::new);
            self.seen.resize(total, false);
        }
    }

    fn add_rows(
        &mut self,
        values: &[ArrayRef],
        group_of: impl Fn(usize) -> usize,
        opt_filter: Option<&BooleanArray>,
    ) -> Result<()> {
        let ts = match values[1].data_type() {
            DataType::Int64 => values[1].as_primitive::<Int64Type>().clone(),
            DataType::Timestamp(_, _) => {
                let data = values[1]
                    .to_data()
                    .into_builder()
                    .data_type(DataType::Int64);
                Int64Array::from(data.build()?)
            }
            _ => cast(&values[1], &DataType::Int64)?
                .as_primitive::<Int64Type>()
                .clone(),
        };
        let rows = ts.len();
        let mut valid = NullBuffer::union(ts.nulls(), None);
        let mut masks = vec![0u32; rows];
        for (j, array) in values.iter().skip(2).enumerate() {
            let Some(cond) = array.as_boolean_opt() else {
                if array.data_type() == &DataType::Null {
                    valid = Some(NullBuffer::new_null(rows));
                    continue;
                }
                return exec_err!("{}: conditions must be BOOLEAN", self.function);
            };
            valid = NullBuffer::union(valid.as_ref(), cond.nulls());
            for i in cond.values().set_indices() {
                masks[i] |= 1 << j;
            }
        }
        if let Some(filter) = opt_filter {
            let keep = NullBuffer::new(filter.values().clone());
            valid = NullBuffer::union(valid.as_ref(), Some(&keep));
            valid = NullBuffer::union(valid.as_ref(), filter.nulls());
        }
        let ts = ts.values();
        for (i, &mask) in masks.iter().enumerate() {
            if valid.as_ref().is_some_and(|v| v.is_null(i)) {
                continue;
            }
            let g = group_of(i);
            self.seen[g] = true;
            if mask != 0 {
                let list = &mut self.events[g];
                let before = list.capacity();
                list.push((ts[i], mask));
                self.heap += (list.capacity() - before) * EVENT_BYTES;
            }
        }
        Ok(())
    }

    fn merge_rows(&mut self, values: &[ArrayRef], group_of: impl Fn(usize) -> usize) -> Result<()> {
        let (Some(ts), Some(conds)) = (
            values[0].as_list_opt::<i32>(),
            values[1].as_list_opt::<i32>(),
        ) else {
            return internal_err!("{}: unexpected partial state types", self.function);
        };
        let ts_values = ts.values().as_primitive::<Int64Type>().values();
        let cond_values = conds.values().as_primitive::<UInt32Type>().values();
        let (to, co) = (ts.value_offsets(), conds.value_offsets());
        for row in 0..ts.len() {
            if ts.is_null(row) {
                continue;
            }
            let g = group_of(row);
            self.seen[g] = true;
            let (a, b) = (to[row] as usize, to[row + 1] as usize);
            let c = co[row] as usize;
            if co[row + 1] as usize - c != b - a {
                return internal_err!("{}: partial state lists differ", self.function);
            }
            let list = &mut self.events[g];
            let before = list.capacity();
            list.extend(
                ts_values[a..b]
                    .iter()
                    .copied()
                    .zip(cond_values[c..c + (b - a)].iter().copied()),
            );
            self.heap += (list.capacity() - before) * EVENT_BYTES;
        }
        Ok(())
    }

    fn take(&mut self, emit_to: EmitTo) -> (Vec<Vec<(i64, u32)>>, Vec<bool>) {
        let events = emit_to.take_needed(&mut self.events);
        let seen = emit_to.take_needed(&mut self.seen);
        let freed: usize = events.iter().map(|e| e.capacity() * EVENT_BYTES).sum();
        self.heap = self.heap.saturating_sub(freed);
        (events, seen)
    }

    fn finish(&self, events: &mut [Vec<(i64, u32)>], seen: &[bool]) -> Result<ArrayRef> {
        let nulls = if self.params.nullable_input && seen.iter().any(|s| !s) {
            Some(NullBuffer::from(seen.to_vec()))
        } else {
            None
        };
        let pattern = &self.params.pattern;
        match self.output {
            Output::Match => {
                let mut out = Vec::with_capacity(events.len());
                for e in events.iter_mut() {
                    e.sort_by_key(|(ts, _)| *ts);
                    let met = e.iter().fold(0, |m, (_, c)| m | c);
                    out.push(pattern.matches(e, met)?);
                }
                let values = BooleanArray::from(out);
                Ok(Arc::new(BooleanArray::new(values.values().clone(), nulls)))
            }
            Output::Count => {
                let mut out = Vec::with_capacity(events.len());
                for e in events.iter_mut() {
                    e.sort_by_key(|(ts, _)| *ts);
                    let met = e.iter().fold(0, |m, (_, c)| m | c);
                    out.push(pattern.count(e, met)?);
                }
                Ok(Arc::new(Int64Array::new(out.into(), nulls)))
            }
        }
    }

    fn state_arrays(events: &[Vec<(i64, u32)>], seen: &[bool]) -> Result<Vec<ArrayRef>> {
        let total: usize = events.iter().map(Vec::len).sum();
        if total > i32::MAX as usize {
            return exec_err!("sequence partial state exceeds 2^31 events");
        }
        let mut ts = Vec::with_capacity(total);
        let mut conds = Vec::with_capacity(total);
        let mut offsets = Vec::with_capacity(events.len() + 1);
        offsets.push(0i32);
        for e in events {
            for &(t, c) in e {
                ts.push(t);
                conds.push(c);
            }
            offsets.push(ts.len() as i32);
        }
        let offsets = OffsetBuffer::new(ScalarBuffer::from(offsets));
        let nulls = if seen.iter().all(|s| *s) {
            None
        } else {
            Some(NullBuffer::from(seen.to_vec()))
        };
        Ok(vec![
            Arc::new(ListArray::try_new(
                Arc::new(Field::new_list_field(DataType::Int64, false)),
                offsets.clone(),
                Arc::new(Int64Array::from(ts)),
                nulls.clone(),
            )?),
            Arc::new(ListArray::try_new(
                Arc::new(Field::new_list_field(DataType::UInt32, false)),
                offsets,
                Arc::new(UInt32Array::from(conds)),
                nulls,
            )?),
        ])
    }
}

impl GroupsAccumulator for SequenceGroups {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.resize(total_num_groups);
        self.add_rows(values, |i| group_indices[i], opt_filter)
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let (mut events, seen) = self.take(emit_to);
        self.finish(&mut events, &seen)
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        let (events, seen) = self.take(emit_to);
        Self::state_arrays(&events, &seen)
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.resize(total_num_groups);
        self.merge_rows(values, |i| group_indices[i])
    }

    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        let rows = values.first().map_or(0, |v| v.len());
        let mut single = SequenceGroups::new(self.function, self.params.clone(), self.output);
        single.resize(rows);
        single.add_rows(values, |i| i, opt_filter)?;
        Self::state_arrays(&single.events, &single.seen)
    }

    fn size(&self) -> usize {
        size_of::<Self>()
            + self.heap
            + self.events.capacity() * size_of::<Vec<(i64, u32)>>()
            + self.seen.capacity()
    }
}

/// The plain accumulator: one group of [`SequenceGroups`].
#[derive(Debug)]
pub(crate) struct SequenceAccumulator(SequenceGroups);

impl SequenceAccumulator {
    pub(crate) fn new(function: &'static str, params: Params, output: Output) -> Self {
        let mut groups = SequenceGroups::new(function, params, output);
        groups.resize(1);
        Self(groups)
    }
}

impl Accumulator for SequenceAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.0.add_rows(values, |_| 0, None)
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let mut events = std::mem::take(&mut self.0.events);
        let result = self.0.finish(&mut events, &self.0.seen);
        self.0.events = events;
        ScalarValue::try_from_array(&result?, 0)
    }

    fn size(&self) -> usize {
        self.0.size()
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        SequenceGroups::state_arrays(&self.0.events, &self.0.seen)?
            .iter()
            .map(|a| ScalarValue::try_from_array(a, 0))
            .collect()
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        self.0.merge_rows(states, |_| 0)
    }
}
