//! `tolerance_score(as_of, ts, kind)`: how much marketing contact a person tolerates.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Float64Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{
    DataType, Field, FieldRef, Float64Type, TimestampMillisecondType,
};
use datafusion::common::{ScalarValue, internal_err, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDFImpl, Documentation, EmitTo, GroupsAccumulator, Signature, Volatility,
};
use datafusion_macros::user_doc;

use crate::contact::{DAY_MS, ToleranceOptions};
use crate::scalar::utc_millis;

const NAME: &str = "tolerance_score";

#[user_doc(
    doc_section(label = "Contact Functions"),
    description = "Contact tolerance in [0, 1] of the rows of a group (a person, or a \
    person and channel), as of `as_of`. Rows at or after `as_of` are ignored. Engagement: \
    over the `tolerance.engagement_days` (28) before `as_of`, `S` = rows of kind \
    `touch_sent`, `R` = 0.5 per `touch_opened` + 0.5 per `touch_clicked`, smoothed with a \
    Beta prior: `e = (R + prior_mean·prior_weight) / (S + prior_weight)` (0.2, 5). \
    Negative load: `N = Σ w·0.5^(age_days/half_life_days)` over `unfollow` (w 1), \
    `unsubscribe` (4), `block` (6) and `report` (10) rows, half-life 90 days. Score: \
    `min(1, sqrt(e / target_engagement)) · exp(-N / negative_scale)` (0.3, 5). Other kinds \
    and NULL rows are ignored; a group without rows scores the prior. All parameters come \
    from `[tolerance]` in `plinkdb.toml`.",
    syntax_example = "tolerance_score(as_of, ts, kind)",
    sql_example = r#"```sql
> SELECT tolerance_score(TIMESTAMP '2026-10-15 00:00:00', ts, kind)
  FROM (VALUES (TIMESTAMP '2026-10-10 12:00:00', 'touch_sent'),
               (TIMESTAMP '2026-10-10 12:05:00', 'touch_opened'),
               (TIMESTAMP '2026-10-11 09:00:00', 'block')) AS t(ts, kind);
