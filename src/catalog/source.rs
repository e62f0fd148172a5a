//! One table over files: Parquet, CSV or NDJSON, local or remote, with Hive partitions.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::catalog::Session;
use datafusion::datasource::file_format::FileFormat;
use datafusion::datasource::file_format::csv::CsvFormat;
use datafusion::datasource::file_format::json::JsonFormat;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::prelude::SessionContext;
use futures::TryStreamExt;

use crate::config::Format;
use crate::error::{Error, Result, clean_datafusion_message};

/// What to register: a named table over a location.
#[derive(Debug, Clone)]
pub struct SourceSpec {
    /// `table` or `schema.table`.
    pub name: String,
    /// Absolute local path or URL.
    pub location: String,
    pub format: Format,
    pub partitions: Vec<(String, DataType)>,
    pub extension: Option<String>,
    pub has_header: bool,
    pub delimiter: u8,
}

impl SourceSpec {
    /// A Parquet source with the given Hive partition columns.
    pub fn parquet(name: &str, location: String, partitions: &[(&str, DataType)]) -> Self {
        Self {
            name: name.to_string(),
            location,
            format: Format::Parquet,
            partitions: partitions
                .iter()
                .map(|(n, t)| ((*n).to_string(), t.clone()))
                .collect(),
            extension: None,
            has_header: true,
            delimiter: b',',
        }
    }

    /// The error for a source whose location has no files.
    pub fn missing_error(&self) -> Error {
        if is_missing_local_path(&self.location) {
            self.error("the path does not exist")
        } else {
            self.error(format!("no {} files found there", self.extension()))
        }
    }

    fn error(&self, message: impl Into<String>) -> Error {
        Error::Source {
            name: self.name.clone(),
            location: self.location.clone(),
            message: message.into(),
        }
    }

    /// The file format, with the session's options (e.g. plain Utf8 instead of view
    /// types for Parquet strings).
    fn file_format(&self, state: &dyn Session) -> Arc<dyn FileFormat> {
        match self.format {
            Format::Parquet => Arc::new(
                ParquetFormat::default().with_options(state.table_options().parquet.clone()),
            ),
            Format::Csv => Arc::new(
                CsvFormat::default()
                    .with_has_header(self.has_header)
                    .with_delimiter(self.delimiter),
            ),
            Format::Ndjson => Arc::new(JsonFormat::default()),
        }
    }

    /// The table URL; a location without a file extension is a directory.
    fn table_url(&self) -> Result<ListingTableUrl> {
        let ext = self.extension();
        let mut location = self.location.clone();
        if !location.ends_with('/') && !location.ends_with(ext) {
            location.push('/');
        }
        ListingTableUrl::parse(&location).map_err(|e| self.error(clean_datafusion_message(&e)))
    }

    fn extension(&self) -> &str {
        self.extension
            .as_deref()
            .unwrap_or_else(|| self.format.extension())
    }
}

/// Registers `spec` in `ctx`, inferring its schema from the files.
///
/// # Errors
/// [`Error::Source`] naming the source and its location, and the file when one file is
/// unreadable: a missing path, no files, a corrupt or truncated file, a store that
/// refuses.
pub async fn register_source(ctx: &SessionContext, spec: &SourceSpec) -> Result<SchemaRef> {
    register_if_present(ctx, spec)
        .await?
        .ok_or_else(|| spec.missing_error())
}

/// Registers `spec` when its location has files; `None` when it has none (a store
/// that cannot be reached is an error, not a "none").
///
/// # Errors
/// As [`register_source`], except for a location without files.
pub async fn register_if_present(
    ctx: &SessionContext,
    spec: &SourceSpec,
) -> Result<Option<SchemaRef>> {
    if is_missing_local_path(&spec.location) {
        return Ok(None);
    }
    let url = spec.table_url()?;
    let state = ctx.state();
    let files = list_files(&state, &url, spec).await?;
    if files.is_empty() {
        return Ok(None);
    }
    let options = ListingOptions::new(spec.file_format(&state))
        .with_file_extension(spec.extension())
        .with_table_partition_cols(spec.partitions.clone());

    let file_schema = match options.infer_schema(&state, &url).await {
        Ok(schema) => schema,
        Err(e) => return Err(find_bad_file(&state, spec, &options, &files, e).await),
    };
    let config = ListingTableConfig::new(url)
        .with_listing_options(options)
        .with_schema(file_schema);
    let table = ListingTable::try_new(config).map_err(|e| spec.error(e.strip_backtrace()))?;
    let schema = datafusion::datasource::TableProvider::schema(&table);
    ctx.register_table(spec.name.as_str(), Arc::new(table))
        .map_err(|e| spec.error(e.strip_backtrace()))?;
    Ok(Some(schema))
}

fn is_missing_local_path(location: &str) -> bool {
    let path = location.strip_prefix("file://").unwrap_or(location);
    !path.contains("://") && !std::path::Path::new(path).exists()
}

async fn list_files(
    state: &dyn Session,
    url: &ListingTableUrl,
    spec: &SourceSpec,
) -> Result<Vec<String>> {
    let store = state
        .runtime_env()
        .object_store(url)
        .map_err(|e| spec.error(e.strip_backtrace()))?;
    let files: Vec<_> = url
        .list_all_files(state, store.as_ref(), spec.extension())
        .await
        .map_err(|e| spec.error(describe_listing_error(&e)))?
        .try_collect()
        .await
        .map_err(|e| spec.error(describe_listing_error(&e)))?;
    let mut names: Vec<String> = files.into_iter().map(|m| m.location.to_string()).collect();
    names.sort();
    Ok(names)
}

fn describe_listing_error(e: &datafusion::error::DataFusionError) -> String {
    let message = e.strip_backtrace();
    if message.contains("error sending request") || message.contains("Connection refused") {
        format!("cannot reach the object store: {message}")
    } else {
        format!("cannot list files: {message}")
    }
}

/// Schema inference failed: read the footers one file at a time to name the culprit.
async fn find_bad_file(
    state: &dyn Session,
    spec: &SourceSpec,
    options: &ListingOptions,
    files: &[String],
    original: datafusion::error::DataFusionError,
) -> Error {
    let Ok(url) = spec.table_url() else {
        return spec.error(original.strip_backtrace());
    };
    let base = url.object_store();
    for file in files {
        let Ok(file_url) = ListingTableUrl::parse(format!("{}{}", base.as_str(), file)) else {
            continue;
        };
        if let Err(e) = options.infer_schema(state, &file_url).await {
            return spec.error(format!(
                "file {} is unreadable (corrupt or truncated?): {}",
                display_file(&base, file),
                e.strip_backtrace()
            ));
        }
    }
    spec.error(original.strip_backtrace())
}

fn display_file(base: &datafusion::execution::object_store::ObjectStoreUrl, file: &str) -> String {
    if base.as_str().starts_with("file://") {
        format!("/{file}")
    } else {
        format!("{}{file}", base.as_str())
    }
}
