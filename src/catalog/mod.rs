//! Catalog: object stores and sources become tables.
//!
//! Order of the data path: [`object_store`] (reach the bytes) -> [`source`] (one table
//! over files) -> [`dataset`] (the standard layout of platform exports) -> the
//! `sql/platforms` views (see [`crate::platforms`]).

pub mod dataset;
pub mod object_store;
pub mod source;

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::catalog::MemorySchemaProvider;
use datafusion::prelude::SessionContext;

use crate::config::Config;
use crate::error::{Error, Result};
pub use dataset::{DatasetTables, register_dataset};
pub use source::{SourceSpec, register_source};

/// Schemas plinkdb creates besides `public`.
pub const SCHEMAS: &[&str] = &["raw", "truth"];

/// `"dt:date"` -> `("dt", Date32)`; `"shop"` -> `("shop", Utf8)`.
pub fn parse_partition(spec: &str) -> std::result::Result<(String, DataType), String> {
    let (name, ty) = spec.split_once(':').unwrap_or((spec, "text"));
    let name = name.trim();
    if name.is_empty() {
        return Err(format!("'{spec}' has no column name"));
    }
    let ty = match ty.trim().to_ascii_lowercase().as_str() {
        "text" | "string" | "utf8" => DataType::Utf8,
        "date" => DataType::Date32,
        "int" | "bigint" | "int64" => DataType::Int64,
        other => {
            return Err(format!(
                "'{spec}': unknown partition type '{other}' (use text, date or int)"
            ));
        }
    };
    Ok((name.to_string(), ty))
}

/// Creates the extra schemas in the default catalog.
pub fn create_schemas(ctx: &SessionContext) -> Result<()> {
    let catalog_name = ctx
        .copied_config()
        .options()
        .catalog
        .default_catalog
        .clone();
    let Some(catalog) = ctx.catalog(&catalog_name) else {
        return Err(Error::Usage(format!("catalog {catalog_name} is missing")));
    };
    for schema in SCHEMAS {
        if catalog.schema(schema).is_none() {
            catalog.register_schema(schema, Arc::new(MemorySchemaProvider::new()))?;
        }
    }
    Ok(())
}

/// Registers the dataset root (when configured) and every `[[sources]]` entry.
///
/// # Errors
/// The first store or source that fails, named.
pub async fn register_config(
    ctx: &SessionContext,
    config: &Config,
    data_root: Option<&str>,
) -> Result<Option<DatasetTables>> {
    create_schemas(ctx)?;
    let dataset = match data_root {
        Some(root) => {
            object_store::ensure_store_for(ctx, config, root)?;
            Some(register_dataset(ctx, root).await?)
        }
        None => None,
    };
    for source in &config.sources {
        let location = config.resolve_location(&source.location);
        object_store::ensure_store_for(ctx, config, &location)?;
        let partitions = source
            .partitions
            .iter()
            .map(|p| parse_partition(p).map_err(Error::Usage))
            .collect::<Result<Vec<_>>>()?;
        let spec = SourceSpec {
            name: source.name.clone(),
            location,
            format: source.format,
            partitions,
            extension: source.extension.clone(),
            has_header: source.has_header.unwrap_or(true),
            delimiter: source.delimiter.map_or(b',', |c| c as u8),
        };
        register_source(ctx, &spec).await?;
    }
    Ok(dataset)
}