```"#,
    argument(
        name = "as_of",
        description = "TIMESTAMP or DATE (00:00 UTC of that day; `contact_policy` passes \
        00:00 Beijing time): the instant the score is for, usually a constant."
    ),
    argument(name = "ts", description = "TIMESTAMP of the row."),
    argument(
        name = "kind",
        description = "Text: the row's event type (`touch_sent`, `touch_opened`, \
        `touch_clicked`, `unfollow`, `unsubscribe`, `block`, `report`; others are ignored)."
    )
)]
#[derive(Debug)]
pub struct ToleranceScore {
    signature: Signature,
    options: ToleranceOptions,
}

impl PartialEq for ToleranceScore {
    fn eq(&self, other: &Self) -> bool {
        self.options == other.options
    }
}

// The options are validated: no NaN, so equality is reflexive.
impl Eq for ToleranceScore {}

impl Hash for ToleranceScore {
    fn hash<H: Hasher>(&self, state: &mut H) {
        NAME.hash(state);
        self.options.engagement_days.hash(state);
    }
}

impl Default for ToleranceScore {
    fn default() -> Self {
        Self::new(ToleranceOptions::default())
    }
}

impl ToleranceScore {
    pub fn new(options: ToleranceOptions) -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
            options,
        }
    }
}

fn is_time(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Timestamp(..) | DataType::Date32 | DataType::Date64 | DataType::Null
    )
}

impl AggregateUDFImpl for ToleranceScore {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let [as_of, ts, kind] = arg_types else {
            return plan_err!(
                "{NAME}: expected 3 arguments (as_of, ts, kind), got {}",
                arg_types.len()
            );
        };
        for (position, name, t) in [(1, "as_of", as_of), (2, "ts", ts)] {
            if !is_time(t) {
                return plan_err!(
                    "{NAME}: argument {position} ({name}) must be a TIMESTAMP, got {t}"
                );
            }
        }
        if !matches!(
            kind,
            DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8 | DataType::Null
        ) {
            return plan_err!("{NAME}: argument 3 (kind) must be text, got {kind}");
        }
        Ok(vec![utc_millis(), utc_millis(), DataType::Utf8])
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn is_nullable(&self) -> bool {
        false
    }

    fn accumulator(&self, _acc_args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let mut groups = ToleranceGroups::new(self.options.clone());
        groups.resize(1);
        Ok(Box::new(ToleranceAccumulator(groups)))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(["sends", "response", "negative"]
            .iter()
            .map(|s| {
                Arc::new(Field::new(
                    format!("{}[{s}]", args.name),
                    DataType::Float64,
                    false,
                ))
            })
            .collect())
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(
        &self,
        _args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(ToleranceGroups::new(self.options.clone())))
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}

/// Per group: sends and response points in the engagement window, and the decayed
/// negative load. Merge is a sum.
#[derive(Debug)]
struct ToleranceGroups {
    options: ToleranceOptions,
    sends: Vec<f64>,
    response: Vec<f64>,
    negative: Vec<f64>,
}

impl ToleranceGroups {
    fn new(options: ToleranceOptions) -> Self {
        Self {
            options,
            sends: Vec::new(),
            response: Vec::new(),
            negative: Vec::new(),
        }
    }

    fn resize(&mut self, n: usize) {
        self.sends.resize(n, 0.0);
        self.response.resize(n, 0.0);
        self.negative.resize(n, 0.0);
    }

    fn add(
        &mut self,
        values: &[ArrayRef],
        group_of: impl Fn(usize) -> usize,
        opt_filter: Option<&BooleanArray>,
    ) -> Result<()> {
        let [as_of, ts, kind] = values else {
            return internal_err!("{NAME}: expected 3 arguments");
        };
        let as_of = cast(as_of, &utc_millis())?;
        let ts = cast(ts, &utc_millis())?;
        let kind = cast(kind, &DataType::Utf8)?;
        let as_of = as_of.as_primitive::<TimestampMillisecondType>();
        let ts = ts.as_primitive::<TimestampMillisecondType>();
        let kind = kind.as_string::<i32>();
        let window = i64::from(self.options.engagement_days) * DAY_MS;
        for row in 0..ts.len() {
            if as_of.is_null(row) || ts.is_null(row) || kind.is_null(row) {
                continue;
            }
            if opt_filter.is_some_and(|f| !f.is_valid(row) || !f.value(row)) {
                continue;
            }
            let (at, t) = (as_of.value(row), ts.value(row));
            if t >= at {
                continue;
            }
            let g = group_of(row);
            let recent = t >= at - window;
            match kind.value(row) {
                "touch_sent" if recent => self.sends[g] += 1.0,
                "touch_opened" | "touch_clicked" if recent => self.response[g] += 0.5,
                k => {
                    if let Some(w) = self.options.negative_weight(k) {
                        self.negative[g] += w * self.options.decay(at - t);
                    }
                }
            }
        }
        Ok(())
    }

    fn merge(&mut self, values: &[ArrayRef], group_of: impl Fn(usize) -> usize) -> Result<()> {
        let [sends, response, negative] = values else {
            return internal_err!("{NAME}: unexpected partial state");
        };
        let (Some(s), Some(r), Some(n)) = (
            sends.as_primitive_opt::<Float64Type>(),
            response.as_primitive_opt::<Float64Type>(),
            negative.as_primitive_opt::<Float64Type>(),
        ) else {
            return internal_err!("{NAME}: unexpected partial state types");
        };
        for i in 0..s.len() {
            let g = group_of(i);
            self.sends[g] += s.value(i);
            self.response[g] += r.value(i);
            self.negative[g] += n.value(i);
        }
        Ok(())
    }

    fn scores(&self, sends: &[f64], response: &[f64], negative: &[f64]) -> ArrayRef {
        let o = &self.options;
        Arc::new(Float64Array::from_iter_values(
            (0..sends.len()).map(|i| o.score(sends[i], response[i], negative[i])),
        ))
    }

    fn take(&mut self, emit_to: EmitTo) -> [Vec<f64>; 3] {
        [
            emit_to.take_needed(&mut self.sends),
            emit_to.take_needed(&mut self.response),
            emit_to.take_needed(&mut self.negative),
        ]
    }
}

fn state_arrays(parts: [Vec<f64>; 3]) -> Vec<ArrayRef> {
    parts
        .into_iter()
        .map(|v| Arc::new(Float64Array::from(v)) as ArrayRef)
        .collect()
}

impl GroupsAccumulator for ToleranceGroups {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.resize(total_num_groups);
        self.add(values, |i| group_indices[i], opt_filter)
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let [s, r, n] = self.take(emit_to);
        Ok(self.scores(&s, &r, &n))
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        Ok(state_arrays(self.take(emit_to)))
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.resize(total_num_groups);
        self.merge(values, |i| group_indices[i])
    }

    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        let rows = values.first().map_or(0, |v| v.len());
        let mut single = ToleranceGroups::new(self.options.clone());
        single.resize(rows);
        single.add(values, |i| i, opt_filter)?;
        Ok(state_arrays([
            single.sends,
            single.response,
            single.negative,
        ]))
    }

    fn size(&self) -> usize {
        size_of::<Self>() + 3 * self.sends.capacity() * size_of::<f64>()
    }
}

#[derive(Debug)]
struct ToleranceAccumulator(ToleranceGroups);

impl Accumulator for ToleranceAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.0.add(values, |_| 0, None)
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let g = &self.0;
        Ok(ScalarValue::Float64(Some(g.options.score(
            g.sends[0],
            g.response[0],
            g.negative[0],
        ))))
    }

    fn size(&self) -> usize {
        self.0.size()
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let g = &self.0;
        Ok(vec![
            ScalarValue::Float64(Some(g.sends[0])),
            ScalarValue::Float64(Some(g.response[0])),
            ScalarValue::Float64(Some(g.negative[0])),
        ])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        self.0.merge(states, |_| 0)
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::{StringArray, TimestampMillisecondArray};

    use super::*;

    fn rows(as_of: i64, rows: &[(i64, &str)]) -> Vec<ArrayRef> {
        let n = rows.len();
        vec![
            Arc::new(TimestampMillisecondArray::from(vec![as_of; n]).with_timezone("UTC")),
            Arc::new(
                TimestampMillisecondArray::from(rows.iter().map(|r| r.0).collect::<Vec<_>>())
                    .with_timezone("UTC"),
            ),
            Arc::new(StringArray::from(
                rows.iter().map(|r| r.1).collect::<Vec<_>>(),
            )),
        ]
    }

    #[test]
    fn groups_split_merge_and_ignore_future_and_old_rows() {
        let o = ToleranceOptions::default();
        let at = 100 * DAY_MS;
        let data = rows(
            at,
            &[
                (at - DAY_MS, "touch_sent"),
                (at - DAY_MS + 60_000, "touch_opened"),
                (at - 2 * DAY_MS, "touch_sent"),
                (at - 40 * DAY_MS, "touch_sent"), // outside the 28 days
                (at + DAY_MS, "report"),          // after as_of
                (at - 90 * DAY_MS, "block"),      // half weight
                (at - DAY_MS, "live_enter"),      // ignored
            ],
        );
        let mut g = ToleranceGroups::new(o.clone());
        g.update_batch(&data, &[0, 0, 0, 0, 0, 1, 0], None, 2)
            .unwrap();
        let out = g.evaluate(EmitTo::All).unwrap();
        let out = out.as_primitive::<Float64Type>();
        assert!((out.value(0) - o.score(2.0, 0.5, 0.0)).abs() < 1e-12);
        assert!((out.value(1) - o.score(0.0, 0.0, 3.0)).abs() < 1e-9);

        // Partial states merge to the same answer.
        let a = ToleranceGroups::new(o.clone());
        let state = a.convert_to_state(&data, None).unwrap();
        let mut m = ToleranceGroups::new(o.clone());
        m.merge_batch(&state, &[0, 0, 0, 0, 0, 1, 0], 2).unwrap();
        let merged = m.evaluate(EmitTo::All).unwrap();
        assert_eq!(merged.as_ref(), out as &dyn Array);
    }
}
