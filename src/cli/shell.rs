//! `plinkdb shell`: interactive SQL with history, multi-line statements and a few
//! backslash commands.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use rustyline::DefaultEditor;
use rustyline::error::ReadlineError;

use super::Source;
use super::output::{OutputFormat, ResultWriter};
use super::query::run_statements;
use crate::engine::{Engine, split_statements};
use crate::error::{Error, Result};

#[derive(Debug, Args)]
pub struct ShellArgs {
    #[command(flatten)]
    pub source: Source,
    /// Output format for results.
    #[arg(long, value_enum, default_value = "table")]
    pub format: OutputFormat,
}

const HELP: &str = "\
Statements end with ';' and may span lines.
  \\d            list tables and views
  \\d NAME       describe a table
  \\f FORMAT     output format: table, csv, json
  \\q            quit (or Ctrl-D)
Ctrl-C cancels the running statement or the current input.";

fn history_path() -> Option<PathBuf> {
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".plinkdb_history"))
}

pub async fn run(args: ShellArgs) -> Result<()> {
    let engine = args.source.open().await?;
    let mut format = args.format;
    let mut editor =
        DefaultEditor::new().map_err(|e| Error::Usage(format!("cannot start the shell: {e}")))?;
    let history = history_path();
    if let Some(path) = &history {
        let _ = editor.load_history(path);
    }
    eprintln!(
        "plinkdb {} on {}. \\? for help.",
        env!("CARGO_PKG_VERSION"),
        engine.data_root().unwrap_or("configured sources")
    );
    let mut buffer = String::new();
    loop {
        let prompt = if buffer.is_empty() {
            "plinkdb> "
        } else {
            "     ..> "
        };
        match editor.readline(prompt) {
            Ok(line) => {
                let trimmed = line.trim();
                if buffer.is_empty() && trimmed.starts_with('\\') {
                    let _ = editor.add_history_entry(trimmed);
                    match backslash(&engine, trimmed, &mut format).await {
                        Ok(true) => break,
                        Ok(false) => {}
                        Err(e) => eprintln!("error: {e}"),
                    }
                    continue;
                }
                if trimmed.is_empty() && buffer.is_empty() {
                    continue;
                }
                buffer.push_str(&line);
                buffer.push('\n');
                if trimmed.ends_with(';') {
                    let sql = std::mem::take(&mut buffer);
                    let _ = editor.add_history_entry(sql.trim());
                    run_cancellable(&engine, &sql, format).await;
                }
            }
            Err(ReadlineError::Interrupted) => buffer.clear(),
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(Error::Usage(format!("shell input failed: {e}"))),
        }
    }
    if let Some(path) = &history {
        let _ = editor.save_history(path);
    }
    Ok(())
}

async fn run_cancellable(engine: &Engine, sql: &str, format: OutputFormat) {
    let started = Instant::now();
    let work = async {
        let statements = split_statements(sql)?;
        let writer = ResultWriter::new(format, Box::new(std::io::stdout()));
        run_statements(engine, statements, writer).await
    };
    tokio::select! {
        result = work => match result {
            Ok(()) => eprintln!("({:.3}s)", started.elapsed().as_secs_f64()),
            Err(e) => eprintln!("error: {e}"),
        },
        _ = tokio::signal::ctrl_c() => eprintln!("cancelled"),
    }
}

/// Handles a backslash command; `Ok(true)` means quit.
async fn backslash(engine: &Engine, command: &str, format: &mut OutputFormat) -> Result<bool> {
    let mut parts = command.split_whitespace();
    let name = parts.next().unwrap_or_default();
    let arg = parts.next();
    let sql = match (name, arg) {
        ("\\q", _) => return Ok(true),
        ("\\?" | "\\h", _) => {
            eprintln!("{HELP}");
            return Ok(false);
        }
        ("\\f", Some(f)) => {
            *format = match f {
                "table" => OutputFormat::Table,
                "csv" => OutputFormat::Csv,
                "json" => OutputFormat::Json,
                other => return Err(Error::Usage(format!("unknown format '{other}'"))),
            };
            return Ok(false);
        }
        ("\\d", None) => "SELECT table_schema, table_name, table_type \
             FROM information_schema.tables \
             WHERE table_schema <> 'information_schema' ORDER BY 1, 2;"
            .to_string(),
        ("\\d", Some(table)) => {
            let (schema, table) = table.split_once('.').unwrap_or(("public", table));
            format!(
                "SELECT column_name, data_type, is_nullable FROM information_schema.columns \
                 WHERE table_schema = '{}' AND table_name = '{}' ORDER BY ordinal_position;",
                schema.replace('\'', "''"),
                table.replace('\'', "''")
            )
        }
        _ => {
            return Err(Error::Usage(format!(
                "unknown command {command}; \\? for help"
            )));
        }
    };
    run_cancellable(engine, &sql, *format).await;
    Ok(false)
}
