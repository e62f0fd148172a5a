//! Identity resolution shared by the identity table functions (`resolve_identities`,
//! `explain_identity`, `identity_graph`): options and guards, reading a source through the
//! session, and the graph itself ([`graph`]).
//!
//! Not a SQL function: the table functions in [`crate::table`] are thin views of a
//! [`graph::Graph`].

pub mod graph;

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, SchemaRef, TimeUnit, TimestampMillisecondType};
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::{
    TableReference, config_err, plan_datafusion_err, plan_err, project_schema,
};
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::datasource::provider_as_source;
use datafusion::error::Result;
use datafusion::functions_aggregate::expr_fn::{max, min};
use datafusion::logical_expr::{Expr, LogicalPlanBuilder, TableType, col};
use datafusion::physical_plan::{ExecutionPlan, collect};
use regex::RegexSet;

use graph::{Graph, GraphBuilder, IdType, PreviousMap};

/// Identity resolution settings (`[identity]` in `plinkdb.toml`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityOptions {
    /// Regexes (whole-value, Rust syntax) of identifier values that never link.
    pub blocked_values: Vec<String>,
    /// An identifier value on more distinct accounts than this is a quarantined hub.
    pub hub_threshold: usize,
    /// A merge that would give one person more distinct phones than this is rejected.
    pub max_phones: usize,
    /// A device seen on two accounts of one platform scope is shared and never links.
    pub shared_device_rule: bool,
    /// First-party table of phone/member links (`member_id, phone_key, platform,
    /// account_scope, account_id, bound_at`), used when it exists; empty: never.
    pub members_table: String,
}

/// The default blocked-value patterns: placeholder and junk ids seen in the wild.
pub fn default_blocked_values() -> Vec<String> {
    vec![
        // all zeros / dashes, including the empty string and the zero IDFA
        r"^[0\-\s]*$".into(),
        r"^-1$".into(),
        r"(?i)^\s*(unknown|null|nil|none|undefined|nan|n/a|anonymous|\(null\))\s*$".into(),
    ]
}

impl Default for IdentityOptions {
    fn default() -> Self {
        Self {
            blocked_values: default_blocked_values(),
            hub_threshold: 50,
            max_phones: 2,
            shared_device_rule: true,
            members_table: "members".into(),
        }
    }
}

/// [`IdentityOptions`], compiled.
#[derive(Debug, Clone)]
pub struct IdentityRules {
    pub options: IdentityOptions,
    blocked: RegexSet,
    pub hub_threshold: usize,
    pub max_phones: usize,
    pub shared_device_rule: bool,
}

impl IdentityRules {
    /// # Errors
    /// A blocked-value pattern that is not a valid regex, or a zero threshold.
    pub fn new(options: &IdentityOptions) -> Result<Self> {
        let blocked = match RegexSet::new(&options.blocked_values) {
            Ok(set) => set,
            Err(e) => return config_err!("identity.blocked_values: {e}"),
        };
        if options.hub_threshold < 2 {
            return config_err!("identity.hub_threshold must be at least 2");
        }
        if options.max_phones < 1 {
            return config_err!("identity.max_phones must be at least 1");
        }
        Ok(Self {
            options: options.clone(),
            blocked,
            hub_threshold: options.hub_threshold,
            max_phones: options.max_phones,
            shared_device_rule: options.shared_device_rule,
        })
    }

    /// Whether an identifier value is blocked.
    pub fn is_blocked(&self, value: &str) -> bool {
        self.blocked.is_match(value)
    }
}

impl Default for IdentityRules {
    fn default() -> Self {
        // The default patterns are valid regexes (tested below).
        match Self::new(&IdentityOptions::default()) {
            Ok(rules) => rules,
            Err(e) => unreachable!("default identity options are valid: {e}"),
        }
    }
}

