//! `window_funnel(window, [mode,] ts, cond1, ..., condN)`: ClickHouse `windowFunnel`.

use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::error::Result;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDFImpl, Documentation, GroupsAccumulator, Signature, Volatility,
};
use datafusion_macros::user_doc;

use super::funnel_state::{self, FunnelAccumulator, FunnelGroups, Output, Params, coerce, layout};

const NAME: &str = "window_funnel";

#[user_doc(
    doc_section(label = "Funnel Functions"),
    description = "The deepest step (0..N) of a conversion funnel reached within `window` \
    of the chain's step-1 event, with ClickHouse `windowFunnel` semantics: the window is \
    inclusive and measured from step 1; equal timestamps are ordered by step; one row may \
    fill several steps; a later step-1 event starts a newer chain without erasing deeper \
    progress; rows with a NULL argument are skipped. Modes (comma-separated): \
    `strict_deduplication` (a repeated step >= 2 stops the scan), `strict_order` (a row \
    matching no condition, or a step whose previous step is unset, stops the scan) and \
    `strict_increase` (each step strictly later than the previous one) and, with \
    `strict_order`, `allow_reentry` (a step that comes before its previous step is \
    skipped instead of stopping the scan, as in ClickHouse 26.9), and `strict_once` (a \
    row fills at most one step of a chain; alone or with `strict_increase`). Beyond \
    ClickHouse, PostHog-style exclusion steps: each `exclude:A-B` in the mode makes one of \
    the LAST conditions (in the order of the words) an exclusion event instead of a step; \
    such an event at or after a chain's step A and before its step B voids that chain at \
    every level it reached (a later step-1 event can start a new one; chains that already \
    reached step B stand). Equal timestamps: steps come first, so an exclusion at step A's \
    time voids, one at step B's time does not. Not with `strict_once`.",
    syntax_example = "window_funnel(window, [mode,] ts, cond1, ..., condN)",
    sql_example = r#"```sql
> SELECT window_funnel(INTERVAL '1 hour', ts, kind = 'view', kind = 'cart', kind = 'pay')
  FROM (VALUES (TIMESTAMP '2025-11-01 10:00:00', 'view'),
               (TIMESTAMP '2025-11-01 10:20:00', 'cart'),
               (TIMESTAMP '2025-11-01 11:30:00', 'pay')) AS t(ts, kind);
