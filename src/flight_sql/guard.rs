//! Limits of one query: its own memory pool, a deadline, a row/byte cap on the result, a
//! concurrency permit, and the audit record written when the stream ends or is dropped
//! (a client that disconnects drops the stream, which cancels the DataFusion execution).

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::error::DataFusionError;
use datafusion::execution::SendableRecordBatchStream;
use futures::{Stream, StreamExt};
use tokio::sync::OwnedSemaphorePermit;
use tonic::Status;

use super::audit::{AuditLog, AuditRecord};
use crate::error::clean_datafusion_message;

/// The per-query limits from `[server]`.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub memory: usize,
    pub timeout: Duration,
    pub max_rows: u64,
    pub max_bytes: u64,
}

/// The schema sent to clients: view types as plain Utf8/Binary (JDBC before 19 reads no
/// views), dictionaries as their values (the Flight encoder hydrates them).
pub fn wire_schema(schema: &Schema) -> SchemaRef {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| f.as_ref().clone().with_data_type(wire_type(f.data_type())))
        .collect();
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

fn wire_type(data_type: &DataType) -> DataType {
    match data_type {
        DataType::Utf8View => DataType::Utf8,
        DataType::BinaryView => DataType::Binary,
        DataType::Dictionary(_, value) => wire_type(value),
        other => other.clone(),
    }
}

/// A batch in the wire schema (casting view and dictionary columns).
fn to_wire(batch: RecordBatch, schema: &SchemaRef) -> Result<RecordBatch, Status> {
    if batch.schema_ref() == schema {
        return Ok(batch);
    }
    let columns = batch
        .columns()
        .iter()
        .zip(schema.fields())
        .map(|(c, f)| cast(c, f.data_type()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Status::internal(format!("cannot convert the result for the wire: {e}")))?;
    RecordBatch::try_new(Arc::clone(schema), columns)
        .map_err(|e| Status::internal(format!("cannot convert the result for the wire: {e}")))
}

/// The gRPC status for a DataFusion error: the client's mistake is INVALID_ARGUMENT, a
/// memory limit RESOURCE_EXHAUSTED; the message is DataFusion's, without a backtrace.
pub fn status_of(error: &DataFusionError) -> Status {
    let message = clean_datafusion_message(error);
    match error.find_root() {
        DataFusionError::ResourcesExhausted(_) => Status::resource_exhausted(format!(
            "{message} (the per-query memory limit is server.query_memory_limit)"
        )),
        DataFusionError::Plan(_)
        | DataFusionError::SQL(..)
        | DataFusionError::SchemaError(..)
        | DataFusionError::NotImplemented(_)
        | DataFusionError::Configuration(_)
        | DataFusionError::Execution(_) => Status::invalid_argument(message),
        _ => Status::internal(message),
    }
}

/// A result stream under the query's limits.
pub struct Guarded {
    inner: SendableRecordBatchStream,
    schema: SchemaRef,
    deadline: Pin<Box<tokio::time::Sleep>>,
    limits: Limits,
    started: Instant,
    audit: Option<(Arc<AuditLog>, AuditRecord)>,
    _permit: OwnedSemaphorePermit,
}

impl Guarded {
    /// Wraps `inner`; `record` is completed and written when the stream ends.
    pub fn new(
        inner: SendableRecordBatchStream,
        schema: SchemaRef,
        limits: Limits,
        started: Instant,
        audit: (Arc<AuditLog>, AuditRecord),
        permit: OwnedSemaphorePermit,
    ) -> Self {
        let deadline = tokio::time::Instant::from_std(started + limits.timeout);
        Self {
            inner,
            schema,
            deadline: Box::pin(tokio::time::sleep_until(deadline)),
            limits,
            started,
            audit: Some(audit),
            _permit: permit,
        }
    }

    fn finish(&mut self, outcome: String) {
        if let Some((log, mut record)) = self.audit.take() {
            record.duration = self.started.elapsed();
            record.outcome = outcome;
            log.write(&record);
        }
    }

    fn fail(&mut self, status: Status) -> Poll<Option<Result<RecordBatch, Status>>> {
        self.finish(outcome_of(&status));
        Poll::Ready(Some(Err(status)))
    }
}

/// The audit outcome of a failed query: the status code and its message.
pub fn outcome_of(status: &Status) -> String {
    format!("{:?}: {}", status.code(), status.message())
}

impl Stream for Guarded {
    type Item = Result<RecordBatch, Status>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.audit.is_none() {
            return Poll::Ready(None);
        }
        if self.deadline.as_mut().poll(cx).is_ready() {
            let secs = self.limits.timeout.as_secs();
            return self.fail(Status::deadline_exceeded(format!(
                "the query ran past the server's time limit of {secs} s \
                 (server.query_timeout_secs)"
            )));
        }
        let batch = match self.inner.poll_next_unpin(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(None) => {
                self.finish("ok".into());
                return Poll::Ready(None);
            }
            Poll::Ready(Some(Err(e))) => return self.fail(status_of(&e)),
            Poll::Ready(Some(Ok(batch))) => batch,
        };
        let Some((_, record)) = self.audit.as_mut() else {
            return Poll::Ready(None);
        };
        record.rows += batch.num_rows() as u64;
        record.bytes += batch.get_array_memory_size() as u64;
        let (rows, bytes) = (record.rows, record.bytes);
        if rows > self.limits.max_rows {
            let max = self.limits.max_rows;
            return self.fail(Status::resource_exhausted(format!(
                "the result has more than {max} rows (server.max_result_rows); add a LIMIT \
                 or aggregate"
            )));
        }
        if bytes > self.limits.max_bytes {
            let max = self.limits.max_bytes;
            return self.fail(Status::resource_exhausted(format!(
                "the result is larger than {max} bytes (server.max_result_bytes); add a \
                 LIMIT or select fewer columns"
            )));
        }
        match to_wire(batch, &self.schema) {
            Ok(batch) => Poll::Ready(Some(Ok(batch))),
            Err(status) => self.fail(status),
        }
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        // Dropped before its end: the client went away (or cancelled); DataFusion stops
        // when `inner` is dropped right after this.
        self.finish("cancelled".into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_and_dictionaries_go_out_plain() {
        let schema = Schema::new(vec![
            Field::new("a", DataType::Utf8View, false),
            Field::new(
                "b",
                DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8View)),
                true,
            ),
            Field::new("c", DataType::Int64, true),
        ]);
        let wire = wire_schema(&schema);
        assert_eq!(wire.field(0), &Field::new("a", DataType::Utf8, false));
        assert_eq!(wire.field(1), &Field::new("b", DataType::Utf8, true));
        assert_eq!(wire.field(2), schema.field(2));
    }

    #[test]
    fn errors_get_fitting_codes() {
        let plan = DataFusionError::Plan("no table x".into());
        assert_eq!(status_of(&plan).code(), tonic::Code::InvalidArgument);
        let memory = DataFusionError::ResourcesExhausted("pool".into());
        assert_eq!(status_of(&memory).code(), tonic::Code::ResourceExhausted);
        let wrapped = DataFusionError::Context("x".into(), Box::new(memory));
        assert_eq!(status_of(&wrapped).code(), tonic::Code::ResourceExhausted);
    }
}
