//! The application-level error: one enum, each variant a one-paragraph message that names
//! the file, key, source or store involved.

use std::path::PathBuf;

use datafusion::error::DataFusionError;

/// Result alias for the engine and CLI.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong outside a SQL function.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration file cannot be read or is not valid.
    #[error("config {path}: {message}")]
    Config { path: PathBuf, message: String },

    /// A source could not be registered (missing path, unreadable or corrupt file,
    /// schema that does not match its platform view, ...).
    #[error("source '{name}' at {location}: {message}")]
    Source {
        name: String,
        location: String,
        message: String,
    },

    /// An object store could not be set up or reached.
    #[error("object store {url}: {message}")]
    Store { url: String, message: String },

    /// A local file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A scheduled job failed: which job, for which date, at which statement or step.
    #[error("job '{job}' for {date} failed at {stage}: {message}")]
    Job {
        job: String,
        date: String,
        stage: String,
        message: String,
    },

    /// The user asked for something that does not make sense.
    #[error("{0}")]
    Usage(String),

    /// The dataset generator failed.
    #[error(transparent)]
    Generate(#[from] plinkdb_datasets::GenError),

    /// A query failed; the message is DataFusion's, without a backtrace.
    #[error("{}", clean_datafusion_message(.0))]
    DataFusion(#[from] DataFusionError),
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}

/// DataFusion's message without the backtrace it may carry and without repeated
/// "External error: " wrappers.
pub fn clean_datafusion_message(error: &DataFusionError) -> String {
    let message = error.strip_backtrace();
    message.trim().to_string()
}
