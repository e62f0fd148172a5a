//! Errors of the generator. Every message is one sentence that names the path
//! involved; underlying causes are rendered with their `Display` text.

use std::path::PathBuf;

/// Why a dataset could not be generated.
#[derive(Debug, thiserror::Error)]
pub enum GenError {
    /// An argument is out of range.
    #[error("{0}")]
    InvalidConfig(String),
    /// The output directory exists, is not empty, and overwriting was not requested.
    #[error("output directory {} already exists and is not empty; pass --force to replace it", .path.display())]
    OutputExists {
        /// The output directory.
        path: PathBuf,
    },
    /// The output path exists and is a file.
    #[error("output path {} exists and is not a directory", .path.display())]
    NotADirectory {
        /// The output path.
        path: PathBuf,
    },
    /// A file-system operation failed.
    #[error("could not {action} {}: {cause}", .path.display())]
    Io {
        /// What was being done ("create directory", "write file", ...).
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        cause: std::io::Error,
    },
    /// Encoding a parquet file failed.
    #[error("could not write parquet file {}: {cause}", .path.display())]
    Parquet {
        /// The file being written.
        path: PathBuf,
        /// The underlying error.
        cause: parquet::errors::ParquetError,
    },
    /// Assembling a record batch failed (a bug in the generator).
    #[error("could not assemble the rows of {}: {cause}", .path.display())]
    Arrow {
        /// The file the rows were meant for.
        path: PathBuf,
        /// The underlying error.
        cause: arrow::error::ArrowError,
    },
    /// A worker thread panicked.
    #[error("a generator thread crashed while writing into {}; any previous output was left untouched", .path.display())]
    WorkerPanicked {
        /// The temporary directory being written.
        path: PathBuf,
    },
}

impl GenError {
    /// Shorthand for [`GenError::Io`].
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        cause: std::io::Error,
    ) -> GenError {
        GenError::Io {
            action,
            path: path.into(),
            cause,
        }
    }
}
