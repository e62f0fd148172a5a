//! plinkdb's SQL functions, one function per file (file name = SQL name).
//!
//! - [`scalar`]: row-at-a-time functions (time and money normalisation, phones, ...).
//! - [`aggregate`]: funnels, retention and sequences (ClickHouse-compatible), and
//!   `tolerance_score`.
//! - [`table`]: table functions (`resolve_identities`, `explain_identity`,
//!   `identity_graph`, built on [`identity`]; `contact_policy`, built on [`contact`]).
//!
//! [`register_all`] adds every function to a [`SessionContext`]; table functions need
//! the context itself, which is why it is not a `FunctionRegistry`.

use std::sync::Arc;

use datafusion::error::Result;
use datafusion::logical_expr::{AggregateUDF, ScalarUDF};
use datafusion::prelude::SessionContext;

pub mod aggregate;
mod args;
pub mod contact;
pub mod identity;
mod macros;
pub mod scalar;
pub mod table;

pub use aggregate::event_plan::physical_optimizer_rules;
pub use contact::ToleranceOptions;
pub use identity::IdentityOptions;

/// What the engine passes to the functions it registers.
#[derive(Debug, Clone, Default)]
pub struct UdfOptions {
    /// Secret key of `phone_key` (`None`: `phone_key` refuses to run).
    pub secret_key: Option<Vec<u8>>,
    /// Name of the environment variable the key comes from (for error messages).
    pub secret_key_env: Option<String>,
    /// Identity resolution settings.
    pub identity: IdentityOptions,
    /// Contact tolerance (`tolerance_score`, `contact_policy`).
    pub tolerance: ToleranceOptions,
}

/// Every scalar function plinkdb adds.
pub fn all_scalar_functions() -> Vec<Arc<ScalarUDF>> {
    scalar::functions()
}

/// Every aggregate function plinkdb adds (funnels, retention).
pub fn all_aggregate_functions() -> Vec<Arc<AggregateUDF>> {
    aggregate::functions()
}

/// Registers every plinkdb function with `ctx`, with default options (no phone key).
///
/// # Errors
/// As [`register_all_with`].
pub fn register_all(ctx: &SessionContext) -> Result<()> {
    register_all_with(ctx, &UdfOptions::default())
}

/// Registers every plinkdb function with `ctx`: scalar functions, `phone_key` under
/// `options.secret_key`, `tolerance_score` and the table functions configured by
/// `options.identity` and `options.tolerance`.
///
/// # Errors
/// Invalid identity options (a bad blocked-value regex, a zero threshold) or tolerance
/// options (a value out of range).
pub fn register_all_with(ctx: &SessionContext, options: &UdfOptions) -> Result<()> {
    for udf in all_scalar_functions() {
        ctx.register_udf(udf.as_ref().clone());
    }
    for udaf in all_aggregate_functions() {
        ctx.register_udaf(udaf.as_ref().clone());
    }
    let key_env = options
        .secret_key_env
        .as_deref()
        .unwrap_or(scalar::phone_key::DEFAULT_KEY_ENV);
    let phone_key = scalar::phone_key_udf(options.secret_key.clone(), key_env);
    ctx.register_udf(phone_key.as_ref().clone());
    options.tolerance.validate()?;
    ctx.register_udaf(
        aggregate::tolerance_score_udaf(&options.tolerance)
            .as_ref()
            .clone(),
    );
    let rules = Arc::new(identity::IdentityRules::new(&options.identity)?);
    let tolerance = Arc::new(options.tolerance.clone());
    for f in table::functions(&rules, &tolerance) {
        ctx.register_udtf(f.name, f.function);
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
        let rules = Arc::new(identity::IdentityRules::default());
        let tolerance = Arc::new(ToleranceOptions::default());
        for f in table::functions(&rules, &tolerance) {
            assert!(
                seen.insert(f.name.to_string()),
                "duplicate function {}",
                f.name
            );
            assert!(f.documentation.is_some(), "{} has no documentation", f.name);
            assert!(
                builtin.table_function(f.name).is_err(),
                "{} shadows a DataFusion built-in",
                f.name
            );
        }
    }
}
