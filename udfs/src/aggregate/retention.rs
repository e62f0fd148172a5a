//! `retention(cond1, ..., condN)`: ClickHouse `retention`.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, ListArray, UInt8Array, UInt32Array,
};
use datafusion::arrow::buffer::{NullBuffer, OffsetBuffer};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, UInt32Type};
use datafusion::common::{ScalarValue, exec_err, internal_err, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDFImpl, Documentation, EmitTo, GroupsAccumulator, Signature, Volatility,
};
use datafusion_macros::user_doc;

const NAME: &str = "retention";
const MAX_CONDITIONS: usize = 32;

#[user_doc(
    doc_section(label = "Funnel Functions"),
    description = "ClickHouse `retention`: for conditions c1..cN returns \
    `[c1, c1 AND c2, ..., c1 AND cN]` (UInt8 0/1), where ci means \"ci held on some row of \
    the group\". There is no order or time between the conditions: encode each cohort day \
    in the condition itself. Rows with a NULL condition are skipped, as in ClickHouse.",
    syntax_example = "retention(cond1, ..., condN)",
    sql_example = r#"```sql
> SELECT retention(d = 0, d = 1, d = 7)
  FROM (VALUES (0), (7), (9)) AS t(d);
+-----------+
| [1, 0, 1] |
+-----------+
```"#,
    argument(name = "cond1", description = "BOOLEAN: the cohort condition."),
    argument(
        name = "condN",
        description = "BOOLEAN: the return conditions (up to 32 in all)."
    )
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Retention {
    signature: Signature,
}

impl Default for Retention {
    fn default() -> Self {
        Self::new()
    }
}

impl Retention {
    pub fn new() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

fn check(types: &[DataType]) -> Result<()> {
    if types.len() < 2 || types.len() > MAX_CONDITIONS {
        return plan_err!(
            "{NAME}: expected 2 to {MAX_CONDITIONS} BOOLEAN conditions, got {} arguments",
            types.len()
        );
    }
    for (i, t) in types.iter().enumerate() {
        if !matches!(t, DataType::Boolean | DataType::Null) {
            return plan_err!("{NAME}: argument {} must be BOOLEAN, got {t}", i + 1);
        }
    }
    Ok(())
}

fn result_type() -> DataType {
    DataType::new_list(DataType::UInt8, false)
}

impl AggregateUDFImpl for Retention {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        check(arg_types)?;
        Ok(vec![DataType::Boolean; arg_types.len()])
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        check(arg_types)?;
        Ok(result_type())
    }

    fn is_nullable(&self) -> bool {
        false
    }

    fn accumulator(&self, acc_args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let mut groups = RetentionGroups::new(acc_args.exprs.len());
        groups.masks.push(0);
        Ok(Box::new(RetentionAccumulator(groups)))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new(
            format!("{}[mask]", args.name),
            DataType::UInt32,
            false,
        ))])
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(
        &self,
        args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(RetentionGroups::new(args.exprs.len())))
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}

/// One 32-bit "condition i held on some row" set per group; merge is OR.
#[derive(Debug)]
struct RetentionGroups {
    conditions: usize,
    masks: Vec<u32>,
}

impl RetentionGroups {
    fn new(conditions: usize) -> Self {
        Self {
            conditions,
            masks: Vec::new(),
        }
    }

    fn add(
        &mut self,
        values: &[ArrayRef],
        group_of: impl Fn(usize) -> usize,
        opt_filter: Option<&BooleanArray>,
    ) -> Result<()> {
        let Some(rows) = values.first().map(|v| v.len()) else {
            return Ok(());
        };
        let mut valid: Option<NullBuffer> = None;
        let mut row_masks = vec![0u32; rows];
        for (j, array) in values.iter().enumerate() {
            let Some(cond) = array.as_boolean_opt() else {
                if array.data_type() == &DataType::Null {
                    return Ok(());
                }
                return exec_err!("{NAME}: argument {} must be BOOLEAN", j + 1);
            };
            valid = NullBuffer::union(valid.as_ref(), cond.nulls());
            for i in cond.values().set_indices() {
                row_masks[i] |= 1 << j;
            }
        }
        if let Some(filter) = opt_filter {
            let keep = NullBuffer::new(filter.values().clone());
            valid = NullBuffer::union(valid.as_ref(), Some(&keep));
            valid = NullBuffer::union(valid.as_ref(), filter.nulls());
        }
        for (i, m) in row_masks.into_iter().enumerate() {
            if m != 0 && valid.as_ref().is_none_or(|v| v.is_valid(i)) {
                self.masks[group_of(i)] |= m;
            }
        }
        Ok(())
    }

    fn merge(&mut self, values: &[ArrayRef], group_of: impl Fn(usize) -> usize) -> Result<()> {
        let Some(state) = values
            .first()
            .and_then(|v| v.as_primitive_opt::<UInt32Type>())
        else {
            return internal_err!("{NAME}: unexpected partial state");
        };
        for (i, m) in state.values().iter().enumerate() {
            self.masks[group_of(i)] |= m;
        }
        Ok(())
    }

    fn finish(&self, masks: &[u32]) -> Result<ArrayRef> {
        let n = self.conditions;
        let mut values = Vec::with_capacity(masks.len() * n);
        for &m in masks {
            let first = m & 1;
            values.push(first as u8);
            for j in 1..n {
                values.push((first & (m >> j)) as u8);
            }
        }
        Ok(Arc::new(ListArray::try_new(
            Arc::new(Field::new_list_field(DataType::UInt8, false)),
            OffsetBuffer::from_repeated_length(n, masks.len()),
            Arc::new(UInt8Array::from(values)),
            None,
        )?))
    }
}

impl GroupsAccumulator for RetentionGroups {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.masks.resize(total_num_groups, 0);
        self.add(values, |i| group_indices[i], opt_filter)
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let masks = emit_to.take_needed(&mut self.masks);
        self.finish(&masks)
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        let masks = emit_to.take_needed(&mut self.masks);
        Ok(vec![Arc::new(UInt32Array::from(masks))])
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.masks.resize(total_num_groups, 0);
        self.merge(values, |i| group_indices[i])
    }

    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        let rows = values.first().map_or(0, |v| v.len());
        let mut single = RetentionGroups::new(self.conditions);
        single.masks.resize(rows, 0);
        single.add(values, |i| i, opt_filter)?;
        Ok(vec![Arc::new(UInt32Array::from(single.masks))])
    }

    fn size(&self) -> usize {
        size_of::<Self>() + self.masks.capacity() * size_of::<u32>()
    }
}

#[derive(Debug)]
struct RetentionAccumulator(RetentionGroups);

impl Accumulator for RetentionAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.0.add(values, |_| 0, None)
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        ScalarValue::try_from_array(&self.0.finish(&self.0.masks)?, 0)
    }

    fn size(&self) -> usize {
        self.0.size()
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![ScalarValue::UInt32(Some(self.0.masks[0]))])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        self.0.merge(states, |_| 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_matches_clickhouse_shape() {
        let g = RetentionGroups::new(3);
        let out = g.finish(&[0b101, 0b110, 0]).expect("finish");
        let list = out.as_list::<i32>();
        let got: Vec<Vec<u8>> = (0..3)
            .map(|i| {
                list.value(i)
                    .as_primitive::<datafusion::arrow::datatypes::UInt8Type>()
                    .values()
                    .to_vec()
            })
            .collect();
        // c1 and c3; c2 and c3 without c1 -> all zero; nothing.
        assert_eq!(got, vec![vec![1, 0, 1], vec![0, 0, 0], vec![0, 0, 0]]);
    }
}
