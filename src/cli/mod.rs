//! The `plinkdb` command line: `query`, `shell`, `demo`, `serve`, `datasets generate`,
//! `jobs`.

mod datasets;
mod demo;
mod jobs;
pub mod output;
pub mod progress;
mod query;
mod serve;
mod shell;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::{Config, DataConfig};
use crate::engine::Engine;
use crate::error::Result;
pub use output::OutputFormat;

/// plinkdb: SQL over every live-commerce platform's exports, people instead of accounts.
#[derive(Debug, Parser)]
#[command(name = "plinkdb", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Where the data comes from; shared by every command that opens the engine.
#[derive(Debug, Clone, Args)]
pub struct Source {
    /// Config file (plinkdb.toml); also $PLINKDB_CONFIG.
    #[arg(long, short = 'c', global = true, env = "PLINKDB_CONFIG")]
    pub config: Option<PathBuf>,
    /// A dataset directory or URL in the generator's layout (overrides [data] root).
    #[arg(long, global = true, env = "PLINKDB_DATA")]
    pub data: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run SQL statements (;-separated) and print each query's result.
    Query(query::QueryArgs),
    /// An interactive SQL shell with history and multi-line statements.
    Shell(shell::ShellArgs),
    /// The whole story on the checked-in sample, as a readable report.
    Demo(demo::DemoArgs),
    /// Serve the session to BI tools over Arrow Flight SQL (ADBC, JDBC, Superset).
    Serve(serve::ServeArgs),
    /// Synthetic datasets.
    #[command(subcommand)]
    Datasets(datasets::DatasetsCommand),
    /// Scheduled SQL jobs: list, run (with backfills), schedule.
    #[command(subcommand)]
    Jobs(jobs::JobsCommand),
}

/// Runs a parsed command line.
///
/// # Errors
/// Whatever the command reports; `main` prints it as one paragraph.
pub async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Query(args) => query::run(args).await,
        Command::Shell(args) => shell::run(args).await,
        Command::Demo(args) => demo::run(args).await,
        Command::Serve(args) => serve::run(args).await,
        Command::Datasets(command) => datasets::run(command),
        Command::Jobs(command) => jobs::run(command).await,
    }
}

impl Source {
    /// Opens the engine on [`Source::config`].
    ///
    /// # Errors
    /// The config or any source fails to load.
    pub async fn open(&self) -> Result<Engine> {
        open_engine(self.config()?).await
    }

    /// The configuration: config file, then `--data`, else the checked-in sample.
    ///
    /// # Errors
    /// The config file cannot be read or is invalid.
    pub fn config(&self) -> Result<Config> {
        let mut config = match &self.config {
            Some(path) => Config::from_file(path)?,
            None => Config::default(),
        };
        if let Some(root) = &self.data {
            let root = if root.contains("://") {
                root.clone()
            } else {
                std::path::absolute(root)
                    .map_err(|e| crate::error::Error::io(root, e))?
                    .to_string_lossy()
                    .into_owned()
            };
            config.data = Some(DataConfig { root });
        }
        if config.data.is_none() && config.sources.is_empty() {
            config.data = Some(DataConfig {
                root: crate::engine::sample_dir().to_string_lossy().into_owned(),
            });
        }
        Ok(config)
    }
}

/// Opens the engine for `config` behind a spinner.
async fn open_engine(config: Config) -> Result<Engine> {
    let spinner = progress::spinner("opening sources");
    let engine = Engine::open(config).await;
    spinner.finish_and_clear();
    engine
}
