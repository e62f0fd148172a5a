//! Where job outputs live and how a run publishes one partition atomically, the same way
//! on local disk and on object storage (which cannot rename):
//!
//! ```text
//! <root>/<output>/<partition_by>=<date>/part-<run id>.parquet   immutable data files
//! <root>/<output>/_manifest.tsv                                 the current file per date
//! <root>/job_runs/<start>-<job>-<date>-<run id>.parquet         the run log, append-only
//! ```
//!
//! A run writes a new data file (never overwriting one), then replaces the manifest with a
//! single PUT (atomic on S3; a temporary file plus rename on local disk). Readers take the
//! files the manifest names, so a run that fails or is killed before that PUT leaves the
//! previous output exactly as it was. After the PUT, files the manifest no longer names
//! (the replaced partition, leftovers of killed runs) are deleted.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, Date32Array, Int64Array, RecordBatch, StringArray, TimestampMillisecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::execution::SendableRecordBatchStream;
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::prelude::SessionContext;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use parquet::arrow::AsyncArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use super::date::Date;
use crate::config::Config;
use crate::error::{Error, Result};

/// The manifest's name inside an output directory.
const MANIFEST: &str = "_manifest.tsv";
/// The run log's directory (and table name).
pub const RUN_LOG: &str = "job_runs";

/// One published partition: its data file and what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Path relative to the root.
    pub file: String,
    pub rows: u64,
    pub bytes: u64,
    pub run_id: String,
}

/// An output's manifest: partition date -> its file.
pub type Manifest = BTreeMap<Date, Entry>;

/// The jobs output root: a local directory or an object-store prefix.
#[derive(Debug, Clone)]
pub struct OutputRoot {
    store: Arc<dyn ObjectStore>,
    /// `file://` or `s3://bucket`.
    store_url: String,
    prefix: Path,
    /// The root as configured, for messages.
    pub location: String,
}

impl OutputRoot {
    /// The root `config.jobs.root`, reached through `ctx`'s object stores (registering the
    /// one it needs). A local root is created if missing.
    ///
    /// # Errors
    /// A store that cannot be set up, a local directory that cannot be created.
    pub fn open(ctx: &SessionContext, config: &Config) -> Result<Self> {
        let jobs = config.jobs.clone().unwrap_or_default();
        let location = config.resolve_location(&jobs.root);
        let local = location.strip_prefix("file://").unwrap_or(&location);
        let (store_url, prefix) = if local.contains("://") {
            crate::catalog::object_store::ensure_store_for(ctx, config, local)?;
            let url = url::Url::parse(local).map_err(|e| Error::Store {
                url: location.clone(),
                message: e.to_string(),
            })?;
            let bucket = url.host_str().unwrap_or_default();
            (
                format!("{}://{bucket}", url.scheme()),
                Path::from(url.path().trim_matches('/')),
            )
        } else {
            std::fs::create_dir_all(local).map_err(|e| Error::io(local, e))?;
            let prefix = Path::from_filesystem_path(local).map_err(|e| Error::Store {
                url: location.clone(),
                message: e.to_string(),
            })?;
            ("file://".to_string(), prefix)
        };
        let store = ctx
            .runtime_env()
            .object_store(ObjectStoreUrl::parse(&store_url)?)?;
        Ok(Self {
            store,
            store_url,
            prefix,
            location,
        })
    }

    fn path(&self, rel: &str) -> Path {
        let mut path = self.prefix.clone();
        for part in rel.split('/').filter(|p| !p.is_empty()) {
            path = path.join(part);
        }
        path
    }

    fn url(&self, path: &Path) -> String {
        format!("{}/{path}", self.store_url)
    }

    /// A relative path as a URL or local path, for messages.
    pub fn display(&self, rel: &str) -> String {
        self.url(&self.path(rel))
    }

