//! plinkdb's SQL functions, one function per file (file name = SQL name).
//!
//! - [`scalar`]: row-at-a-time functions (time and money normalisation, ...).
//!
//! [`register_all`] adds every function to a [`SessionContext`]; table functions need
//! the context itself, which is why it is not a `FunctionRegistry`.

use std::sync::Arc;

use datafusion::error::Result;
use datafusion::logical_expr::{AggregateUDF, ScalarUDF};
use datafusion::prelude::SessionContext;

pub mod aggregate;
mod args;
mod macros;
pub mod scalar;

/// Every scalar function plinkdb adds.
pub fn all_scalar_functions() -> Vec<Arc<ScalarUDF>> {
    scalar::functions()
}

/// Every aggregate function plinkdb adds (funnels, retention).
pub fn all_aggregate_functions() -> Vec<Arc<AggregateUDF>> {
    aggregate::functions()
}

/// Registers every plinkdb function with `ctx`.
///
/// # Errors
/// Never today; the signature leaves room for functions whose registration can fail.
pub fn register_all(ctx: &SessionContext) -> Result<()> {
    for udf in all_scalar_functions() {
        ctx.register_udf(udf.as_ref().clone());
    }
    for udaf in all_aggregate_functions() {
        ctx.register_udaf(udaf.as_ref().clone());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use datafusion::execution::FunctionRegistry;

    use super::*;

    #[test]
    fn names_are_unique_documented_and_not_builtin() {
        let builtin = SessionContext::new();
        let mut seen = HashSet::new();
        for udf in all_scalar_functions() {
            let name = udf.name().to_string();
            assert!(seen.insert(name.clone()), "duplicate function {name}");
            assert!(udf.documentation().is_some(), "{name} has no documentation");
            assert!(
                builtin.udf(&name).is_err(),
                "{name} shadows a DataFusion built-in"
            );
        }
        for udaf in all_aggregate_functions() {
            let name = udaf.name().to_string();
            assert!(seen.insert(name.clone()), "duplicate function {name}");
            assert!(
                udaf.documentation().is_some(),
                "{name} has no documentation"
            );
            assert!(
                builtin.udaf(&name).is_err(),
                "{name} shadows a DataFusion built-in"
            );
        }
        assert!(!seen.is_empty());
    }
}
