//! Parquet writing and the atomic output directory.

use crate::error::GenError;
use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use std::fs::{self, File};
use std::io::BufWriter;
use std::path::{Path, PathBuf};

/// Rows per row group.
pub const ROW_GROUP_ROWS: usize = 128 * 1024;

/// Writer settings of every file: ZSTD level 1, dictionary encoding, row groups
/// of [`ROW_GROUP_ROWS`].
pub fn props() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_dictionary_enabled(true)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .build()
}

/// Creates a directory and its parents.
pub fn create_dir(path: &Path) -> Result<(), GenError> {
    fs::create_dir_all(path).map_err(|e| GenError::io("create directory", path, e))
}

/// Writes one batch as a parquet file (creating its directory); returns its size.
pub fn write_parquet(path: &Path, batch: &RecordBatch) -> Result<u64, GenError> {
    let perr = |cause| GenError::Parquet {
        path: path.to_path_buf(),
        cause,
    };
    let mut w = ArrowWriter::try_new(Vec::new(), batch.schema(), Some(props())).map_err(perr)?;
    w.write(batch).map_err(perr)?;
    let bytes = w.into_inner().map_err(perr)?;
    if let Some(dir) = path.parent() {
        create_dir(dir)?;
    }
    fs::write(path, &bytes).map_err(|e| GenError::io("write file", path, e))?;
    Ok(bytes.len() as u64)
}

/// A parquet file written batch by batch (for the tables that gather all chunks).
pub struct ParquetStream {
    path: PathBuf,
    writer: ArrowWriter<BufWriter<File>>,
}

impl ParquetStream {
    /// Creates the file (and its directory).
    pub fn create(path: PathBuf, schema: SchemaRef) -> Result<ParquetStream, GenError> {
        if let Some(dir) = path.parent() {
            create_dir(dir)?;
        }
        let file = File::create(&path).map_err(|e| GenError::io("create file", &path, e))?;
        let writer =
            ArrowWriter::try_new(BufWriter::new(file), schema, Some(props())).map_err(|cause| {
                GenError::Parquet {
                    path: path.clone(),
                    cause,
                }
            })?;
        Ok(ParquetStream { path, writer })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends rows.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), GenError> {
        self.writer.write(batch).map_err(|cause| GenError::Parquet {
            path: self.path.clone(),
            cause,
        })
    }

    /// Finishes the file; returns its size.
    pub fn close(self) -> Result<u64, GenError> {
        let path = self.path;
        let buf = self
            .writer
            .into_inner()
            .map_err(|cause| GenError::Parquet {
                path: path.clone(),
                cause,
            })?;
        let file = buf
            .into_inner()
            .map_err(|e| GenError::io("write file", &path, e.into_error()))?;
        file.sync_all()
            .map_err(|e| GenError::io("write file", &path, e))?;
        let len = file
            .metadata()
            .map_err(|e| GenError::io("read the size of", &path, e))?
            .len();
        Ok(len)
    }
}

/// A temporary sibling directory that becomes the output directory on
/// [`Staging::commit`] and is deleted if dropped before that (error or panic).
pub struct Staging {
    tmp: PathBuf,
    committed: bool,
}

/// `<dir>/<name><suffix>` next to `path`.
fn sibling(path: &Path, suffix: &str) -> Result<PathBuf, GenError> {
    let name = path.file_name().ok_or_else(|| {
        GenError::InvalidConfig(format!(
            "output path {} must name a directory (it cannot end in `..` or be a root)",
            path.display()
        ))
    })?;
    let mut s = name.to_os_string();
    s.push(suffix);
    Ok(path.with_file_name(s))
}

/// Whether `path` exists and is a non-empty directory (errors if it is a file).
fn non_empty_dir(path: &Path) -> Result<bool, GenError> {
    match fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(GenError::io("inspect", path, e)),
        Ok(m) if !m.is_dir() => Err(GenError::NotADirectory {
            path: path.to_path_buf(),
        }),
        Ok(_) => {
            let mut it = fs::read_dir(path).map_err(|e| GenError::io("read directory", path, e))?;
            Ok(it.next().is_some())
        }
    }
}

impl Staging {
    /// Checks that `out` may be written and creates the temporary directory.
    pub fn new(out: &Path, overwrite: bool) -> Result<Staging, GenError> {
        if non_empty_dir(out)? && !overwrite {
            return Err(GenError::OutputExists {
                path: out.to_path_buf(),
            });
        }
        let tmp = sibling(out, &format!(".tmp-{}", std::process::id()))?;
        if tmp.exists() {
            fs::remove_dir_all(&tmp)
                .map_err(|e| GenError::io("remove stale directory", &tmp, e))?;
        }
        create_dir(&tmp)?;
        Ok(Staging {
            tmp,
            committed: false,
        })
    }

    /// The temporary directory to write into.
    pub fn path(&self) -> &Path {
        &self.tmp
    }

    /// Moves the temporary directory into place. With `overwrite`, an existing
    /// output is renamed aside first and deleted once the new one is in place.
    pub fn commit(mut self, out: &Path, overwrite: bool) -> Result<(), GenError> {
        let occupied = non_empty_dir(out)?;
        if occupied && !overwrite {
            return Err(GenError::OutputExists {
                path: out.to_path_buf(),
            });
        }
        if occupied {
            let old = sibling(out, &format!(".old-{}", std::process::id()))?;
            if old.exists() {
                fs::remove_dir_all(&old)
                    .map_err(|e| GenError::io("remove stale directory", &old, e))?;
            }
            fs::rename(out, &old)
                .map_err(|e| GenError::io("move aside the previous output", out, e))?;
            if let Err(e) = fs::rename(&self.tmp, out) {
                // Put the previous output back; the staging dir is removed on drop.
                let _ = fs::rename(&old, out);
                return Err(GenError::io("move the new dataset into", out, e));
            }
            self.committed = true;
            // The new dataset is in place; failing to delete the old copy must not fail the run.
            let _ = fs::remove_dir_all(&old);
        } else {
            if out.exists() {
                fs::remove_dir(out).map_err(|e| GenError::io("replace empty directory", out, e))?;
            }
            fs::rename(&self.tmp, out)
                .map_err(|e| GenError::io("move the new dataset into", out, e))?;
            self.committed = true;
        }
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.tmp);
        }
    }
}