    /// The published partitions of `output` (empty when nothing was published).
    ///
    /// # Errors
    /// An unreachable store or a corrupt manifest.
    pub async fn manifest(&self, output: &str) -> Result<Manifest> {
        let path = self.path(&format!("{output}/{MANIFEST}"));
        let bytes = match self.store.get(&path).await {
            Ok(result) => result.bytes().await.map_err(store_error)?,
            Err(object_store::Error::NotFound { .. }) => return Ok(Manifest::new()),
            Err(e) => return Err(store_error(e)),
        };
        let text = String::from_utf8_lossy(&bytes);
        let mut manifest = Manifest::new();
        for (i, line) in text.lines().enumerate() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let bad = || {
                Error::Usage(format!(
                    "manifest {} line {} is not 'date, file, rows, bytes, run id'",
                    self.url(&path),
                    i + 1
                ))
            };
            let fields: Vec<&str> = line.split('\t').collect();
            let [date, file, rows, bytes, run_id] = fields[..] else {
                return Err(bad());
            };
            manifest.insert(
                Date::parse(date).map_err(|_| bad())?,
                Entry {
                    file: file.to_string(),
                    rows: rows.parse().map_err(|_| bad())?,
                    bytes: bytes.parse().map_err(|_| bad())?,
                    run_id: run_id.to_string(),
                },
            );
        }
        Ok(manifest)
    }

    /// Writes `stream` as a new immutable data file of partition `column=date`.
    ///
    /// # Errors
    /// The query failing while it streams, or the store refusing the write.
    pub async fn write_partition(
        &self,
        output: &str,
        column: &str,
        date: Date,
        run_id: &str,
        mut stream: SendableRecordBatchStream,
    ) -> Result<Entry> {
        let file = format!("{output}/{column}={date}/part-{run_id}.parquet");
        let path = self.path(&file);
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::default()))
            .build();
        let writer = object_store::buffered::BufWriter::new(Arc::clone(&self.store), path.clone());
        let mut writer = AsyncArrowWriter::try_new(writer, stream.schema(), Some(props))
            .map_err(datafusion::error::DataFusionError::from)?;
        let mut rows = 0u64;
        while let Some(batch) = stream.next().await {
            let batch = batch?;
            rows += batch.num_rows() as u64;
            writer
                .write(&batch)
                .await
                .map_err(datafusion::error::DataFusionError::from)?;
        }
        writer
            .close()
            .await
            .map_err(datafusion::error::DataFusionError::from)?;
        let bytes = self.store.head(&path).await.map_err(store_error)?.size;
        Ok(Entry {
            file,
            rows,
            bytes,
            run_id: run_id.to_string(),
        })
    }

    /// Makes `entry` the partition `date` of `output` with one manifest PUT, then deletes
    /// the files no longer named (best effort: a leftover is deleted by the next publish).
    ///
    /// # Errors
    /// The store refusing the manifest write (the previous output then stays current).
    pub async fn publish(&self, output: &str, date: Date, entry: Entry) -> Result<()> {
        let mut manifest = self.manifest(output).await?;
        manifest.insert(date, entry);
        let mut text =
            String::from("# plinkdb job output: date, file, rows, bytes, run id (tab-separated)\n");
        for (date, e) in &manifest {
            text.push_str(&format!(
                "{date}\t{}\t{}\t{}\t{}\n",
                e.file, e.rows, e.bytes, e.run_id
            ));
        }
        let path = self.path(&format!("{output}/{MANIFEST}"));
        self.store
            .put(&path, PutPayload::from(text.into_bytes()))
            .await
            .map_err(store_error)?;
        let keep: Vec<Path> = manifest.values().map(|e| self.path(&e.file)).collect();
        let dir = self.path(output);
        let listed: Vec<_> = self
            .store
            .list(Some(&dir))
            .try_collect()
            .await
            .unwrap_or_default();
        for meta in listed {
            if meta.location != path && !keep.contains(&meta.location) {
                let _ = self.store.delete(&meta.location).await;
            }
        }
        if self.store_url == "file://" {
            remove_staging_files(&std::path::Path::new("/").join(dir.as_ref()));
        }
        Ok(())
    }

    /// Registers every published output under the root as a table of its name (the files
    /// its manifest names), and the run log as `job_runs`. Returns the outputs registered.
    ///
    /// # Errors
    /// An unreachable store, a corrupt manifest or data file.
    pub async fn register_all(&self, ctx: &SessionContext) -> Result<Vec<String>> {
        let listing = self
            .store
            .list_with_delimiter(Some(&self.prefix))
            .await
            .map_err(store_error)?;
        let mut registered = Vec::new();
        for dir in listing.common_prefixes {
            let Some(name) = dir.filename() else { continue };
            if name == RUN_LOG {
                continue;
            }
            let manifest = self.manifest(name).await?;
            if self.register(ctx, name, &manifest).await? {
                registered.push(name.to_string());
            }
        }
        let spec = crate::catalog::SourceSpec::parquet(RUN_LOG, self.display(RUN_LOG), &[]);
        crate::catalog::source::register_if_present(ctx, &spec).await?;
        Ok(registered)
    }

    /// Registers `output` over the files of `manifest`; false when there are none.
    async fn register(
        &self,
        ctx: &SessionContext,
        output: &str,
        manifest: &Manifest,
    ) -> Result<bool> {
        if manifest.is_empty() {
            return Ok(false);
        }
        let urls = manifest
            .values()
            .map(|e| ListingTableUrl::parse(self.url(&self.path(&e.file))))
            .collect::<datafusion::error::Result<Vec<_>>>()?;
        let state = ctx.state();
        let options =
            ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet");
        let config = ListingTableConfig::new_with_multi_paths(urls)
            .with_listing_options(options)
            .infer_schema(&state)
            .await
            .map_err(|e| Error::Source {
                name: output.to_string(),
                location: self.display(output),
                message: e.strip_backtrace(),
            })?;
        let table = ListingTable::try_new(config)?;
        ctx.register_table(output, Arc::new(table))?;
        Ok(true)
    }

    /// Appends one record to the run log (a new small file; never rewrites one).
    ///
    /// # Errors
    /// The store refusing the write.
    pub async fn log_run(&self, run: &RunRecord) -> Result<()> {
        let ts = |ms: i64| -> ArrayRef {
            Arc::new(TimestampMillisecondArray::from(vec![ms]).with_timezone("UTC"))
        };
        let utc_ms = DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()));
        let schema = Arc::new(Schema::new(vec![
            Field::new("job", DataType::Utf8, false),
            Field::new("date", DataType::Date32, false),
            Field::new("start_time", utc_ms.clone(), false),
            Field::new("end_time", utc_ms, false),
            Field::new("status", DataType::Utf8, false),
            Field::new("rows", DataType::Int64, true),
            Field::new("bytes", DataType::Int64, true),
            Field::new("error", DataType::Utf8, true),
            Field::new("attempts", DataType::Int64, false),
            Field::new("run_id", DataType::Utf8, false),
        ]));
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(vec![run.job.as_str()])),
                Arc::new(Date32Array::from(vec![run.date.0])),
                ts(run.start_ms),
                ts(run.end_ms),
                Arc::new(StringArray::from(vec![run.status])),
                Arc::new(Int64Array::from(vec![run.rows.map(|r| r as i64)])),
                Arc::new(Int64Array::from(vec![run.bytes.map(|b| b as i64)])),
                Arc::new(StringArray::from(vec![run.error.as_deref()])),
                Arc::new(Int64Array::from(vec![i64::from(run.attempts)])),
                Arc::new(StringArray::from(vec![run.run_id.as_str()])),
            ],
        )
        .map_err(datafusion::error::DataFusionError::from)?;
        let mut buffer = Vec::new();
        let mut writer = parquet::arrow::ArrowWriter::try_new(&mut buffer, batch.schema(), None)
            .map_err(datafusion::error::DataFusionError::from)?;
        writer
            .write(&batch)
            .map_err(datafusion::error::DataFusionError::from)?;
        writer
            .close()
            .map_err(datafusion::error::DataFusionError::from)?;
        let name = format!(
            "{RUN_LOG}/{}-{}-{}-{}.parquet",
            run.start_ms, run.job, run.date, run.run_id
        );
        self.store
            .put(&self.path(&name), PutPayload::from(buffer))
            .await
            .map_err(store_error)?;
        Ok(())
    }
}

/// One line of `job_runs`.
#[derive(Debug, Clone)]
pub struct RunRecord {
    pub job: String,
    pub date: Date,
    pub start_ms: i64,
    pub end_ms: i64,
    /// `succeeded` or `failed`.
    pub status: &'static str,
    pub rows: Option<u64>,
    pub bytes: Option<u64>,
    pub error: Option<String>,
    pub attempts: u32,
    pub run_id: String,
}

/// Local disk: the store writes `<file>#<n>` and renames it when complete; a killed run
/// leaves that staging file behind, which listings do not show. (On S3 an interrupted
/// multipart upload is invisible; a bucket lifecycle rule aborts it.)
fn remove_staging_files(dir: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            remove_staging_files(&path);
        } else if entry.file_name().to_string_lossy().contains('#') {
            let _ = std::fs::remove_file(&path);
        }
    }
}

fn store_error(e: object_store::Error) -> Error {
    Error::DataFusion(e.into())
}
