//! Table functions, one per file. They need the session (to read their source), which
//! is why they are registered on a `SessionContext` rather than a `FunctionRegistry`.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, StringBuilder, TimestampMillisecondBuilder};
use datafusion::catalog::TableFunctionImpl;
use datafusion::logical_expr::Documentation;

use crate::contact::ToleranceOptions;
use crate::identity::IdentityRules;

pub mod contact_policy;
pub mod explain_identity;
pub mod identity_graph;
pub mod resolve_identities;

/// A table function with its SQL name and documentation.
pub struct TableFunction {
    pub name: &'static str,
    pub function: Arc<dyn TableFunctionImpl>,
    pub documentation: Option<Documentation>,
}

/// Every table function of this crate, configured with `rules` and `tolerance`.
pub fn functions(
    rules: &Arc<IdentityRules>,
    tolerance: &Arc<ToleranceOptions>,
) -> Vec<TableFunction> {
    vec![
        contact_policy::udtf(tolerance),
        explain_identity::udtf(rules),
        identity_graph::udtf(rules),
        resolve_identities::udtf(rules),
    ]
}

/// Epoch-ms column helper: `i64::MAX` / `i64::MIN` sentinels become NULL.
pub(crate) fn push_ts(b: &mut TimestampMillisecondBuilder, ts: i64) {
    if ts == i64::MAX || ts == i64::MIN {
        b.append_null();
    } else {
        b.append_value(ts);
    }
}

pub(crate) fn finish_ts(mut b: TimestampMillisecondBuilder) -> ArrayRef {
    Arc::new(b.finish().with_timezone("UTC"))
}

pub(crate) fn finish_str(mut b: StringBuilder) -> ArrayRef {
    Arc::new(b.finish())
}

pub(crate) fn batch(
    schema: &datafusion::arrow::datatypes::SchemaRef,
    columns: Vec<ArrayRef>,
) -> datafusion::error::Result<RecordBatch> {
    Ok(RecordBatch::try_new(Arc::clone(schema), columns)?)
}