/// Columns the source must have.
pub const SOURCE_COLUMNS: [&str; 7] = [
    "platform",
    "account_scope",
    "account_id",
    "event_ts",
    "union_id",
    "phone_key",
    "device_id",
];
const MEMBER_COLUMNS: [&str; 6] = [
    "member_id",
    "phone_key",
    "platform",
    "account_scope",
    "account_id",
    "bound_at",
];
const PREVIOUS_COLUMNS: [&str; 5] = [
    "platform",
    "account_scope",
    "account_id",
    "person_id",
    "first_seen",
];

/// Looks a table up by name (`t`, `schema.t`, `catalog.schema.t`) in the session.
pub(crate) async fn lookup(
    session: &dyn Session,
    name: &str,
) -> Result<Option<Arc<dyn TableProvider>>> {
    let options = session.config_options();
    let reference = TableReference::parse_str(name).resolve(
        &options.catalog.default_catalog,
        &options.catalog.default_schema,
    );
    let Some(catalog) = session.catalog_list().catalog(&reference.catalog) else {
        return Ok(None);
    };
    let Some(schema) = catalog.schema(&reference.schema) else {
        return Ok(None);
    };
    schema.table(&reference.table).await
}

/// Plans and runs `SELECT <group>, min(ts), max(ts) FROM table GROUP BY <group>` (or a
/// plain projection when `ts` is `None`).
async fn read(
    session: &dyn Session,
    name: &str,
    provider: Arc<dyn TableProvider>,
    group: &[&str],
    ts: Option<&str>,
) -> Result<Vec<RecordBatch>> {
    let mut plan = LogicalPlanBuilder::scan(name, provider_as_source(provider), None)?
        .filter(col("account_id").is_not_null())?;
    plan = match ts {
        Some(ts) => plan.aggregate(
            group.iter().map(|c| col(*c)).collect::<Vec<_>>(),
            vec![
                min(col(ts)).alias("first_ts"),
                max(col(ts)).alias("last_ts"),
            ],
        )?,
        None => plan.project(group.iter().map(|c| col(*c)).collect::<Vec<Expr>>())?,
    };
    let physical = session.create_physical_plan(&plan.build()?).await?;
    collect(physical, session.task_ctx()).await
}

/// A table argument, with its columns checked.
async fn table_arg(
    session: &dyn Session,
    function: &str,
    position: usize,
    name: &str,
    columns: &[&str],
) -> Result<Arc<dyn TableProvider>> {
    let Some(provider) = lookup(session, name).await? else {
        return plan_err!("{function}: argument {position}: table or view '{name}' not found");
    };
    let schema = provider.schema();
    let missing: Vec<&str> = columns
        .iter()
        .copied()
        .filter(|c| schema.field_with_name(c).is_err())
        .collect();
    if !missing.is_empty() {
        return plan_err!(
            "{function}: argument {position}: '{name}' lacks the column(s) {}",
            missing.join(", ")
        );
    }
    Ok(provider)
}

fn strings(batch: &RecordBatch, i: usize) -> Result<Arc<dyn Array>> {
    Ok(cast(batch.column(i), &DataType::Utf8)?)
}

fn millis(batch: &RecordBatch, i: usize) -> Result<Arc<dyn Array>> {
    Ok(cast(
        batch.column(i),
        &DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
    )?)
}

