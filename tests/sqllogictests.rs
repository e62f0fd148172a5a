//! Runs every `tests/slt/**/*.slt` file against a fresh engine on the checked-in sample
//! (the same session the product builds). `cargo test --test sqllogictests -- --complete`
//! rewrites the expected results; a file name filter may follow.

use std::path::{Path, PathBuf};

use datafusion::arrow::array::Array;
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use plinkdb::{Engine, Error};
use sqllogictest::{DBOutput, DefaultColumnType, Runner};

struct PlinkDb {
    engine: Engine,
}

#[async_trait::async_trait]
impl sqllogictest::AsyncDB for PlinkDb {
    type Error = Error;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, Error> {
        let df = self.engine.sql(sql).await?;
        let schema = df.schema().inner().clone();
        let batches = df.collect().await?;
        if schema.fields().is_empty() {
            return Ok(DBOutput::StatementComplete(0));
        }
        let types = schema
            .fields()
            .iter()
            .map(|f| column_type(f.data_type()))
            .collect();
        let options = FormatOptions::default().with_null("NULL");
        let mut rows = Vec::new();
        for batch in &batches {
            let formatters = batch
                .columns()
                .iter()
                .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
                .collect::<Result<Vec<_>, _>>()
                .map_err(datafusion::error::DataFusionError::from)?;
            for row in 0..batch.num_rows() {
                rows.push(
                    formatters
                        .iter()
                        .zip(batch.columns())
                        .map(|(f, column)| {
                            let text = f.value(row).to_string();
                            if text.is_empty() && !column.is_null(row) {
                                "(empty)".to_string()
                            } else {
                                text
                            }
                        })
                        .collect(),
                );
            }
        }
        Ok(DBOutput::Rows { types, rows })
    }

    async fn shutdown(&mut self) {}

    fn engine_name(&self) -> &str {
        "plinkdb"
    }
}

fn column_type(data_type: &DataType) -> DefaultColumnType {
    match data_type {
        t if t.is_integer() => DefaultColumnType::Integer,
        t if t.is_floating() || matches!(t, DataType::Decimal128(..)) => {
            DefaultColumnType::FloatingPoint
        }
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => DefaultColumnType::Text,
        _ => DefaultColumnType::Any,
    }
}

/// The `# dataset: FILE` directive on an .slt file's first line: a SQL script that writes
/// a literal dataset under `${DATA}`.
fn dataset_directive(file: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(file).ok()?;
    let first = text.lines().next()?;
    let script = first.strip_prefix("# dataset:")?.trim();
    Some(Path::new(env!("CARGO_MANIFEST_DIR")).join(script))
}

/// Writes the literal dataset of `script` into `dir`.
async fn write_dataset(script: &Path, dir: &Path) -> Result<(), Error> {
    let sql = std::fs::read_to_string(script).map_err(|e| plinkdb::Error::Io {
        path: script.to_path_buf(),
        source: e,
    })?;
    let sql = sql.replace("${DATA}", &dir.to_string_lossy());
    let bare = Engine::open(plinkdb::Config::default()).await?;
    for statement in plinkdb::engine::split_statements(&sql)? {
        bare.statement(statement).await?.collect().await?;
    }
    Ok(())
}

async fn open_engine(dataset: Option<&Path>) -> Result<Engine, Error> {
    match dataset {
        Some(dir) => Engine::open(plinkdb::Config::with_data_root(dir.to_string_lossy())).await,
        None => Engine::open_default().await,
    }
}

fn slt_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            slt_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "slt") {
            out.push(path);
        }
    }
}

fn main() -> std::process::ExitCode {
    // The checked-in sample's phone keys were made with the public demo key.
    if std::env::var_os("PLINKDB_SECRET_KEY").is_none() {
        // SAFETY: no other thread exists yet (the runtime starts below).
        unsafe { std::env::set_var("PLINKDB_SECRET_KEY", "plinkdb-demo-key") };
    }
    match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime.block_on(run()),
        Err(e) => {
            println!("cannot start a runtime: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let complete = args.iter().any(|a| a == "--complete");
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/slt");
    let mut files = Vec::new();
    slt_files(&root, &mut files);
    files.sort();
    files.retain(|f| {
        filters.is_empty()
            || filters
                .iter()
                .any(|flt| f.to_string_lossy().contains(flt.as_str()))
    });
    let (mut passed, mut failed) = (0, 0);
    for file in &files {
        let name = file
            .strip_prefix(&root)
            .unwrap_or(file)
            .display()
            .to_string();
        let dataset = match dataset_directive(file) {
            None => None,
            Some(script) => {
                let dir = tempfile::tempdir().expect("a temporary directory");
                if let Err(e) = write_dataset(&script, dir.path()).await {
                    failed += 1;
                    println!("FAILED {name}: cannot write {}: {e}", script.display());
                    continue;
                }
                Some(dir)
            }
        };
        let data_dir = dataset.as_ref().map(|d| d.path().to_path_buf());
        let mut runner = Runner::new(|| {
            let data_dir = data_dir.clone();
            async move {
                Ok(PlinkDb {
                    engine: open_engine(data_dir.as_deref()).await?,
                })
            }
        });
        let result = if complete {
            runner
                .update_test_file(
                    file,
                    " ",
                    sqllogictest::default_validator,
                    sqllogictest::default_normalizer,
                    sqllogictest::default_column_validator,
                )
                .await
                .map_err(|e| e.to_string())
        } else {
            runner
                .run_file_async(file)
                .await
                .map_err(|e| e.display(true).to_string())
        };
        match result {
            Ok(()) => {
                passed += 1;
                println!("ok     {name}");
            }
            Err(e) => {
                failed += 1;
                println!("FAILED {name}\n{e}");
            }
        }
    }
    println!("sqllogictests: {passed} passed, {failed} failed");
    if failed == 0 && passed > 0 {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}
