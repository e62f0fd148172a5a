//! `ResolvedExec`: the rows of an identity table function, already rendered, with exact
//! statistics. The resolution knows how many persons it found, so the planner can answer
//! `count(*)` and `count(DISTINCT person_id)` without reading the rows (DataFusion's
//! `aggregate_statistics` rule), and its join and size estimates use real counts.

use std::sync::{Arc, OnceLock};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::stats::Precision;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{Result, Statistics, internal_err};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{EquivalenceProperties, Partitioning, PhysicalExpr};
use datafusion::physical_plan::common::compute_record_batch_statistics;
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::memory::MemoryStream;
use datafusion::physical_plan::statistics::StatisticsArgs;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties};

use super::graph::PersonIds;

/// Rendered partitions of rows. Statistics are computed when the planner first asks.
#[derive(Debug)]
pub struct ResolvedExec {
    function: &'static str,
    partitions: Vec<Vec<RecordBatch>>,
    schema: SchemaRef,
    properties: Arc<PlanProperties>,
    /// The output column of the person ids, and the ids (one per person).
    persons: Option<(usize, PersonIds)>,
    statistics: OnceLock<Arc<Statistics>>,
}

impl ResolvedExec {
    /// `persons`: the output column holding each row's person id, and every person's id
    /// (each person has at least one row).
    pub fn new(
        function: &'static str,
        partitions: Vec<Vec<RecordBatch>>,
        schema: SchemaRef,
        persons: Option<(usize, PersonIds)>,
    ) -> Self {
        let properties = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(Arc::clone(&schema)),
            Partitioning::UnknownPartitioning(partitions.len()),
            EmissionType::Incremental,
            Boundedness::Bounded,
        ));
        Self {
            function,
            partitions,
            schema,
            properties,
            persons,
            statistics: OnceLock::new(),
        }
    }

    /// Rows and null counts counted, the person ids' distinct count known.
    fn statistics(&self) -> Arc<Statistics> {
        let stats = self.statistics.get_or_init(|| {
            let mut stats = compute_record_batch_statistics(&self.partitions, &self.schema, None);
            if let Some((column, ids)) = &self.persons {
                stats.column_statistics[*column].distinct_count = Precision::Exact(ids.distinct());
            }
            Arc::new(stats)
        });
        Arc::clone(stats)
    }
}

impl DisplayAs for ResolvedExec {
    fn fmt_as(&self, _: DisplayFormatType, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        let rows: usize = self
            .partitions
            .iter()
            .flatten()
            .map(RecordBatch::num_rows)
            .sum();
        write!(
            f,
            "ResolvedExec: function={}, partitions={}, rows={rows}",
            self.function,
            self.partitions.len()
        )?;
        if let Some((_, ids)) = &self.persons {
            write!(f, ", persons={}", ids.len())?;
        }
        Ok(())
    }
}

impl ExecutionPlan for ResolvedExec {
    fn name(&self) -> &'static str {
        "ResolvedExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if !children.is_empty() {
            return internal_err!("ResolvedExec has no children");
        }
        Ok(self)
    }

    fn execute(
        &self,
        partition: usize,
        _context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let Some(batches) = self.partitions.get(partition) else {
            return internal_err!(
                "ResolvedExec has {} partitions, not {partition}",
                self.partitions.len()
            );
        };
        Ok(Box::pin(MemoryStream::try_new(
            batches.clone(),
            Arc::clone(&self.schema),
            None,
        )?))
    }

    fn statistics_from_inputs(
        &self,
        _input_stats: &[Arc<Statistics>],
        args: &StatisticsArgs,
    ) -> Result<Arc<Statistics>> {
        Ok(match args.partition() {
            None => self.statistics(),
            Some(p) => match self.partitions.get(p) {
                Some(batches) => Arc::new(compute_record_batch_statistics(
                    std::slice::from_ref(batches),
                    &self.schema,
                    None,
                )),
                None => return internal_err!("ResolvedExec has no partition {p}"),
            },
        })
    }
}