+---+
| 2 |
+---+
```"#,
    argument(
        name = "window",
        description = "Constant: an INTERVAL (days or finer) or integer seconds when `ts` \
        is a TIMESTAMP; an integer in `ts` units when `ts` is an integer."
    ),
    argument(
        name = "mode",
        description = "Optional constant string: `''` or a comma-separated list of \
        `strict_deduplication`, `strict_order`, `strict_increase`, `strict_once`, \
        `allow_reentry`, and `exclude:A-B` (steps A < B; takes one trailing condition as \
        the exclusion event)."
    ),
    argument(name = "ts", description = "Event time: TIMESTAMP or integer."),
    argument(
        name = "cond1",
        description = "BOOLEAN condition of step 1 (up to 32 steps)."
    )
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct WindowFunnel {
    signature: Signature,
}

impl Default for WindowFunnel {
    fn default() -> Self {
        Self::new()
    }
}

impl WindowFunnel {
    pub fn new() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl AggregateUDFImpl for WindowFunnel {
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
        layout(NAME, arg_types)?;
        Ok(DataType::UInt8)
    }

    fn accumulator(&self, acc_args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let params = Params::from_args(NAME, &acc_args)?;
        Ok(Box::new(FunnelAccumulator::new(
            NAME,
            params,
            Output::Level,
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
        Ok(Box::new(FunnelGroups::new(NAME, params, Output::Level)))
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{ArrayRef, AsArray, BooleanArray, Int64Array};
    use datafusion::arrow::datatypes::{DataType, UInt8Type};
    use datafusion::logical_expr::{Accumulator, EmitTo, GroupsAccumulator};

    use super::funnel_state::{
        FunnelAccumulator, FunnelGroups, Layout, Modes, Output, Params, scan,
    };

    fn params() -> Params {
        Params {
            layout: Layout {
                has_mode: false,
                ts_pos: 1,
                steps: 2,
            },
            modes: Modes::default(),
            window: 10,
            ts_type: DataType::Int64,
            nullable_input: false,
        }
    }

    /// Arguments (window, ts, c1, c2) of six rows in three groups.
    fn batch() -> (Vec<ArrayRef>, Vec<usize>) {
        let window: ArrayRef = Arc::new(Int64Array::from(vec![10; 6]));
        let ts: ArrayRef = Arc::new(Int64Array::from(vec![5, 0, 3, 20, 1, 2]));
        let c1: ArrayRef = Arc::new(BooleanArray::from(vec![
            false, true, true, false, true, false,
        ]));
        let c2: ArrayRef = Arc::new(BooleanArray::from(vec![
            true, false, false, true, false, false,
        ]));
        (vec![window, ts, c1, c2], vec![0, 0, 1, 1, 2, 2])
    }

    #[test]
    fn groups_state_merge_and_partial_emit_match_the_plain_accumulator() {
        let (values, groups) = batch();
        // Two partial accumulators each see half of the rows; a final one merges them.
        let mut final_acc = FunnelGroups::new("t", params(), Output::Level);
        for half in [0..3, 3..6] {
            let mut partial = FunnelGroups::new("t", params(), Output::Level);
            let slice: Vec<ArrayRef> = values
                .iter()
                .map(|v| v.slice(half.start, half.len()))
                .collect();
            partial
                .update_batch(&slice, &groups[half.clone()], None, 3)
                .expect("update");
            let state = partial.state(EmitTo::All).expect("state");
            // State row i is the partial's group i.
            final_acc.merge_batch(&state, &[0, 1, 2], 3).expect("merge");
        }
        let first = final_acc.evaluate(EmitTo::First(2)).expect("first");
        let rest = final_acc.evaluate(EmitTo::All).expect("rest");
        let got: Vec<u8> = first
            .as_primitive::<UInt8Type>()
            .values()
            .iter()
            .chain(rest.as_primitive::<UInt8Type>().values().iter())
            .copied()
            .collect();
        // g0: step 1 at 0, step 2 at 5; g1: step 2 at 20 is outside 3 + 10; g2: step 1.
        assert_eq!(got, vec![2, 1, 1]);
        for (g, want) in got.iter().enumerate() {
            let rows: Vec<usize> = (0..6).filter(|&i| groups[i] == g).collect();
            let mut acc = FunnelAccumulator::new("t", params(), Output::Level);
            for i in rows {
                let row: Vec<ArrayRef> = values.iter().map(|v| v.slice(i, 1)).collect();
                acc.update_batch(&row).expect("update");
            }
            let value = acc.evaluate().expect("evaluate");
            assert_eq!(value, datafusion::common::ScalarValue::UInt8(Some(*want)));
        }
        assert!(final_acc.size() > 0);
    }

    fn level(events: &[(i64, u32)], steps: usize, window: i64, mode: &str) -> usize {
        let modes = Modes::parse("t", mode).expect("mode");
        scan(&mut events.to_vec(), steps, window, modes, false).level
    }

    #[test]
    fn default_mode() {
        // Inclusive window from step 1.
        assert_eq!(level(&[(0, 1), (5, 2), (10, 3)], 3, 10, ""), 3);
        assert_eq!(level(&[(0, 1), (5, 2), (11, 3)], 3, 10, ""), 2);
        // Equal timestamps are ordered by step, whatever the arrival order.
        assert_eq!(level(&[(3, 2), (3, 1)], 2, 0, ""), 2);
        // A later step 1 restarts the window.
        assert_eq!(level(&[(0, 1), (20, 1), (25, 2)], 2, 10, ""), 2);
        assert_eq!(level(&[], 2, 10, ""), 0);
    }

    #[test]
    fn strict_modes() {
        // A B B C: the repeated B stops the scan at level 2.
        assert_eq!(
            level(
                &[(1, 1), (2, 2), (3, 2), (4, 3)],
                3,
                10,
                "strict_deduplication"
            ),
            2
        );
        // A B A B: a repeated step 1 is a restart; the second B is the duplicate.
        assert_eq!(
            level(
                &[(1, 1), (2, 2), (3, 1), (4, 2)],
                3,
                10,
                "strict_deduplication"
            ),
            2
        );
        // A x B with a non-matching row x.
        assert_eq!(level(&[(1, 1), (2, 0), (3, 2)], 2, 10, "strict_order"), 1);
        // A C B C: C before B stops the scan.
        assert_eq!(
            level(&[(1, 1), (2, 3), (3, 2), (4, 3)], 3, 10, "strict_order"),
            1
        );
        // One row filling two steps at the same time.
        assert_eq!(level(&[(1, 1), (1, 2)], 2, 10, ""), 2);
        assert_eq!(level(&[(1, 1), (1, 2)], 2, 10, "strict_increase"), 1);
        assert!(Modes::parse("t", "strict").is_err());
        assert!(Modes::parse("t", "bogus").is_err());
        assert!(Modes::parse("t", " strict_order , strict_increase ").is_ok());
    }

    #[test]
    fn exclusion_steps() {
        // Steps 1..3, exclusion (tag 4) between steps 1 and 2.
        let mode = "exclude:1-2";
        // A x B C: x voids the chain; nothing after restarts it.
        assert_eq!(level(&[(1, 1), (2, 4), (3, 2), (4, 3)], 3, 10, mode), 0);
        // A B x C: x comes after step 2, outside 1-2.
        assert_eq!(level(&[(1, 1), (2, 2), (3, 4), (4, 3)], 3, 10, mode), 3);
        // A x A B C: a new step 1 after x starts a clean chain.
        assert_eq!(
            level(&[(1, 1), (2, 4), (3, 1), (4, 2), (5, 3)], 3, 10, mode),
            3
        );
        // Equal timestamps: x at step 1's time voids, x at step 2's time does not.
        assert_eq!(level(&[(1, 1), (1, 4), (2, 2)], 3, 10, mode), 0);
        assert_eq!(level(&[(1, 1), (2, 2), (2, 4)], 3, 10, mode), 2);
        // exclude:2-3: A B x C voids the chain at both levels; an older completed chain
        // stands.
        assert_eq!(
            level(&[(1, 1), (2, 2), (3, 4), (4, 3)], 3, 10, "exclude:2-3"),
            0
        );
        assert_eq!(
            level(
                &[(1, 1), (2, 2), (3, 3), (5, 2), (6, 4)],
                3,
                10,
                "exclude:2-3"
            ),
            3
        );
        // Only exclusion events: level 0.
        assert_eq!(level(&[(1, 3)], 2, 10, "exclude:1-2"), 0);
        for bad in ["exclude:2-1", "exclude:0-1", "exclude:1", "exclude:a-b"] {
            assert!(Modes::parse("t", bad).is_err(), "{bad}");
        }
        assert!(Modes::parse("t", "strict_once,exclude:1-2").is_err());
    }
}
