//! A physical optimizer rule for queries with event aggregates (`window_funnel`,
//! `funnel_step_times`, `sequence_match`, `sequence_count`). It does two things.
//!
//! **Shuffle rows, aggregate once.** On several cores DataFusion aggregates in two
//! phases: every input partition pre-aggregates its own rows (`Partial`), the partial
//! states are shuffled by group key, and a second aggregate merges them
//! (`FinalPartitioned`). That pays off when a state is much smaller than the rows it
//! summarises. The event aggregates keep every matching event, so their partial state is
//! as large as their input and the two phases do the same work twice: store the events,
//! copy them into list arrays, shuffle the lists, store them again. For an aggregate with
//! an event aggregate the rule shuffles the input rows by group key instead and
//! aggregates once (`SinglePartitioned`), the plan DataFusion uses when the input is
//! already partitioned by the key. The other aggregates of the same node are computed in
//! that one phase too, which is correct for every aggregate. What the node reads (group
//! keys, arguments, FILTERs) is computed below the shuffle, so the shuffle moves
//! booleans and numbers, not the text the conditions look at. Grouping sets, ordered
//! aggregates and an output schema that would differ keep the two phases.
//!
//! **Fast conditions.** `text = 'literal'` is evaluated by
//! [`StringEquals`](super::string_equals) instead of Arrow's generic comparison: in the
//! arguments of event aggregates that keep two phases (grouping sets, one partition), and
//! in everything computed below the shuffle of a one-phase node.
//!
//! It runs after DataFusion's distribution and sorting rules and before its final sanity
//! check, which checks the rewritten plan.

use std::sync::Arc;

use datafusion::arrow::datatypes::Schema;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode};
use datafusion::error::Result;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::aggregate::AggregateFunctionExpr;
use datafusion::physical_expr::expressions::{Column, Literal};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::aggregates::{AggregateExec, AggregateMode, PhysicalGroupBy};
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::repartition::RepartitionExec;
use datafusion::physical_plan::{ExecutionPlan, Partitioning};

use super::string_equals::StringEquals;

/// The aggregates whose state holds every input event.
const EVENT_AGGREGATES: [&str; 4] = [
    "window_funnel",
    "funnel_step_times",
    "sequence_match",
    "sequence_count",
];

fn is_event_aggregate(a: &AggregateFunctionExpr) -> bool {
    EVENT_AGGREGATES.contains(&a.fun().name())
}

/// See the module docs.
#[derive(Debug, Default)]
pub struct EventAggregatePlan;

