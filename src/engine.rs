//! The engine: a DataFusion session with plinkdb's functions, the catalog of sources and
//! the platform views.
//!
//! ```no_run
//! # async fn demo() -> plinkdb::Result<()> {
//! use plinkdb::Engine;
//!
//! // The checked-in sample; `Engine::open(Config::from_file(path)?)` for a real setup.
//! let engine = Engine::open_default().await?;
//! let batches = engine
//!     .query("SELECT platform, count(*) AS n FROM events GROUP BY platform")
//!     .await?;
//! let table = datafusion::arrow::util::pretty::pretty_format_batches(&batches)
//!     .map_err(datafusion::error::DataFusionError::from)?;
//! println!("{table}");
//!
//! // The DataFusion session is yours to extend.
//! let ctx = engine.context();
//! ctx.sql("CREATE VIEW paid AS SELECT * FROM events WHERE event_type = 'order_paid'")
//!     .await?;
//! # Ok(())
//! # }
//! ```

use std::path::PathBuf;
use std::sync::Arc;

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::memory_pool::FairSpillPool;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{DataFrame, SessionConfig, SessionContext};
use datafusion::sql::parser::{DFParser, Statement};
use datafusion::sql::sqlparser::dialect::GenericDialect;

use crate::catalog::{self, DatasetTables};
use crate::config::{Config, parse_bytes};
use crate::error::{Error, Result};

/// An open plinkdb database.
pub struct Engine {
    ctx: SessionContext,
    config: Config,
    data_root: Option<String>,
    dataset: Option<DatasetTables>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("data_root", &self.data_root)
            .finish_non_exhaustive()
    }
}

/// Where the checked-in sample dataset lives.
pub fn sample_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("datasets/sample")
}

impl Engine {
    /// Opens the engine on the checked-in sample dataset.
    ///
    /// # Errors
    /// When the sample is missing or unreadable.
    pub async fn open_default() -> Result<Self> {
        let root = sample_dir();
        if !root.is_dir() {
            return Err(Error::Usage(format!(
                "the built-in sample dataset is missing ({}); pass --data DIR or --config \
                 FILE",
                root.display()
            )));
        }
        Self::open(Config::with_data_root(root.to_string_lossy())).await
    }

    /// Opens the engine for `config`.
    ///
    /// # Errors
    /// A bad engine setting, or the first store, source or view that fails.
    pub async fn open(config: Config) -> Result<Self> {
        let ctx = new_context(&config)?;
        let secret_key = std::env::var(&config.engine.secret_key_env)
            .ok()
            .filter(|k| !k.is_empty())
            .map(String::into_bytes);
        let options = plinkdb_udfs::UdfOptions {
            secret_key,
            secret_key_env: Some(config.engine.secret_key_env.clone()),
            identity: config.identity.options(),
            tolerance: config.tolerance.options(),
        };
        plinkdb_udfs::register_all_with(&ctx, &options)?;
        crate::tags::register(&ctx);
        let data_root = config
            .data
            .as_ref()
            .map(|d| config.resolve_location(&d.root));
        let dataset = catalog::register_config(&ctx, &config, data_root.as_deref()).await?;
        if let Some(dataset) = &dataset {
            crate::platforms::create_views(&ctx, &dataset.platforms).await?;
        }
        if config.jobs.is_some() {
            crate::jobs::register_published(&ctx, &config).await?;
        }
        Ok(Self {
            ctx,
            config,
            data_root,
            dataset,
        })
    }

    /// The DataFusion session: register more tables or functions, build DataFrames.
    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }

    /// The configuration the engine was opened with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The dataset root in use, if any.
    pub fn data_root(&self) -> Option<&str> {
        self.data_root.as_deref()
    }

    /// Whether the dataset carries the generator's ground truth (`truth.*` tables).
    pub fn has_truth(&self) -> bool {
        self.dataset.as_ref().is_some_and(|d| d.has_truth)
    }

    /// Plans one SQL statement (DDL runs at once, as in DataFusion).
    ///
    /// # Errors
    /// A statement that does not parse or plan.
    pub async fn sql(&self, sql: &str) -> Result<DataFrame> {
        Ok(self.ctx.sql(sql).await?)
    }

    /// Runs one SQL query and collects its result.
    ///
    /// # Errors
    /// A statement that does not parse, plan or execute.
    pub async fn query(&self, sql: &str) -> Result<Vec<RecordBatch>> {
        Ok(self.sql(sql).await?.collect().await?)
    }

    /// Plans a parsed statement (see [`split_statements`]).
    ///
    /// # Errors
    /// A statement that does not plan.
    pub async fn statement(&self, statement: Statement) -> Result<DataFrame> {
        let plan = self.ctx.state().statement_to_plan(statement).await?;
        Ok(self.ctx.execute_logical_plan(plan).await?)
    }
}

/// Splits a `;`-separated script into statements.
///
/// # Errors
/// A syntax error, with DataFusion's message (line and column).
pub fn split_statements(sql: &str) -> Result<Vec<Statement>> {
    let statements = DFParser::parse_sql_with_dialect(sql, &GenericDialect {})?;
    Ok(statements.into_iter().collect())
}

fn new_context(config: &Config) -> Result<SessionContext> {
    let mut session = SessionConfig::new()
        .with_information_schema(true)
        .with_create_default_catalog_and_schema(true);
    if let Some(n) = config.engine.target_partitions {
        session = session.with_target_partitions(n.max(1));
    }
    let options = session.options_mut();
    // Ids and names are plain Utf8 end to end (DESIGN.md), also over Flight SQL, whose
    // older clients cannot read Utf8View.
    options.execution.parquet.schema_force_view_types = false;
    options.sql_parser.map_string_types_to_utf8view = false;
    options.execution.parquet.pushdown_filters = false;
    let mut runtime = RuntimeEnvBuilder::new();
    if let Some(limit) = &config.engine.memory_limit {
        let bytes = parse_bytes(limit).map_err(Error::Usage)?;
        runtime = runtime.with_memory_pool(Arc::new(FairSpillPool::new(bytes)));
    }
    let runtime = runtime.build_arc()?;
    let state = SessionStateBuilder::new()
        .with_config(session)
        .with_runtime_env(runtime)
        .with_default_features()
        .with_physical_optimizer_rules(plinkdb_udfs::physical_optimizer_rules())
        .build();
    let ctx = SessionContext::new_with_state(state);
    Ok(if config.engine.url_tables {
        ctx.enable_url_table()
    } else {
        ctx
    })
}
