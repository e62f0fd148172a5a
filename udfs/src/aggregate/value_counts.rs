//! The state shared by `most_frequent` and `top_n`: per group, how often each distinct
//! value occurred. Not a SQL function.
//!
//! Values are interned once per accumulator; a group holds `(value id, count)` pairs.
//! The partial state is two lists per group (values, counts), and merging adds counts,
//! so any split of the rows over partitions gives the same answer. Ranking is by count
//! (highest first), ties by value (smallest first, byte order), so the answer never
//! depends on input order.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, ListBuilder, StringArray, StringBuilder, UInt64Builder,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, UInt64Type};
use datafusion::common::{ScalarValue, internal_err, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{Accumulator, EmitTo, GroupsAccumulator};
use datafusion::physical_expr::expressions::Literal;

/// What a call returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Output {
    /// The first value (NULL for a group without values).
    One,
    /// The first `n` values as a list (empty for a group without values).
    List(usize),
}

/// The value argument's type after coercion: text.
pub(crate) fn coerce_value(function: &str, t: &DataType) -> Result<DataType> {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null => {
            Ok(DataType::Utf8)
        }
        DataType::Dictionary(_, v) if matches!(**v, DataType::Utf8 | DataType::LargeUtf8) => {
            Ok(DataType::Utf8)
        }
        other => {
            plan_err!("{function}: argument 1 must be text, got {other} (CAST it to VARCHAR first)")
        }
    }
}

/// The constant `n` of `top_n(x, n)` (argument 2), at least 1.
pub(crate) fn constant_n(function: &str, args: &AccumulatorArgs) -> Result<usize> {
    let value = args
        .exprs
        .get(1)
        .and_then(|e| e.downcast_ref::<Literal>())
        .map(|l| l.value().cast_to(&DataType::Int64));
    match value {
        Some(Ok(ScalarValue::Int64(Some(n)))) if n >= 1 => Ok(n as usize),
        Some(Ok(ScalarValue::Int64(Some(n)))) => {
            plan_err!("{function}: argument 2 (n) must be at least 1, got {n}")
        }
        _ => plan_err!("{function}: argument 2 (n) must be a constant integer"),
    }
}

pub(crate) fn state_fields(args: &StateFieldsArgs) -> Vec<FieldRef> {
    vec![
        Arc::new(Field::new(
            format!("{}[values]", args.name),
            DataType::new_list(DataType::Utf8, true),
            true,
        )),
        Arc::new(Field::new(
            format!("{}[counts]", args.name),
            DataType::new_list(DataType::UInt64, true),
            true,
        )),
    ]
}

/// Value counts of many groups.
#[derive(Debug)]
pub(crate) struct ValueCounts {
    function: &'static str,
    output: Output,
    ids: HashMap<Box<str>, u32>,
    values: Vec<Box<str>>,
    groups: Vec<HashMap<u32, u64>>,
}

impl ValueCounts {
    pub(crate) fn new(function: &'static str, output: Output) -> Self {
        Self {
            function,
            output,
            ids: HashMap::new(),
            values: Vec::new(),
            groups: Vec::new(),
        }
    }

    fn id(&mut self, value: &str) -> u32 {
        if let Some(&id) = self.ids.get(value) {
            return id;
        }
        let id = self.values.len() as u32;
        self.values.push(value.into());
        self.ids.insert(value.into(), id);
        id
    }

    fn add(
        &mut self,
        values: &[ArrayRef],
        group_of: impl Fn(usize) -> usize,
        opt_filter: Option<&BooleanArray>,
    ) -> Result<()> {
        let Some(array) = values.first() else {
            return Ok(());
        };
        let array = cast(array, &DataType::Utf8)?;
        let strings = array.as_string::<i32>();
        for (row, value) in strings.iter().enumerate() {
            let Some(value) = value else { continue };
            if opt_filter.is_some_and(|f| !f.is_valid(row) || !f.value(row)) {
                continue;
            }
            let id = self.id(value);
            *self.groups[group_of(row)].entry(id).or_insert(0) += 1;
        }
        Ok(())
    }

    fn merge(&mut self, states: &[ArrayRef], group_of: impl Fn(usize) -> usize) -> Result<()> {
        let (Some(values), Some(counts)) = (
            states.first().and_then(|a| a.as_list_opt::<i32>()),
            states.get(1).and_then(|a| a.as_list_opt::<i32>()),
        ) else {
            return internal_err!("{}: unexpected partial state", self.function);
        };
        for row in 0..values.len() {
            if values.is_null(row) {
                continue;
            }
            let names = values.value(row);
            let names = names.as_string::<i32>();
            let n = counts.value(row);
            let n = n.as_primitive::<UInt64Type>();
            let group = group_of(row);
            for (name, count) in names.iter().zip(n.iter()) {
                if let (Some(name), Some(count)) = (name, count) {
                    let id = self.id(name);
                    *self.groups[group].entry(id).or_insert(0) += count;
                }
            }
        }
        Ok(())
    }

    /// A group's values ranked: highest count first, ties by smallest value.
    fn ranked<'a>(&'a self, group: &HashMap<u32, u64>) -> Vec<(&'a str, u64)> {
        let mut entries: Vec<(&str, u64)> = group
            .iter()
            .map(|(&id, &count)| (&*self.values[id as usize], count))
            .collect();
        entries.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        entries
    }

    fn finish(&self, groups: &[HashMap<u32, u64>]) -> ArrayRef {
        match self.output {
            Output::One => {
                let firsts: StringArray = groups
                    .iter()
                    .map(|g| self.ranked(g).first().map(|&(v, _)| v))
                    .collect();
                Arc::new(firsts)
            }
            Output::List(n) => {
                let mut b = ListBuilder::new(StringBuilder::new());
                for g in groups {
                    for (v, _) in self.ranked(g).into_iter().take(n) {
                        b.values().append_value(v);
                    }
                    b.append(true);
                }
                Arc::new(b.finish())
            }
        }
    }

    fn state_arrays(&self, groups: &[HashMap<u32, u64>]) -> Vec<ArrayRef> {
        let mut values = ListBuilder::new(StringBuilder::new());
        let mut counts = ListBuilder::new(UInt64Builder::new());
        for g in groups {
            for (&id, &count) in g {
                values.values().append_value(&self.values[id as usize]);
                counts.values().append_value(count);
            }
            values.append(true);
            counts.append(true);
        }
        vec![Arc::new(values.finish()), Arc::new(counts.finish())]
    }
}

