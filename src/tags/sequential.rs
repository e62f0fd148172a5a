//! `SequentialExec`: its inputs run one after another into one output stream.
//!
//! `derive_tags` evaluates every tag of the catalog over the same source. As one
//! `UNION ALL`, all tag queries run at once and their hash tables add up (at 1M persons
//! beyond 23 GiB); one after another, memory is that of the largest tag.

use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{Result, internal_err};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{EquivalenceProperties, Partitioning, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties, execute_stream,
};
use futures::{StreamExt, TryStreamExt};

/// Runs `inputs` in order (each with all its partitions), one output partition.
#[derive(Debug)]
pub struct SequentialExec {
    schema: SchemaRef,
    inputs: Vec<Arc<dyn ExecutionPlan>>,
    properties: Arc<PlanProperties>,
}

impl SequentialExec {
    /// `schema` must contain each input's schema (it may be more nullable).
    pub fn new(schema: SchemaRef, inputs: Vec<Arc<dyn ExecutionPlan>>) -> Self {
        let properties = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(Arc::clone(&schema)),
            Partitioning::UnknownPartitioning(1),
            EmissionType::Incremental,
            Boundedness::Bounded,
        ));
        Self {
            schema,
            inputs,
            properties,
        }
    }
}

impl DisplayAs for SequentialExec {
    fn fmt_as(&self, _: DisplayFormatType, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "SequentialExec: inputs={}", self.inputs.len())
    }
}

impl ExecutionPlan for SequentialExec {
    fn name(&self) -> &'static str {
        "SequentialExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        self.inputs.iter().collect()
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
        Ok(Arc::new(Self::new(Arc::clone(&self.schema), children)))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        if partition != 0 {
            return internal_err!("SequentialExec has one partition, not {partition}");
        }
        let schema = Arc::clone(&self.schema);
        let batches = futures::stream::iter(self.inputs.clone())
            .then(move |input| {
                let context = Arc::clone(&context);
                async move { execute_stream(input, context) }
            })
            .try_flatten()
            .and_then(move |batch| {
                let schema = Arc::clone(&schema);
                async move { Ok(batch.with_schema(schema)?) }
            });
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            Arc::clone(&self.schema),
            batches,
        )))
    }
}
