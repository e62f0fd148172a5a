//! The tag catalog (`sql/tags/`, one tag per file) and `derive_tags('source',
//! base_date)`, which evaluates it.
//!
//! The files are embedded by `build.rs` from the directory listing, so adding a tag is
//! adding a file. Each file is one query over `:source` (a table or view with the
//! `events` columns plus `person_id`) for the base date `:base_date`, using only rows
//! strictly before it, with the columns `(person_id, value)`. `derive_tags` substitutes
//! both placeholders, wraps every file as `SELECT person_id, '<tag>' AS tag, value`,
//! and plans each through the session that scans it; they run one after another
//! ([`SequentialExec`]), so memory is that of the largest tag, not their sum.
//!
//! Why here and not in `udfs/src/table/`: evaluating the catalog means planning SQL
//! text, and the udfs crate is built without DataFusion's SQL frontend (the `sql`
//! feature); the engine crate has it, and it already ships the other SQL files
//! (`sql/platforms`). The helpers the tags use (`time_slot`, `value_band`,
//! `rfm_segment`, `most_frequent`, `top_n`) are ordinary functions in `udfs/`.

use std::sync::{Arc, LazyLock};

use async_trait::async_trait;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{Session, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{ScalarValue, TableReference, plan_err};
use datafusion::error::Result;
use datafusion::execution::SessionState;
use datafusion::logical_expr::{Documentation, Expr, LogicalPlanBuilder, TableType};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::SessionContext;
use datafusion_macros::user_doc;

mod sequential;
use sequential::SequentialExec;

/// Every `sql/tags/*.sql` file: (path relative to the crate, SQL), sorted by path.
pub const TAG_FILES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/tag_files.rs"));

const NAME: &str = "derive_tags";

/// The columns of the source the catalog reads.
pub const SOURCE_COLUMNS: [&str; 13] = [
    "person_id",
    "platform",
    "event_type",
    "event_ts",
    "dt",
    "category",
    "brand",
    "order_id",
    "amount_fen",
    "discount_fen",
    "watch_ms",
    "province",
    "channel",
];

/// The output schema: `(person_id, tag, value)`, all text.
pub fn schema() -> SchemaRef {
    static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
        Arc::new(Schema::new(vec![
            Field::new("person_id", DataType::Utf8, true),
            Field::new("tag", DataType::Utf8, false),
            Field::new("value", DataType::Utf8, true),
        ]))
    });
    Arc::clone(&SCHEMA)
}

/// A tag's name: its file stem.
fn tag_name(path: &str) -> &str {
    let file = path.rsplit('/').next().unwrap_or(path);
    file.strip_suffix(".sql").unwrap_or(file)
}

/// The names of the tags of the catalog, sorted.
pub fn tag_names() -> Vec<&'static str> {
    TAG_FILES.iter().map(|(path, _)| tag_name(path)).collect()
}

/// The SQL of one tag for `source` (already quoted) and `base_date` (`YYYY-MM-DD`).
pub fn tag_sql(sql: &str, source: &str, base_date: &str) -> String {
    sql.replace(":source", source)
        .replace(":base_date", &format!("DATE '{base_date}'"))
}

/// The query of one tag file: `(person_id, tag, value)`, rows with a NULL value dropped.
fn one_tag_sql(path: &str, sql: &str, source: &str, base_date: &str) -> String {
    let name = tag_name(path);
    let body = tag_sql(sql, source, base_date);
    let body = body.trim().trim_end_matches(';');
    format!(
        "SELECT CAST(person_id AS VARCHAR) AS person_id, '{name}' AS tag, \
         CAST(value AS VARCHAR) AS value FROM (\n{body}\n) WHERE value IS NOT NULL"
    )
}

#[user_doc(
    doc_section(label = "Tag Functions"),
    description = "Evaluates the tag catalog (`sql/tags/`, one tag per file) for a base \
    date: one row `(person_id, tag, value)` per tag that holds, computed only from rows \
    of `source` strictly before `base_date`. Tags: `region`, `top_category` (90 days), \
    `active_slot` (30 days), `live_engagement`, `platform_mix`, `last_active_platform`, \
    `aov_band`, `repurchase_band`, `rfm_class` (365 days), `price_sensitive`, \
    `brand_loyal`, `churned_on`, `cart_abandoned` (24 hours), `lurker`; README.md \
    describes each rule.",
    syntax_example = "derive_tags('source', base_date)",
    sql_example = r#"```sql
> SELECT tag, value, count(*) FROM derive_tags('people_events', DATE '2026-10-15')
  GROUP BY 1, 2 ORDER BY 1, 3 DESC;