impl PhysicalOptimizerRule for EventAggregatePlan {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_down(|plan| {
            Ok(match single_phase(&plan)? {
                Some(once) => Transformed::yes(once),
                None => match fast_conditions(&plan)? {
                    Some(fast) => Transformed::yes(fast),
                    None => Transformed::no(plan),
                },
            })
        })
        .data()
    }

    fn name(&self) -> &str {
        "event_aggregate_plan"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// `FinalPartitioned <- Repartition(hash) <- Partial <- input` as
/// `SinglePartitioned <- Repartition(hash of the group keys) <- input`, when the
/// aggregates include an event aggregate.
fn single_phase(plan: &Arc<dyn ExecutionPlan>) -> Result<Option<Arc<dyn ExecutionPlan>>> {
    let Some(last) = plan.downcast_ref::<AggregateExec>() else {
        return Ok(None);
    };
    if *last.mode() != AggregateMode::FinalPartitioned {
        return Ok(None);
    }
    let Some(shuffle) = last.input().downcast_ref::<RepartitionExec>() else {
        return Ok(None);
    };
    let Partitioning::Hash(_, partitions) = shuffle.partitioning() else {
        return Ok(None);
    };
    let Some(first) = shuffle.input().downcast_ref::<AggregateExec>() else {
        return Ok(None);
    };
    let group_by = first.group_expr();
    let aggregates = first.aggr_expr();
    if *first.mode() != AggregateMode::Partial
        || shuffle.preserve_order()
        || group_by.has_grouping_set()
        || group_by.expr().is_empty()
        || aggregates.iter().any(|a| !a.order_bys().is_empty())
        || !aggregates.iter().any(|a| is_event_aggregate(a))
    {
        return Ok(None);
    }
    // What the aggregate reads (keys, arguments, filters) is computed below the shuffle,
    // so it moves booleans and numbers instead of the text they were computed from.
    let schema = first.input_schema();
    let mut below = Below::default();
    let keys: Vec<_> = group_by
        .expr()
        .iter()
        .map(|(e, name)| (below.column(e, &schema), name.clone()))
        .collect();
    let mut once_aggregates = Vec::with_capacity(aggregates.len());
    for a in aggregates {
        let args = a
            .expressions()
            .iter()
            .map(|e| match e.downcast_ref::<Literal>() {
                // Literal arguments (window, mode, pattern) are read at planning time.
                Some(_) => Arc::clone(e),
                None => below.column(e, &schema),
            })
            .collect();
        let Some(a) = a.with_new_expressions(args, Vec::new()) else {
            return Ok(None);
        };
        once_aggregates.push(Arc::new(a));
    }
    let filters = first
        .filter_expr()
        .iter()
        .map(|f| f.as_ref().map(|f| below.column(f, &schema)))
        .collect();
    let projection = ProjectionExec::try_new(below.exprs, Arc::clone(first.input()))?;
    let hash = keys.iter().map(|(k, _)| Arc::clone(k)).collect();
    let rows =
        RepartitionExec::try_new(Arc::new(projection), Partitioning::Hash(hash, *partitions))?;
    let rows_schema = rows.schema();
    let once = AggregateExec::try_new(
        AggregateMode::SinglePartitioned,
        PhysicalGroupBy::new_single(keys),
        once_aggregates,
        filters,
        Arc::new(rows),
        rows_schema,
    )?
    .with_limit_options(last.limit_options());
    if once.schema().fields() != last.schema().fields() {
        return Ok(None);
    }
    Ok(Some(Arc::new(once)))
}

/// The expressions computed below the shuffle, each once.
#[derive(Default)]
struct Below {
    exprs: Vec<(Arc<dyn PhysicalExpr>, String)>,
}

impl Below {
    /// The column that will hold `expr` (text conditions as [`StringEquals`]).
    fn column(&mut self, expr: &Arc<dyn PhysicalExpr>, schema: &Schema) -> Arc<dyn PhysicalExpr> {
        let expr = StringEquals::from_expr(expr, schema).unwrap_or_else(|| Arc::clone(expr));
        let index = match self.exprs.iter().position(|(e, _)| e.eq(&expr)) {
            Some(i) => i,
            None => {
                let name = format!("__event_input_{}", self.exprs.len());
                self.exprs.push((expr, name));
                self.exprs.len() - 1
            }
        };
        Arc::new(Column::new(&self.exprs[index].1, index))
    }
}

/// The aggregate node with `text = 'literal'` conditions of its event aggregates as
/// [`StringEquals`], when it reads input rows and has any.
fn fast_conditions(plan: &Arc<dyn ExecutionPlan>) -> Result<Option<Arc<dyn ExecutionPlan>>> {
    let Some(agg) = plan.downcast_ref::<AggregateExec>() else {
        return Ok(None);
    };
    if !matches!(
        agg.mode(),
        AggregateMode::Partial | AggregateMode::Single | AggregateMode::SinglePartitioned
    ) {
        return Ok(None);
    }
    let schema = agg.input_schema();
    let mut changed = false;
    let mut aggregates = Vec::with_capacity(agg.aggr_expr().len());
    for a in agg.aggr_expr() {
        let replaced = is_event_aggregate(a)
            .then(|| {
                let args: Vec<_> = a
                    .expressions()
                    .iter()
                    .map(|e| StringEquals::from_expr(e, &schema).unwrap_or_else(|| Arc::clone(e)))
                    .collect();
                let order_by = a.order_bys().iter().map(|s| Arc::clone(&s.expr)).collect();
                a.with_new_expressions(args, order_by)
            })
            .flatten();
        changed |= replaced.is_some() && replaced.as_ref() != Some(a.as_ref());
        aggregates.push(replaced.map_or_else(|| Arc::clone(a), Arc::new));
    }
    if !changed {
        return Ok(None);
    }
    let rewritten = AggregateExec::try_new(
        *agg.mode(),
        agg.group_expr().clone(),
        aggregates,
        agg.filter_expr().to_vec(),
        Arc::clone(agg.input()),
        schema,
    )?
    .with_limit_options(agg.limit_options());
    if rewritten.schema().fields() != agg.schema().fields() {
        return Ok(None);
    }
    Ok(Some(Arc::new(rewritten)))
}

/// DataFusion's physical optimizer rules with [`EventAggregatePlan`] before the final
/// sanity check.
pub fn physical_optimizer_rules() -> Vec<Arc<dyn PhysicalOptimizerRule + Send + Sync>> {
    let mut rules = datafusion::physical_optimizer::optimizer::PhysicalOptimizer::new().rules;
    let at = rules
        .iter()
        .position(|r| r.name() == "SanityCheckPlan")
        .unwrap_or(rules.len());
    rules.insert(at, Arc::new(EventAggregatePlan));
    rules
}

#[cfg(test)]
mod tests {
    use datafusion::execution::SessionStateBuilder;
    use datafusion::physical_plan::displayable;
    use datafusion::prelude::{SessionConfig, SessionContext};

    use super::*;

    async fn plan_of(sql: &str) -> String {
        let state = SessionStateBuilder::new()
            .with_config(SessionConfig::new().with_target_partitions(2))
            .with_default_features()
            .with_physical_optimizer_rules(physical_optimizer_rules())
            .build();
        let ctx = SessionContext::new_with_state(state);
        crate::register_all(&ctx).expect("register");
        ctx.sql(
            "CREATE TABLE ev AS SELECT * FROM (VALUES (1, 10, 'a'), (1, 20, 'b'), (NULL, 5, 'a')) \
             AS t(person, ts, event)",
        )
        .await
        .expect("table");
        let plan = ctx
            .sql(sql)
            .await
            .expect("sql")
            .create_physical_plan()
            .await;
        let plan = plan.expect("plan");
        let mut out = displayable(plan.as_ref()).indent(true).to_string();
        plan.apply(|node| {
            if let Some(agg) = node.downcast_ref::<AggregateExec>() {
                for a in agg.aggr_expr() {
                    for e in a.expressions() {
                        out.push_str(&format!("\narg {e:?}"));
                    }
                }
            }
            if let Some(projection) = node.downcast_ref::<ProjectionExec>() {
                for e in projection.expr() {
                    out.push_str(&format!("\nprojected {:?}", e.expr));
                }
            }
            Ok(datafusion::common::tree_node::TreeNodeRecursion::Continue)
        })
        .expect("walk");
        out
    }

    #[tokio::test]
    async fn funnels_shuffle_rows_and_compare_text_fast() {
        let plan = plan_of(
            "SELECT person, window_funnel(60, ts, event = 'a', event = 'b') FROM ev GROUP BY person",
        )
        .await;
        assert!(plan.contains("mode=SinglePartitioned"), "{plan}");
        assert!(!plan.contains("mode=Partial"), "{plan}");
        assert!(plan.contains("StringEquals"), "{plan}");
    }

    #[tokio::test]
    async fn other_aggregates_and_grouping_sets_keep_two_phases() {
        let plain = plan_of("SELECT person, count(*) FROM ev WHERE event = 'a' GROUP BY person");
        let plain = plain.await;
        assert!(plain.contains("mode=Partial"), "{plain}");
        assert!(!plain.contains("StringEquals"), "{plain}");
        let sets = plan_of(
            "SELECT person, window_funnel(60, ts, event = 'a') FROM ev \
             GROUP BY GROUPING SETS ((person), ())",
        )
        .await;
        assert!(sets.contains("mode=Partial"), "{sets}");
        assert!(!sets.contains("SinglePartitioned"), "{sets}");
        // The conditions are still compared fast in the partial phase.
        assert!(sets.contains("StringEquals"), "{sets}");
    }
}