/// Reads `source` (and `members`, and the previous map) through the session and resolves.
///
/// # Errors
/// A missing table or column (planning errors naming `function` and the argument), or
/// an execution error of the reads.
pub async fn resolve(
    session: &dyn Session,
    function: &str,
    source: &str,
    previous: Option<&str>,
    rules: &IdentityRules,
) -> Result<Graph> {
    let provider = table_arg(session, function, 1, source, &SOURCE_COLUMNS).await?;
    let previous_provider = match previous {
        Some(name) => Some(table_arg(session, function, 2, name, &PREVIOUS_COLUMNS).await?),
        None => None,
    };
    let mut b = GraphBuilder::default();
    let batches = read(
        session,
        source,
        provider,
        &SOURCE_COLUMNS[..3]
            .iter()
            .chain(&SOURCE_COLUMNS[4..])
            .copied()
            .collect::<Vec<_>>(),
        Some("event_ts"),
    )
    .await?;
    for batch in &batches {
        let cols: Vec<Arc<dyn Array>> = (0..6).map(|i| strings(batch, i)).collect::<Result<_>>()?;
        let cols: Vec<_> = cols.iter().map(|c| c.as_string::<i32>()).collect();
        let first = millis(batch, 6)?;
        let last = millis(batch, 7)?;
        let first = first.as_primitive::<TimestampMillisecondType>();
        let last = last.as_primitive::<TimestampMillisecondType>();
        for row in 0..batch.num_rows() {
            if cols[0].is_null(row) || cols[2].is_null(row) {
                continue;
            }
            let (f, l) = match (first.is_valid(row), last.is_valid(row)) {
                (true, true) => (first.value(row), last.value(row)),
                _ => (i64::MAX, i64::MIN),
            };
            let scope = if cols[1].is_null(row) {
                ""
            } else {
                cols[1].value(row)
            };
            let a = b.account(cols[0].value(row), scope, cols[2].value(row), f, l);
            for (c, kind) in [
                (3, IdType::UnionId),
                (4, IdType::Phone),
                (5, IdType::Device),
            ] {
                if cols[c].is_valid(row) {
                    b.evidence(a, kind, cols[c].value(row), f);
                }
            }
        }
    }
    let members = &rules.options.members_table;
    let members_provider = if members.is_empty() || members == source {
        None
    } else {
        lookup(session, members).await?
    };
    if let Some(m) = members_provider {
        {
            let has_all = MEMBER_COLUMNS
                .iter()
                .all(|c| m.schema().field_with_name(c).is_ok());
            if !has_all {
                return plan_err!(
                    "{function}: the members table '{members}' lacks one of the columns {}",
                    MEMBER_COLUMNS.join(", ")
                );
            }
            let group = [
                "platform",
                "account_scope",
                "account_id",
                "phone_key",
                "member_id",
            ];
            for batch in read(session, members, m, &group, Some("bound_at")).await? {
                let cols: Vec<Arc<dyn Array>> =
                    (0..5).map(|i| strings(&batch, i)).collect::<Result<_>>()?;
                let cols: Vec<_> = cols.iter().map(|c| c.as_string::<i32>()).collect();
                let first = millis(&batch, 5)?;
                let first = first.as_primitive::<TimestampMillisecondType>();
                for row in 0..batch.num_rows() {
                    if cols[0].is_null(row) || cols[2].is_null(row) {
                        continue;
                    }
                    let scope = if cols[1].is_null(row) {
                        ""
                    } else {
                        cols[1].value(row)
                    };
                    // Only accounts of the source: a bound account never seen is not output.
                    let Some(a) = b.existing_account(cols[0].value(row), scope, cols[2].value(row))
                    else {
                        continue;
                    };
                    let ts = if first.is_valid(row) {
                        first.value(row)
                    } else {
                        i64::MAX
                    };
                    if cols[3].is_valid(row) {
                        b.evidence(a, IdType::Phone, cols[3].value(row), ts);
                    }
                    if cols[4].is_valid(row) {
                        b.evidence(a, IdType::Member, cols[4].value(row), ts);
                    }
                }
            }
        }
    }
    let mut graph = b.resolve(rules);
    if let (Some(name), Some(p)) = (previous, previous_provider) {
        let mut prev = PreviousMap::default();
        for batch in read(session, name, p, &PREVIOUS_COLUMNS, None).await? {
            let cols: Vec<Arc<dyn Array>> =
                (0..4).map(|i| strings(&batch, i)).collect::<Result<_>>()?;
            let cols: Vec<_> = cols.iter().map(|c| c.as_string::<i32>()).collect();
            let first = millis(&batch, 4)?;
            let first = first.as_primitive::<TimestampMillisecondType>();
            for row in 0..batch.num_rows() {
                if (0..4).any(|c| c != 1 && cols[c].is_null(row)) {
                    continue;
                }
                let scope = if cols[1].is_null(row) {
                    ""
                } else {
                    cols[1].value(row)
                };
                let ts = if first.is_valid(row) {
                    first.value(row)
                } else {
                    i64::MAX
                };
                prev.push(
                    cols[0].value(row),
                    scope,
                    cols[2].value(row),
                    cols[3].value(row),
                    ts,
                );
            }
        }
        graph.carry_over(&prev);
    }
    Ok(graph)
}

