//! Result formats: an aligned table for people, CSV / JSON lines / Parquet for scripts.
//! CSV, JSON and Parquet stream batch by batch, so exports of any size run in bounded
//! memory; the table format needs the whole result to align it.

use std::io::Write;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::parquet::arrow::ArrowWriter;
use futures::StreamExt;

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
    /// Between taking the plain writer for Parquet and storing the Parquet writer.
    Taken,
}

fn arrow_err(e: impl Into<datafusion::error::DataFusionError>) -> Error {
    Error::DataFusion(e.into())
}

fn one_result_only() -> Error {
    Error::Usage(
        "--format parquet writes one result set, but the script returned more than one".into(),
    )
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
            _ => Err(one_result_only()),
        }
    }

    /// Writes one complete result set.
    ///
    /// # Errors
    /// Writing fails, or a second result set is written as Parquet.
    pub fn write(&mut self, schema: &SchemaRef, batches: &[RecordBatch]) -> Result<()> {
        let mut part = self.begin(schema)?;
        for batch in batches {
            part.write(batch)?;
        }
        part.finish()
    }

    /// Streams one result set; returns the number of rows. `on_batch` sees the running
    /// row count (for progress).
    ///
    /// # Errors
    /// The query or the writing fails.
    pub async fn write_stream(
        &mut self,
        mut stream: SendableRecordBatchStream,
        mut on_batch: impl FnMut(usize),
    ) -> Result<usize> {
        let schema = stream.schema();
        let mut rows = 0;
        if self.format == OutputFormat::Table {
            let mut batches = Vec::new();
            while let Some(batch) = stream.next().await {
                let batch = batch?;
                rows += batch.num_rows();
                on_batch(rows);
                batches.push(batch);
            }
            self.write(&schema, &batches)?;
            return Ok(rows);
        }
        let mut part = self.begin(&schema)?;
        while let Some(batch) = stream.next().await {
            let batch = batch?;
            rows += batch.num_rows();
            on_batch(rows);
            part.write(&batch)?;
        }
        part.finish()?;
        Ok(rows)
    }

    fn begin(&mut self, schema: &SchemaRef) -> Result<Part<'_>> {
        Ok(match self.format {
            OutputFormat::Table => Part::Table {
                out: self.plain()?,
                schema: schema.clone(),
                batches: Vec::new(),
            },
            OutputFormat::Csv => Part::Csv {
                writer: Box::new(
                    datafusion::arrow::csv::WriterBuilder::new()
                        .with_header(true)
                        .build(self.plain()?),
                ),
                schema: schema.clone(),
                empty: true,
            },
            OutputFormat::Json => Part::Json(
                datafusion::arrow::json::WriterBuilder::new()
                    .with_explicit_nulls(true)
                    .build::<_, datafusion::arrow::json::writer::LineDelimited>(self.plain()?),
            ),
            OutputFormat::Parquet => {
                let out = match std::mem::replace(&mut self.sink, Sink::Taken) {
                    Sink::Plain(out) => out,
                    other => {
                        self.sink = other;
                        return Err(one_result_only());
                    }
                };
                let writer = ArrowWriter::try_new(out, schema.clone(), None).map_err(arrow_err)?;
                self.sink = Sink::Parquet(Box::new(writer));
                match &mut self.sink {
                    Sink::Parquet(writer) => Part::Parquet(writer),
                    _ => return Err(one_result_only()),
                }
            }
        })
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
            Sink::Taken => Ok(()),
        }
    }
}

/// One result set being written.
enum Part<'a> {
    Table {
        out: &'a mut Box<dyn Write + Send>,
        schema: SchemaRef,
        batches: Vec<RecordBatch>,
    },
    Csv {
        writer: Box<datafusion::arrow::csv::Writer<&'a mut Box<dyn Write + Send>>>,
        schema: SchemaRef,
        empty: bool,
    },
    Json(
        datafusion::arrow::json::Writer<
            &'a mut Box<dyn Write + Send>,
            datafusion::arrow::json::writer::LineDelimited,
        >,
    ),
    Parquet(&'a mut ArrowWriter<Box<dyn Write + Send>>),
}

impl Part<'_> {
    fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        match self {
            Part::Table { batches, .. } => batches.push(batch.clone()),
            Part::Csv { writer, empty, .. } => {
                writer.write(batch).map_err(arrow_err)?;
                *empty = false;
            }
            Part::Json(writer) => writer.write(batch).map_err(arrow_err)?,
            Part::Parquet(writer) => writer.write(batch).map_err(arrow_err)?,
        }
        Ok(())
    }

    fn finish(self) -> Result<()> {
        match self {
            Part::Table {
                out,
                schema,
                batches,
            } => {
                let table = datafusion::arrow::util::pretty::pretty_format_batches_with_schema(
                    schema, &batches,
                )
                .map_err(arrow_err)?;
                writeln!(out, "{table}").map_err(|e| Error::io("<output>", e))
            }
            // an empty result still gets its header line
            Part::Csv {
                mut writer,
                schema,
                empty: true,
            } => writer
                .write(&RecordBatch::new_empty(schema))
                .map_err(arrow_err),
            Part::Csv { .. } | Part::Parquet(_) => Ok(()),
            Part::Json(mut writer) => writer.finish().map_err(arrow_err),
        }
    }
}
