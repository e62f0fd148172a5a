//! `plinkdb query`: run a script, print each result.

use std::io::Read;
use std::path::{Path, PathBuf};

use clap::Args;
use datafusion::sql::parser::Statement;

use super::output::{OutputFormat, ResultWriter};
use super::{Source, progress};
use crate::engine::{Engine, split_statements};
use crate::error::{Error, Result};

#[derive(Debug, Args)]
pub struct QueryArgs {
    #[command(flatten)]
    pub source: Source,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: OutputFormat,
    /// Write results to this file (written to a temporary file, then renamed).
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,
    /// Read the SQL from a file (`-` for stdin).
    #[arg(long, short = 'f', conflicts_with = "sql")]
    pub file: Option<PathBuf>,
    /// The SQL to run.
    pub sql: Option<String>,
}

pub async fn run(args: QueryArgs) -> Result<()> {
    let sql = match (&args.sql, &args.file) {
        (Some(sql), _) => sql.clone(),
        (None, Some(path)) if path.as_os_str() == "-" => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| Error::io("<stdin>", e))?;
            text
        }
        (None, Some(path)) => std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?,
        (None, None) => {
            return Err(Error::Usage(
                "plinkdb query needs SQL: plinkdb query \"SELECT ...\" or -f FILE".into(),
            ));
        }
    };
    let statements = split_statements(&sql)?;
    if args.format == OutputFormat::Parquet && args.output.is_none() {
        use std::io::IsTerminal;
        if std::io::stdout().is_terminal() {
            return Err(Error::Usage(
                "--format parquet needs --output FILE (or stdout redirected to a file)".into(),
            ));
        }
    }
    let engine = args.source.open().await?;
    match &args.output {
        None => {
            let writer = ResultWriter::new(args.format, Box::new(std::io::stdout()));
            run_statements(&engine, statements, writer).await
        }
        Some(path) => {
            let tmp = temp_path(path);
            let file = std::fs::File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
            let writer = ResultWriter::new(
                args.format,
                Box::new(std::io::BufWriter::with_capacity(1 << 20, file)),
            );
            let result = run_statements(&engine, statements, writer).await;
            match result {
                Ok(()) => std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e)),
                Err(e) => {
                    let _ = std::fs::remove_file(&tmp);
                    Err(e)
                }
            }
        }
    }
}

/// A sibling path for writing before the atomic rename.
pub fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

/// Runs statements in order; prints each result set. Statements without a result
/// schema (DDL, SET) print nothing.
pub async fn run_statements(
    engine: &Engine,
    statements: Vec<Statement>,
    mut writer: ResultWriter,
) -> Result<()> {
    let total = statements.len();
    for (i, statement) in statements.into_iter().enumerate() {
        let label = format!("statement {}/{total}", i + 1);
        let spinner = progress::spinner(&label);
        let df = engine.statement(statement).await?;
        if df.schema().fields().is_empty() {
            // DDL, SET: run it, print nothing
            df.collect().await?;
        } else {
            let stream = df.execute_stream().await?;
            writer
                .write_stream(stream, |rows| {
                    spinner.set_message(format!("{label}: {rows} rows"));
                })
                .await?;
        }
        spinner.finish_and_clear();
    }
    writer.finish()
}