/// What a table function makes of a resolved graph.
pub type Render = Arc<dyn Fn(&Graph) -> Result<RecordBatch> + Send + Sync>;

/// The table a call of an identity table function returns: resolution runs when the
/// table is scanned, through the scanning session.
pub struct IdentityTable {
    pub function: &'static str,
    pub schema: SchemaRef,
    pub source: String,
    pub previous: Option<String>,
    pub rules: Arc<IdentityRules>,
    pub render: Render,
}

impl std::fmt::Debug for IdentityTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityTable")
            .field("function", &self.function)
            .field("source", &self.source)
            .field("previous", &self.previous)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl TableProvider for IdentityTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::Temporary
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let graph = resolve(
            state,
            self.function,
            &self.source,
            self.previous.as_deref(),
            &self.rules,
        )
        .await?;
        let batch = (self.render)(&graph)?;
        let _ = project_schema(&self.schema, projection)?;
        Ok(MemorySourceConfig::try_new_exec(
            &[vec![batch]],
            Arc::clone(&self.schema),
            projection.cloned(),
        )?)
    }
}

/// The constant string argument at `position` (1-based) of a table function call.
/// The `('source' [, 'previous_map'])` arguments shared by the identity table functions.
pub(crate) fn source_and_previous(
    function: &str,
    exprs: &[Expr],
) -> Result<(String, Option<String>)> {
    if exprs.is_empty() || exprs.len() > 2 {
        return plan_err!(
            "{function}: expected 1 or 2 arguments ('source' [, 'previous_map']), got {}",
            exprs.len()
        );
    }
    let source = string_arg(function, exprs, 1, "source")?;
    let previous = match exprs.len() {
        2 => Some(string_arg(function, exprs, 2, "previous_map")?),
        _ => None,
    };
    Ok((source, previous))
}

pub(crate) fn string_arg(
    function: &str,
    exprs: &[Expr],
    position: usize,
    name: &str,
) -> Result<String> {
    use datafusion::common::ScalarValue;
    match exprs.get(position - 1) {
        Some(Expr::Literal(
            ScalarValue::Utf8(Some(s))
            | ScalarValue::Utf8View(Some(s))
            | ScalarValue::LargeUtf8(Some(s)),
            _,
        )) => Ok(s.clone()),
        Some(other) => Err(plan_datafusion_err!(
            "{function}: argument {position} ({name}) must be a constant string, got {other}"
        )),
        None => plan_err!("{function}: argument {position} ({name}) is missing"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_patterns_block_junk_and_keep_real_ids() {
        let rules = IdentityRules::default();
        for junk in [
            "00000000-0000-0000-0000-000000000000",
            "unknown",
            "NULL",
            "null",
            "",
            " ",
            "-1",
            "undefined",
            "0",
            "---",
        ] {
            assert!(rules.is_blocked(junk), "{junk:?}");
        }
        for real in ["4c170f35-5f72-4ba6-6e66-bd713f1c1db6", "oU_a", "10", "-12"] {
            assert!(!rules.is_blocked(real), "{real:?}");
        }
        let bad = IdentityOptions {
            blocked_values: vec!["(".into()],
            ..IdentityOptions::default()
        };
        assert!(
            IdentityRules::new(&bad)
                .unwrap_err()
                .to_string()
                .contains("blocked_values")
        );
    }
}
