//! Result formats: an aligned table for people, CSV / JSON lines / Parquet for scripts.

use std::io::Write;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;

use crate::error::{Error, Result};

/// How results are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// An aligned table (the default on a terminal).
    Table,
    /// CSV with a header line.
    Csv,
    /// One JSON object per row (JSON lines), nulls written out.
    Json,
    /// Parquet (needs --output or a redirected stdout).
    Parquet,
}

/// Writes result sets one after another to one destination.
pub struct ResultWriter {
    format: OutputFormat,
    sink: Sink,
}

enum Sink {
    Plain(Box<dyn Write + Send>),
    Parquet(Box<ArrowWriter<Box<dyn Write + Send>>>),
    /// A Parquet writer was taken and closed, or building it failed.
    Done,
}

fn arrow_err(e: impl Into<datafusion::error::DataFusionError>) -> Error {
    Error::DataFusion(e.into())
}

impl ResultWriter {
    pub fn new(format: OutputFormat, out: Box<dyn Write + Send>) -> Self {
        Self {
            format,
            sink: Sink::Plain(out),
        }
    }

    fn plain(&mut self) -> Result<&mut Box<dyn Write + Send>> {
        match &mut self.sink {
            Sink::Plain(out) => Ok(out),
            _ => Err(Error::Usage(
                "--format parquet writes one result set, but the script returned more \
                 than one"
                    .into(),
            )),
        }
    }

    /// Writes one result set; `batches` may come from a stream (the table format needs
    /// them all at once).
    ///
    /// # Errors
    /// Writing fails, or a second result set is written as Parquet.
    pub fn write(&mut self, schema: &SchemaRef, batches: &[RecordBatch]) -> Result<()> {
        match self.format {
            OutputFormat::Table => {
                let table = datafusion::arrow::util::pretty::pretty_format_batches_with_schema(
                    schema.clone(),
                    batches,
                )
                .map_err(arrow_err)?;
                writeln!(self.plain()?, "{table}").map_err(|e| Error::io("<output>", e))?;
            }
            OutputFormat::Csv => {
                let mut writer = datafusion::arrow::csv::WriterBuilder::new()
                    .with_header(true)
                    .build(self.plain()?);
                if batches.is_empty() {
                    writer
                        .write(&RecordBatch::new_empty(schema.clone()))
                        .map_err(arrow_err)?;
                }
                for batch in batches {
                    writer.write(batch).map_err(arrow_err)?;
                }
            }
            OutputFormat::Json => {
                let mut writer = datafusion::arrow::json::WriterBuilder::new()
                    .with_explicit_nulls(true)
                    .build::<_, datafusion::arrow::json::writer::LineDelimited>(self.plain()?);
                for batch in batches {
                    writer.write(batch).map_err(arrow_err)?;
                }
                writer.finish().map_err(arrow_err)?;
            }
            OutputFormat::Parquet => {
                let out = match std::mem::replace(&mut self.sink, Sink::Done) {
                    Sink::Plain(out) => out,
                    other => {
                        self.sink = other;
                        return self.plain().map(|_| ());
                    }
                };
                let mut writer =
                    ArrowWriter::try_new(out, schema.clone(), None).map_err(arrow_err)?;
                for batch in batches {
                    writer.write(batch).map_err(arrow_err)?;
                }
                self.sink = Sink::Parquet(Box::new(writer));
            }
        }
        Ok(())
    }

    /// Flushes everything (closes the Parquet footer).
    ///
    /// # Errors
    /// Writing fails.
    pub fn finish(self) -> Result<()> {
        match self.sink {
            Sink::Parquet(writer) => {
                writer.close().map_err(arrow_err)?;
                Ok(())
            }
            Sink::Plain(mut out) => out.flush().map_err(|e| Error::io("<output>", e)),
            Sink::Done => Ok(()),
        }
    }
}