```"#,
    argument(
        name = "source",
        description = "Table or view with the `events` columns and `person_id` (e.g. \
        `people_events`), as a string constant."
    ),
    argument(
        name = "base_date",
        description = "Constant date (`DATE '2026-10-15'` or `'2026-10-15'`)."
    )
)]
#[derive(Debug, Default)]
pub struct DeriveTagsFunc;

/// `YYYY-MM-DD` of a constant date argument.
fn base_date_arg(expr: &Expr) -> Result<String> {
    let text = match expr {
        Expr::Literal(ScalarValue::Date32(Some(days)), _) => {
            return ScalarValue::Date32(Some(*days))
                .cast_to(&DataType::Utf8)
                .map(|v| v.to_string());
        }
        Expr::Literal(value, _) => value.try_as_str().flatten(),
        Expr::Cast(cast) if cast.field.data_type() == &DataType::Date32 => match cast.expr.as_ref()
        {
            Expr::Literal(value, _) => value.try_as_str().flatten(),
            _ => None,
        },
        _ => None,
    };
    let Some(text) = text else {
        return plan_err!(
            "{NAME}: argument 2 (base_date) must be a constant date, e.g. DATE '2026-10-15'"
        );
    };
    let shaped = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    let valid = shaped
        && ScalarValue::Utf8(Some(text.into()))
            .cast_to(&DataType::Date32)
            .is_ok();
    if !valid {
        return plan_err!("{NAME}: argument 2 (base_date) must be a date YYYY-MM-DD, got '{text}'");
    }
    Ok(text.to_string())
}

impl TableFunctionImpl for DeriveTagsFunc {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let [source, base_date] = args.exprs() else {
            return plan_err!(
                "{NAME}: expected 2 arguments ('source', base_date), got {}",
                args.exprs().len()
            );
        };
        let source = match source {
            Expr::Literal(value, _) => value.try_as_str().flatten(),
            _ => None,
        };
        let Some(source) = source else {
            return plan_err!(
                "{NAME}: argument 1 (source) must be a table or view name as a string \
                 constant, e.g. 'people_events'"
            );
        };
        Ok(Arc::new(TagTable {
            source: source.to_string(),
            base_date: base_date_arg(base_date)?,
        }))
    }
}

/// The table a call returns: the catalog is planned when the table is scanned.
#[derive(Debug)]
struct TagTable {
    source: String,
    base_date: String,
}

impl TagTable {
    /// The source, quoted for SQL, once it is known to exist with the catalog's columns.
    async fn checked_source(&self, session: &dyn Session) -> Result<String> {
        let options = session.config_options();
        let reference = TableReference::parse_str(&self.source).resolve(
            &options.catalog.default_catalog,
            &options.catalog.default_schema,
        );
        let provider = match session
            .catalog_list()
            .catalog(&reference.catalog)
            .and_then(|c| c.schema(&reference.schema))
        {
            Some(schema) => schema.table(&reference.table).await?,
            None => None,
        };
        let Some(provider) = provider else {
            return plan_err!(
                "{NAME}: argument 1: table or view '{}' not found",
                self.source
            );
        };
        let schema = provider.schema();
        let missing: Vec<&str> = SOURCE_COLUMNS
            .into_iter()
            .filter(|c| schema.field_with_name(c).is_err())
            .collect();
        if !missing.is_empty() {
            return plan_err!(
                "{NAME}: argument 1: '{}' lacks the column(s) {} (the source needs the \
                 events columns and person_id, e.g. people_events)",
                self.source,
                missing.join(", ")
            );
        }
        Ok(TableReference::from(reference).to_quoted_string())
    }
}

#[async_trait]
impl TableProvider for TagTable {
    fn schema(&self) -> SchemaRef {
        schema()
    }

    fn table_type(&self) -> TableType {
        TableType::Temporary
    }

    async fn scan(
        &self,
        session: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let Some(state) = session.as_any().downcast_ref::<SessionState>() else {
            return plan_err!("{NAME}: needs a DataFusion SessionState to plan the catalog");
        };
        let source = self.checked_source(session).await?;
        // One plan per tag, run one after another (see `SequentialExec`).
        let mut plans = Vec::with_capacity(TAG_FILES.len());
        for (path, sql) in TAG_FILES {
            let sql = one_tag_sql(path, sql, &source, &self.base_date);
            let mut plan = LogicalPlanBuilder::from(state.create_logical_plan(&sql).await?);
            if let Some(projection) = projection {
                plan = plan.select(projection.iter().copied())?;
            }
            plans.push(state.create_physical_plan(&plan.build()?).await?);
        }
        let schema = match projection {
            Some(p) => Arc::new(schema().project(p)?),
            None => schema(),
        };
        Ok(Arc::new(SequentialExec::new(schema, plans)))
    }
}

/// Documentation of `derive_tags`.
pub fn documentation() -> Option<&'static Documentation> {
    DeriveTagsFunc.doc()
}

/// Registers `derive_tags` with `ctx`.
pub fn register(ctx: &SessionContext) {
    ctx.register_udtf(NAME, Arc::new(DeriveTagsFunc));
}

#[cfg(test)]
mod tests {
    use datafusion::logical_expr::{cast, lit};

    use super::*;

    #[test]
    fn every_tag_of_the_directory_is_embedded() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sql/tags");
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .expect("sql/tags")
            .flatten()
            .filter_map(|e| {
                let p = e.path();
                (p.extension()? == "sql").then(|| p.file_stem()?.to_str().map(String::from))?
            })
            .collect();
        on_disk.sort();
        assert_eq!(tag_names(), on_disk);
        for (path, sql) in TAG_FILES {
            let name = tag_name(path);
            assert!(
                name.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{path}: a tag name is lower-case letters, digits and _"
            );
            assert!(sql.contains(":source"), "{name} does not read :source");
            assert!(sql.contains(":base_date"), "{name} ignores :base_date");
        }
    }

    #[test]
    fn base_date_forms() {
        assert_eq!(
            base_date_arg(&lit("2026-10-15")).expect("text"),
            "2026-10-15"
        );
        let date = cast(lit("2026-10-15"), DataType::Date32);
        assert_eq!(base_date_arg(&date).expect("DATE"), "2026-10-15");
        let days = Expr::Literal(ScalarValue::Date32(Some(20_376)), None);
        assert_eq!(base_date_arg(&days).expect("date32"), "2025-10-15");
        for bad in ["2026-13-01", "15/10/2026", "2026-10-1", ""] {
            let err = base_date_arg(&lit(bad)).unwrap_err().to_string();
            assert!(err.contains("argument 2 (base_date)"), "{bad}: {err}");
        }
        let err = base_date_arg(&lit(3)).unwrap_err().to_string();
        assert!(err.contains("must be a constant date"), "{err}");
    }
}
