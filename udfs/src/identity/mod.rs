//! Identity resolution shared by the identity table functions (`resolve_identities`,
//! `explain_identity`, `identity_graph`): options and guards, reading a source through the
//! session, and the graph itself ([`graph`]).
//!
//! Not a SQL function: the table functions in [`crate::table`] are thin views of a
//! [`graph::Graph`].

mod evidence;
pub mod graph;
mod interner;
pub mod load;
mod order;
pub(crate) mod parallel;
mod scan;

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{
    Array, AsArray, LargeStringArray, RecordBatch, StringArray, StringViewArray,
    TimestampMillisecondArray,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, SchemaRef, TimeUnit, TimestampMillisecondType};
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::{
    TableReference, config_err, plan_datafusion_err, plan_err, project_schema,
};
use datafusion::datasource::provider_as_source;
use datafusion::error::Result;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::logical_expr::{Expr, LogicalPlanBuilder, TableType, col};
use datafusion::physical_plan::{ExecutionPlan, execute_stream};
use futures::StreamExt;
use regex::RegexSet;

use graph::{Graph, GraphBuilder, IdType, NONE, PreviousMap};
use load::{Batch, Loader, TextColumn, TimeColumn};
use scan::ResolvedExec;

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
    /// A blocked-value pattern that is not a valid regex, or a threshold out of range.
    pub fn new(options: &IdentityOptions) -> Result<Self> {
        let blocked = match RegexSet::new(&options.blocked_values) {
            Ok(set) => set,
            Err(e) => return config_err!("identity.blocked_values: {e}"),
        };
        if options.hub_threshold < 2 {
            return config_err!("identity.hub_threshold must be at least 2");
        }
        // The union-find counts a component's phones in 16 bits.
        if !(1..u16::MAX as usize).contains(&options.max_phones) {
            return config_err!(
                "identity.max_phones must be between 1 and {}, got {}",
                u16::MAX - 1,
                options.max_phones
            );
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

/// Plans and starts `SELECT <columns> FROM table WHERE account_id IS NOT NULL`.
async fn scan(
    session: &dyn Session,
    name: &str,
    provider: Arc<dyn TableProvider>,
    columns: &[&str],
) -> Result<SendableRecordBatchStream> {
    let plan = LogicalPlanBuilder::scan(name, provider_as_source(provider), None)?
        .filter(col("account_id").is_not_null())?
        .project(columns.iter().map(|c| col(*c)).collect::<Vec<Expr>>())?
        .build()?;
    let physical = session.create_physical_plan(&plan).await?;
    execute_stream(physical, session.task_ctx())
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

/// A text column read in place (Utf8, LargeUtf8 or Utf8View; other types are cast).
enum Text {
    Utf8(StringArray),
    Large(LargeStringArray),
    View(StringViewArray),
}

impl Text {
    fn of(batch: &RecordBatch, i: usize) -> Result<Self> {
        let a = batch.column(i);
        Ok(match a.data_type() {
            DataType::Utf8 => Self::Utf8(a.as_string::<i32>().clone()),
            DataType::LargeUtf8 => Self::Large(a.as_string::<i64>().clone()),
            DataType::Utf8View => Self::View(a.as_string_view().clone()),
            _ => Self::View(cast(a, &DataType::Utf8View)?.as_string_view().clone()),
        })
    }
}

impl TextColumn for Text {
    fn get(&self, row: usize) -> Option<&str> {
        match self {
            Self::Utf8(a) => a.is_valid(row).then(|| a.value(row)),
            Self::Large(a) => a.is_valid(row).then(|| a.value(row)),
            Self::View(a) => a.is_valid(row).then(|| a.value(row)),
        }
    }
}

/// A timestamp column as epoch milliseconds.
struct Millis(TimestampMillisecondArray);

impl Millis {
    fn of(batch: &RecordBatch, i: usize) -> Result<Self> {
        let a = cast(
            batch.column(i),
            &DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
        )?;
        Ok(Self(a.as_primitive::<TimestampMillisecondType>().clone()))
    }
}

impl TimeColumn for Millis {
    fn get(&self, row: usize) -> Option<i64> {
        self.0.is_valid(row).then(|| self.0.value(row))
    }
}

/// The scope group of each row's account (`NONE`: no platform or account id, or, with
/// `find`, a scope without recorded accounts), looked up once per change of scope.
fn scope_groups(
    b: &mut GraphBuilder,
    platform: &Text,
    scope: &Text,
    account: &Text,
    rows: usize,
    find: bool,
) -> Vec<u32> {
    let mut last: Option<(&str, &str, u32)> = None;
    (0..rows)
        .map(|row| {
            let (Some(p), Some(_)) = (platform.get(row), account.get(row)) else {
                return NONE;
            };
            let s = scope.get(row).unwrap_or("");
            match last {
                Some((lp, ls, g)) if lp == p && ls == s => g,
                _ => {
                    let g = if find {
                        b.find_scope(p, s).unwrap_or(NONE)
                    } else {
                        b.scope(p, s)
                    };
                    last = Some((p, s, g));
                    g
                }
            }
        })
        .collect()
}

/// Where a scanned table's columns are, and what its rows add.
struct Layout {
    platform: usize,
    scope: usize,
    account: usize,
    ts: usize,
    identifiers: &'static [(IdType, usize)],
    /// Source rows add accounts; link rows only attach identifiers to known accounts.
    new_accounts: bool,
}

/// `SOURCE_COLUMNS` rows: accounts and their identifiers.
const SOURCE_LAYOUT: Layout = Layout {
    platform: 0,
    scope: 1,
    account: 2,
    ts: 3,
    identifiers: &[
        (IdType::UnionId, 4),
        (IdType::Phone, 5),
        (IdType::Device, 6),
    ],
    new_accounts: true,
};

/// `MEMBER_COLUMNS` rows: phone and member links of known accounts (a bound account
/// never seen in the source is not output).
const MEMBER_LAYOUT: Layout = Layout {
    platform: 2,
    scope: 3,
    account: 4,
    ts: 5,
    identifiers: &[(IdType::Phone, 1), (IdType::Member, 0)],
    new_accounts: false,
};

/// Adds a batch of rows laid out as `layout`.
fn add_rows(loader: &mut Loader, batch: &RecordBatch, layout: &Layout) -> Result<()> {
    let text = |i| Text::of(batch, i);
    let (platform, scope, account) = (
        text(layout.platform)?,
        text(layout.scope)?,
        text(layout.account)?,
    );
    let groups = scope_groups(
        loader.builder(),
        &platform,
        &scope,
        &account,
        batch.num_rows(),
        !layout.new_accounts,
    );
    let identifiers = layout
        .identifiers
        .iter()
        .map(|&(kind, i)| Ok((kind, Box::new(text(i)?) as Box<dyn TextColumn>)))
        .collect::<Result<Vec<_>>>()?;
    loader.add(Batch {
        groups,
        account: Box::new(account),
        ts: Box::new(Millis::of(batch, layout.ts)?),
        identifiers,
        new_accounts: layout.new_accounts,
    });
    Ok(())
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
    let mut loader = Loader::new(GraphBuilder::new(session.config().target_partitions()));
    let mut rows = scan(session, source, provider, &SOURCE_COLUMNS).await?;
    while let Some(batch) = rows.next().await {
        add_rows(&mut loader, &batch?, &SOURCE_LAYOUT)?;
    }
    let members = &rules.options.members_table;
    let members_provider = if members.is_empty() || members == source {
        None
    } else {
        lookup(session, members).await?
    };
    if let Some(m) = members_provider {
        let has_all = MEMBER_COLUMNS
            .iter()
            .all(|c| m.schema().field_with_name(c).is_ok());
        if !has_all {
            return plan_err!(
                "{function}: the members table '{members}' lacks one of the columns {}",
                MEMBER_COLUMNS.join(", ")
            );
        }
        let mut rows = scan(session, members, m, &MEMBER_COLUMNS).await?;
        while let Some(batch) = rows.next().await {
            add_rows(&mut loader, &batch?, &MEMBER_LAYOUT)?;
        }
    }
    let mut graph = loader.finish().resolve(rules);
    if let (Some(name), Some(p)) = (previous, previous_provider) {
        let mut prev = PreviousMap::default();
        let mut rows = scan(session, name, p, &PREVIOUS_COLUMNS).await?;
        while let Some(batch) = rows.next().await {
            let batch = batch?;
            let text = |i| Text::of(&batch, i);
            let (platform, scope, account, person) = (text(0)?, text(1)?, text(2)?, text(3)?);
            let first = Millis::of(&batch, 4)?;
            for row in 0..batch.num_rows() {
                let (Some(p), Some(id), Some(person)) =
                    (platform.get(row), account.get(row), person.get(row))
                else {
                    continue;
                };
                let s = scope.get(row).unwrap_or("");
                prev.push(p, s, id, person, first.get(row).unwrap_or(i64::MAX));
            }
        }
        graph.carry_over(&prev);
    }
    Ok(graph)
}

/// Results with at least this many rows are scanned in parallel.
pub(crate) const PARALLEL_ROWS: usize = 1 << 16;

/// What a table function makes of a resolved graph: the columns asked for (indices into
/// its schema; none for `count(*)`), in that order.
/// Large answers come in several batches (built in parallel), read in parallel.
pub type Render = Arc<dyn Fn(&Graph, &[usize]) -> Result<Vec<RecordBatch>> + Send + Sync>;

/// The table a call of an identity table function returns: resolution runs when the
/// table is scanned, through the scanning session.
pub struct IdentityTable {
    pub function: &'static str,
    pub schema: SchemaRef,
    pub source: String,
    pub previous: Option<String>,
    pub rules: Arc<IdentityRules>,
    pub render: Render,
    /// The schema column that holds each account's person id (one row per account): the
    /// scan's statistics give its exact distinct count, the number of distinct ids.
    pub person_column: Option<usize>,
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
        let mut graph = resolve(
            state,
            self.function,
            &self.source,
            self.previous.as_deref(),
            &self.rules,
        )
        .await?;
        let schema = project_schema(&self.schema, projection)?;
        let columns: Vec<usize> = match projection {
            Some(p) => p.clone(),
            None => (0..self.schema.fields().len()).collect(),
        };
        let batches = (self.render)(&graph, &columns)?;
        let persons = self
            .person_column
            .and_then(|c| columns.iter().position(|&p| p == c))
            .map(|at| (at, std::mem::take(&mut graph.persons)));
        // Freeing a graph of millions of accounts takes a while: done on the side.
        parallel::drop_aside(graph);
        // Large results: the batches spread over the partitions (no copy) and read in
        // parallel (then in no particular order without ORDER BY); small ones stay one
        // partition, in order.
        let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
        let parts = match rows {
            0..PARALLEL_ROWS => 1,
            _ => batches.len().min(state.config().target_partitions()).max(1),
        };
        let mut partitions: Vec<Vec<RecordBatch>> = vec![Vec::new(); parts];
        // Each rendered batch stays in one partition, sliced (without copying) into
        // batches of the session's size, which the operators above are tuned for.
        let size = state.config().batch_size().max(1);
        for (i, batch) in batches.into_iter().enumerate() {
            let slices = (0..batch.num_rows()).step_by(size);
            partitions[i % parts]
                .extend(slices.map(|at| batch.slice(at, size.min(batch.num_rows() - at))));
        }
        Ok(Arc::new(ResolvedExec::new(
            self.function,
            partitions,
            schema,
            persons,
        )))
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
    fn max_phones_must_fit_the_union_find_count() {
        let with = |max_phones| {
            IdentityRules::new(&IdentityOptions {
                max_phones,
                ..IdentityOptions::default()
            })
        };
        assert!(with(1).is_ok() && with(65_534).is_ok());
        for bad in [0, 65_535] {
            let Err(err) = with(bad) else {
                panic!("max_phones {bad} accepted");
            };
            let err = err.to_string();
            assert!(
                err.contains("identity.max_phones must be between 1 and 65534"),
                "{err}"
            );
        }
    }

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