impl GroupsAccumulator for ValueCounts {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.groups.resize_with(total_num_groups, HashMap::new);
        self.add(values, |i| group_indices[i], opt_filter)
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let groups = emit_to.take_needed(&mut self.groups);
        Ok(self.finish(&groups))
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        let groups = emit_to.take_needed(&mut self.groups);
        Ok(self.state_arrays(&groups))
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.groups.resize_with(total_num_groups, HashMap::new);
        self.merge(values, |i| group_indices[i])
    }

    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        let rows = values.first().map_or(0, |v| v.len());
        let mut single = ValueCounts::new(self.function, self.output);
        single.groups.resize_with(rows, HashMap::new);
        single.add(values, |i| i, opt_filter)?;
        Ok(single.state_arrays(&single.groups))
    }

    fn size(&self) -> usize {
        let strings: usize = self.values.iter().map(|v| v.len() * 2 + 48).sum();
        let groups: usize = self
            .groups
            .iter()
            .map(|g| 48 + g.capacity() * (size_of::<(u32, u64)>() + 1))
            .sum();
        size_of::<Self>() + strings + groups
    }
}

/// The single-group accumulator (no GROUP BY).
#[derive(Debug)]
pub(crate) struct ValueCountsAccumulator(ValueCounts);

impl ValueCountsAccumulator {
    pub(crate) fn new(function: &'static str, output: Output) -> Self {
        let mut counts = ValueCounts::new(function, output);
        counts.groups.push(HashMap::new());
        Self(counts)
    }
}

impl Accumulator for ValueCountsAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.0.add(values, |_| 0, None)
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        ScalarValue::try_from_array(&self.0.finish(&self.0.groups), 0)
    }

    fn size(&self) -> usize {
        self.0.size()
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        self.0
            .state_arrays(&self.0.groups)
            .iter()
            .map(|a| ScalarValue::try_from_array(a, 0))
            .collect()
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        self.0.merge(states, |_| 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(values: &[Option<&str>]) -> ArrayRef {
        Arc::new(StringArray::from(values.to_vec()))
    }

    fn evaluate(acc: &mut ValueCounts) -> Vec<Option<String>> {
        let out = acc.evaluate(EmitTo::All).expect("evaluate");
        out.as_string::<i32>()
            .iter()
            .map(|v| v.map(str::to_string))
            .collect()
    }

    #[test]
    fn highest_count_then_smallest_value() {
        let mut acc = ValueCounts::new("most_frequent", Output::One);
        let values = strings(&[Some("b"), Some("a"), Some("b"), Some("a"), Some("c"), None]);
        acc.update_batch(&[values], &[0, 0, 0, 0, 0, 1], None, 3)
            .expect("update");
        // group 0: a and b twice each -> a; group 1: only NULL; group 2: no rows
        assert_eq!(evaluate(&mut acc), vec![Some("a".into()), None, None]);
    }

    #[test]
    fn merging_split_states_equals_one_pass() {
        let rows = ["x", "y", "y", "z", "x", "y", "z", "z", "z"];
        let groups = [0, 0, 1, 1, 0, 0, 1, 1, 0];
        let mut whole = ValueCounts::new("top_n", Output::List(2));
        whole
            .update_batch(&[strings(&rows.map(Some))], &groups, None, 2)
            .expect("update");
        let expected = whole.evaluate(EmitTo::All).expect("evaluate");
        // Split the rows over three partials, merge their states in another order.
        let mut merged = ValueCounts::new("top_n", Output::List(2));
        for range in [6..9, 0..2, 2..6] {
            let mut part = ValueCounts::new("top_n", Output::List(2));
            let slice: Vec<Option<&str>> = rows[range.clone()].iter().map(|&s| Some(s)).collect();
            part.update_batch(&[strings(&slice)], &groups[range], None, 2)
                .expect("update");
            let state = part.state(EmitTo::All).expect("state");
            merged.merge_batch(&state, &[0, 1], 2).expect("merge");
        }
        let got = merged.evaluate(EmitTo::All).expect("evaluate");
        assert_eq!(got.as_ref(), expected.as_ref());
        // group 0: x 2, y 2, z 1 -> [x, y]; group 1: z 3, y 1 -> [z, y]
        let list = expected.as_list::<i32>();
        let first = list.value(0);
        let first: Vec<_> = first.as_string::<i32>().iter().flatten().collect();
        assert_eq!(first, ["x", "y"]);
        let second = list.value(1);
        let second: Vec<_> = second.as_string::<i32>().iter().flatten().collect();
        assert_eq!(second, ["z", "y"]);
    }

    #[test]
    fn filter_skips_rows() {
        let mut acc = ValueCounts::new("most_frequent", Output::One);
        let filter = BooleanArray::from(vec![Some(false), Some(true), None]);
        acc.update_batch(
            &[strings(&[Some("a"), Some("b"), Some("a")])],
            &[0, 0, 0],
            Some(&filter),
            1,
        )
        .expect("update");
        assert_eq!(evaluate(&mut acc), vec![Some("b".into())]);
    }
}
