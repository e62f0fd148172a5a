//! The Flight SQL service over the engine's session.
//!
//! Prepared statements are stateless: the handle carries the SQL and the bound parameters
//! (an idea taken from `datafusion-flight-sql-server`, Apache-2.0,
//! datafusion-contrib/datafusion-flight-sql-server `src/state.rs`), so any request may
//! reach any handle and nothing leaks when a client never closes one. Every RPC checks
//! the bearer token; every query is planned under the caller's read-only rules, runs in
//! its own memory pool and ends in the audit log.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use arrow_flight::decode::FlightRecordBatchStream;
use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::error::FlightError;
use arrow_flight::flight_service_server::FlightService;
use arrow_flight::sql::metadata::{SqlInfoData, XdbcTypeInfoData};
use arrow_flight::sql::server::{FlightSqlService, PeekableFlightDataStream};
use arrow_flight::sql::{
    ActionClosePreparedStatementRequest, ActionCreatePreparedStatementRequest,
    ActionCreatePreparedStatementResult, CommandGetCatalogs, CommandGetCrossReference,
    CommandGetDbSchemas, CommandGetExportedKeys, CommandGetImportedKeys, CommandGetPrimaryKeys,
    CommandGetSqlInfo, CommandGetTableTypes, CommandGetTables, CommandGetXdbcTypeInfo,
    CommandPreparedStatementQuery, CommandPreparedStatementUpdate, CommandStatementQuery,
    CommandStatementUpdate, DoPutPreparedStatementResult, ProstMessageExt, SqlInfo,
    TicketStatementQuery,
};
use arrow_flight::{
    Action, FlightData, FlightDescriptor, FlightEndpoint, FlightInfo, HandshakeRequest,
    HandshakeResponse, IpcMessage, SchemaAsIpc, Ticket,
};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::ipc::writer::IpcWriteOptions;
use datafusion::catalog::SchemaProvider;
use datafusion::catalog::information_schema::{INFORMATION_SCHEMA, InformationSchemaProvider};
use datafusion::common::{ParamValues, ScalarValue};
use datafusion::datasource::TableType;
use datafusion::error::DataFusionError;
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::memory_pool::FairSpillPool;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SessionContext;
use futures::{Stream, StreamExt, TryStreamExt};
use prost::Message;
use tokio::sync::Semaphore;
use tonic::metadata::MetadataValue;
use tonic::{Request, Response, Status, Streaming};

use super::audit::{AuditLog, AuditRecord};
use super::auth::Authenticator;
use super::guard::{Guarded, Limits, outcome_of, status_of, wire_schema};
use crate::engine::Engine;

type DoGetStream = <FlightSqlServer as FlightService>::DoGetStream;

/// A prepared statement or statement ticket: the SQL and its bound parameters.
#[derive(Clone, PartialEq, prost::Message)]
struct QueryHandle {
    #[prost(string, tag = "1")]
    sql: String,
    /// One row of parameter values as Flight data (schema message first); empty = none.
    #[prost(message, repeated, tag = "2")]
    parameters: Vec<FlightData>,
}

impl QueryHandle {
    fn decode_from(bytes: &[u8]) -> Result<Self, Status> {
        Self::decode(bytes).map_err(|_| {
            Status::invalid_argument("not a plinkdb statement handle (was it made by this server?)")
        })
    }

    /// The bound values: `$1, $2, ...` from columns named `0, 1, ...` or `$1, $2, ...`
    /// (positional, in column order), `$name` from any other names.
    fn param_values(&self) -> Result<Option<ParamValues>, Status> {
        if self.parameters.is_empty() {
            return Ok(None);
        }
        let batches = arrow_flight::utils::flight_data_to_batches(&self.parameters)
            .map_err(|e| Status::invalid_argument(format!("bad parameter data: {e}")))?;
        let Some(batch) = batches.first() else {
            return Ok(None);
        };
        let schema = batch.schema();
        let positional = schema.fields().iter().all(|f| {
            let name = f.name().trim_start_matches('$');
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit())
        });
        let values = batch
            .columns()
            .iter()
            .map(|c| ScalarValue::try_from_array(c, 0))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| status_of(&e))?;
        Ok(Some(if positional {
            ParamValues::from(values)
        } else {
            ParamValues::Map(
                schema
                    .fields()
                    .iter()
                    .zip(values)
                    .map(|(f, v)| (f.name().trim_start_matches('$').to_string(), v.into()))
                    .collect(),
            )
        }))
    }
}

/// The Flight SQL server state.
pub struct FlightSqlServer {
    engine: Arc<Engine>,
    auth: Arc<Authenticator>,
    limits: Limits,
    read_only: bool,
    permits: Arc<Semaphore>,
    sql_info: SqlInfoData,
    xdbc: XdbcTypeInfoData,
    audit: Arc<AuditLog>,
}

impl std::fmt::Debug for FlightSqlServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlightSqlServer")
            .field("limits", &self.limits)
            .field("read_only", &self.read_only)
            .finish_non_exhaustive()
    }
}

/// A planned query: its session (own memory pool), the plan with parameters bound, and
/// the tables and views the SQL names.
struct Planned {
    ctx: SessionContext,
    plan: LogicalPlan,
    tables: Vec<String>,
}

impl FlightSqlServer {
    /// The service over `engine`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        engine: Arc<Engine>,
        auth: Authenticator,
        limits: Limits,
        read_only: bool,
        max_concurrent: usize,
        sql_info: SqlInfoData,
        xdbc: XdbcTypeInfoData,
        audit: AuditLog,
    ) -> Self {
        Self {
            engine,
            auth: Arc::new(auth),
            limits,
            read_only,
            permits: Arc::new(Semaphore::new(max_concurrent.max(1))),
            sql_info,
            xdbc,
            audit: Arc::new(audit),
        }
    }

    /// Every (catalog, schema) of the session, `information_schema` included, sorted.
    fn schemas(&self) -> Vec<(String, String, Arc<dyn SchemaProvider>)> {
        let state = self.engine.context().state();
        let catalogs = Arc::clone(state.catalog_list());
        let mut out = Vec::new();
        for catalog_name in catalogs.catalog_names() {
            let Some(catalog) = catalogs.catalog(&catalog_name) else {
                continue;
            };
            for schema_name in catalog.schema_names() {
                if let Some(schema) = catalog.schema(&schema_name) {
                    out.push((catalog_name.clone(), schema_name, schema));
                }
            }
            if state.config().information_schema() {
                let info = InformationSchemaProvider::new(Arc::clone(&catalogs))
                    .with_table_functions(state.table_functions().clone());
                out.push((catalog_name, INFORMATION_SCHEMA.to_string(), Arc::new(info)));
            }
        }
        out.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        out
    }

    fn user<T>(&self, request: &Request<T>) -> Result<String, Status> {
        self.auth.authenticate(request.metadata())
    }

    /// A session sharing the engine's catalog and functions, with its own memory pool.
    fn query_context(&self) -> Result<SessionContext, Status> {
        let base = self.engine.context();
        let runtime = RuntimeEnvBuilder::from_runtime_env(base.runtime_env().as_ref())
            .with_memory_pool(Arc::new(FairSpillPool::new(self.limits.memory)))
            .build_arc()
            .map_err(|e| status_of(&e))?;
        let state = SessionStateBuilder::new_from_existing(base.state())
            .with_runtime_env(runtime)
            .build();
        Ok(SessionContext::new_with_state(state))
    }

    /// Plans `handle` under the read-only rules and binds its parameters.
    async fn plan(&self, handle: &QueryHandle) -> Result<Planned, Status> {
        let ctx = self.query_context()?;
        let state = ctx.state();
        let (plan, mut tables) = tokio::time::timeout(self.limits.timeout, async {
            let dialect = state.config().options().sql_parser.dialect;
            let statement = state.sql_to_statement(&handle.sql, &dialect)?;
            let tables: Vec<String> = state
                .resolve_table_references(&statement)?
                .iter()
                .map(ToString::to_string)
                .collect();
            Ok::<_, DataFusionError>((state.statement_to_plan(statement).await?, tables))
        })
        .await
        .map_err(|_| Status::deadline_exceeded("planning ran past server.query_timeout_secs"))?
        .map_err(|e| status_of(&e))?;
        tables.sort();
        tables.dedup();
        if self.read_only {
            datafusion::execution::context::SQLOptions::new()
                .with_allow_ddl(false)
                .with_allow_dml(false)
                .with_allow_statements(false)
                .verify_plan(&plan)
                .map_err(|e| {
                    Status::permission_denied(format!(
                        "this server is read-only (server.read_only): {}",
                        e.strip_backtrace().trim()
                    ))
                })?;
        }
        let plan = match handle.param_values()? {
            Some(values) => plan.with_param_values(values).map_err(|e| status_of(&e))?,
            None => plan,
        };
        Ok(Planned { ctx, plan, tables })
    }

    /// A FlightInfo with one endpoint; the descriptor is the request's (pyarrow's Flight
    /// client rejects a FlightInfo without one).
    fn flight_info(
        &self,
        schema: &Schema,
        ticket: Vec<u8>,
        descriptor: FlightDescriptor,
    ) -> Result<FlightInfo, Status> {
        let info = FlightInfo::new()
            .with_descriptor(descriptor)
            .try_with_schema(schema)
            .map_err(|e| Status::internal(format!("cannot encode the schema: {e}")))?
            .with_endpoint(FlightEndpoint::new().with_ticket(Ticket::new(ticket)))
            .with_ordered(true);
        Ok(info)
    }

    /// A FlightInfo for a metadata command: the ticket is the command itself.
    fn metadata_info<M: ProstMessageExt>(
        &self,
        command: &M,
        schema: &Schema,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let ticket = command.as_any().encode_to_vec();
        Ok(Response::new(self.flight_info(
            schema,
            ticket,
            request.into_inner(),
        )?))
    }

    /// The FlightInfo of a query: planned (and checked) now, its wire schema advertised.
    async fn query_info(
        &self,
        user: &str,
        handle: &QueryHandle,
        ticket: Vec<u8>,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let planned = self
            .plan(handle)
            .await
            .inspect_err(|status| self.audit_refusal(user, handle, status))?;
        let schema = wire_schema(planned.plan.schema().as_arrow());
        let info = self.flight_info(&schema, ticket, request.into_inner())?;
        Ok(Response::new(info))
    }

    /// Audits a query refused at planning (it never runs, so no other record follows).
    fn audit_refusal(&self, user: &str, handle: &QueryHandle, status: &Status) {
        let mut record = AuditRecord::new(user, &handle.sql);
        record.outcome = outcome_of(status);
        self.audit.write(&record);
    }

    /// Runs a query and streams it under the limits; audits the outcome.
    async fn execute(
        &self,
        user: String,
        handle: QueryHandle,
    ) -> Result<Response<DoGetStream>, Status> {
        let started = Instant::now();
        let mut record = AuditRecord::new(&user, &handle.sql);
        match self.start(&handle, started, &mut record).await {
            Ok(stream) => Ok(Response::new(stream)),
            Err(status) => {
                record.duration = started.elapsed();
                record.outcome = outcome_of(&status);
                self.audit.write(&record);
                Err(status)
            }
        }
    }

    async fn start(
        &self,
        handle: &QueryHandle,
        started: Instant,
        record: &mut AuditRecord,
    ) -> Result<DoGetStream, Status> {
        let permit = tokio::time::timeout(
            self.limits.timeout,
            Arc::clone(&self.permits).acquire_owned(),
        )
        .await
        .map_err(|_| {
            Status::resource_exhausted(
                "the server is busy (server.max_concurrent_queries queries running); retry \
                 later",
            )
        })?
        .map_err(|_| Status::unavailable("the server is shutting down"))?;
        let Planned { ctx, plan, tables } = self.plan(handle).await?;
        record.tables = tables;
        let schema = wire_schema(plan.schema().as_arrow());
        let remaining = self.limits.timeout.saturating_sub(started.elapsed());
        let stream = tokio::time::timeout(remaining, async {
            ctx.execute_logical_plan(plan).await?.execute_stream().await
        })
        .await
        .map_err(|_| Status::deadline_exceeded("planning ran past server.query_timeout_secs"))?
        .map_err(|e| status_of(&e))?;
        let guarded = Guarded::new(
            stream,
            Arc::clone(&schema),
            self.limits,
            started,
            (Arc::clone(&self.audit), record.clone()),
            permit,
        );
        let flight = FlightDataEncoderBuilder::new()
            .with_schema(schema)
            .build(guarded.map_err(|s| FlightError::Tonic(Box::new(s))))
            .map_err(Status::from);
        Ok(Box::pin(flight))
    }

    /// Refuses writes on a read-only server; otherwise runs `sql` and returns its count.
    async fn update(&self, user: String, sql: String) -> Result<i64, Status> {
        let handle = QueryHandle {
            sql,
            parameters: Vec::new(),
        };
        let response = self.execute(user, handle).await?;
        let mut stream = FlightRecordBatchStream::new_from_flight_data(
            response.into_inner().map_err(FlightError::from),
        );
        let mut count = -1;
        while let Some(batch) = stream.next().await {
            let batch = batch.map_err(Status::from)?;
            if let Some(c) = batch.column_by_name("count")
                && let Ok(ScalarValue::UInt64(Some(n))) = ScalarValue::try_from_array(c, 0)
            {
                count = i64::try_from(n).unwrap_or(i64::MAX);
            }
        }
        Ok(count)
    }
}

fn batch_stream(batch: RecordBatch) -> Response<DoGetStream> {
    let schema = batch.schema();
    let stream = FlightDataEncoderBuilder::new()
        .with_schema(schema)
        .build(futures::stream::once(async { Ok(batch) }))
        .map_err(Status::from);
    Response::new(Box::pin(stream))
}

fn arrow_status(e: impl std::fmt::Display) -> Status {
    Status::internal(format!("cannot build the result: {e}"))
}

fn table_type_name(t: TableType) -> &'static str {
    match t {
        TableType::Base => "TABLE",
        TableType::View => "VIEW",
        TableType::Temporary => "LOCAL TEMPORARY",
    }
}

/// The spec's schema of GetPrimaryKeys.
fn primary_keys_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("catalog_name", DataType::Utf8, true),
        Field::new("db_schema_name", DataType::Utf8, true),
        Field::new("table_name", DataType::Utf8, false),
        Field::new("column_name", DataType::Utf8, false),
        Field::new("key_name", DataType::Utf8, true),
        Field::new("key_sequence", DataType::Int32, false),
    ]))
}

/// The spec's schema of GetExportedKeys, GetImportedKeys and GetCrossReference.
fn foreign_keys_schema() -> SchemaRef {
    let text = |name: &str, nullable| Field::new(name, DataType::Utf8, nullable);
    Arc::new(Schema::new(vec![
        text("pk_catalog_name", true),
        text("pk_db_schema_name", true),
        text("pk_table_name", false),
        text("pk_column_name", false),
        text("fk_catalog_name", true),
        text("fk_db_schema_name", true),
        text("fk_table_name", false),
        text("fk_column_name", false),
        Field::new("key_sequence", DataType::Int32, false),
        text("fk_key_name", true),
        text("pk_key_name", true),
        Field::new("update_rule", DataType::UInt8, false),
        Field::new("delete_rule", DataType::UInt8, false),
    ]))
}

fn schema_bytes(schema: &Schema) -> Result<prost::bytes::Bytes, Status> {
    let IpcMessage(bytes) = SchemaAsIpc::new(schema, &IpcWriteOptions::default())
        .try_into()
        .map_err(arrow_status)?;
    Ok(bytes)
}

#[tonic::async_trait]
impl FlightSqlService for FlightSqlServer {
    type FlightService = FlightSqlServer;

    async fn do_handshake(
        &self,
        request: Request<Streaming<HandshakeRequest>>,
    ) -> Result<
        Response<Pin<Box<dyn Stream<Item = Result<HandshakeResponse, Status>> + Send>>>,
        Status,
    > {
        let auth = Arc::clone(&self.auth);
        let metadata = request.metadata().clone();
        // Password hashing is deliberately slow: keep it off the async workers.
        let (_, token) = tokio::task::spawn_blocking(move || auth.handshake(&metadata))
            .await
            .map_err(|_| Status::internal("the login check failed"))??;
        let payload = HandshakeResponse {
            protocol_version: 0,
            payload: token.clone().into(),
        };
        let stream: Pin<Box<dyn Stream<Item = _> + Send>> =
            Box::pin(futures::stream::iter([Ok(payload)]));
        let mut response = Response::new(stream);
        let header = MetadataValue::try_from(format!("Bearer {token}"))
            .map_err(|_| Status::internal("cannot encode the token"))?;
        response.metadata_mut().insert("authorization", header);
        Ok(response)
    }

    async fn get_flight_info_statement(
        &self,
        query: CommandStatementQuery,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let user = self.user(&request)?;
        let handle = QueryHandle {
            sql: query.query,
            parameters: Vec::new(),
        };
        let ticket = TicketStatementQuery {
            statement_handle: handle.encode_to_vec().into(),
        };
        self.query_info(&user, &handle, ticket.as_any().encode_to_vec(), request)
            .await
    }

    async fn get_flight_info_prepared_statement(
        &self,
        query: CommandPreparedStatementQuery,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let user = self.user(&request)?;
        let handle = QueryHandle::decode_from(&query.prepared_statement_handle)?;
        self.query_info(&user, &handle, query.as_any().encode_to_vec(), request)
            .await
    }

    async fn do_get_statement(
        &self,
        ticket: TicketStatementQuery,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        let user = self.user(&request)?;
        let handle = QueryHandle::decode_from(&ticket.statement_handle)?;
        self.execute(user, handle).await
    }

    async fn do_get_prepared_statement(
        &self,
        query: CommandPreparedStatementQuery,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        let user = self.user(&request)?;
        let handle = QueryHandle::decode_from(&query.prepared_statement_handle)?;
        self.execute(user, handle).await
    }

    async fn do_action_create_prepared_statement(
        &self,
        query: ActionCreatePreparedStatementRequest,
        request: Request<Action>,
    ) -> Result<ActionCreatePreparedStatementResult, Status> {
        let handle = QueryHandle {
            sql: query.query,
            parameters: Vec::new(),
        };
        let user = self.user(&request)?;
        let planned = match self.plan(&handle).await {
            Ok(planned) => planned,
            // `SELECT f($1)`: the type of $1 may only be known once a value is bound, so
            // the schemas come with the FlightInfo after binding (the spec allows empty
            // ones here). Anything else, read-only refusals included, fails now.
            Err(status)
                if status.code() == tonic::Code::InvalidArgument && handle.sql.contains('$') =>
            {
                return Ok(ActionCreatePreparedStatementResult {
                    prepared_statement_handle: handle.encode_to_vec().into(),
                    dataset_schema: Default::default(),
                    parameter_schema: Default::default(),
                });
            }
            Err(status) => {
                self.audit_refusal(&user, &handle, &status);
                return Err(status);
            }
        };
        let dataset = wire_schema(planned.plan.schema().as_arrow());
        let mut parameters: Vec<(String, Option<DataType>)> = planned
            .plan
            .get_parameter_types()
            .map_err(|e| status_of(&e))?
            .into_iter()
            .collect();
        parameters.sort_by_key(|(name, _)| {
            let n = name
                .trim_start_matches('$')
                .parse::<u64>()
                .unwrap_or(u64::MAX);
            (n, name.clone())
        });
        let parameter_schema = Schema::new(
            parameters
                .into_iter()
                .map(|(name, t)| Field::new(name, t.unwrap_or(DataType::Null), true))
                .collect::<Vec<_>>(),
        );
        Ok(ActionCreatePreparedStatementResult {
            prepared_statement_handle: handle.encode_to_vec().into(),
            dataset_schema: schema_bytes(&dataset)?,
            parameter_schema: schema_bytes(&parameter_schema)?,
        })
    }

    async fn do_put_prepared_statement_query(
        &self,
        query: CommandPreparedStatementQuery,
        request: Request<PeekableFlightDataStream>,
    ) -> Result<DoPutPreparedStatementResult, Status> {
        self.user(&request)?;
        let mut handle = QueryHandle::decode_from(&query.prepared_statement_handle)?;
        let data: Vec<FlightData> = request.into_inner().try_collect().await?;
        // Keep only the schema and record batch messages (the first carries the command).
        let batches = arrow_flight::utils::flight_data_to_batches(
            &data
                .into_iter()
                .filter(|d| !d.data_header.is_empty())
                .collect::<Vec<_>>(),
        )
        .map_err(|e| Status::invalid_argument(format!("bad parameter data: {e}")))?;
        let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
        handle.parameters = match (rows, batches.iter().find(|b| b.num_rows() == 1)) {
            (0, _) => Vec::new(),
            (1, Some(batch)) => {
                arrow_flight::utils::batches_to_flight_data(batch.schema_ref(), vec![batch.clone()])
                    .map_err(arrow_status)?
            }
            _ => {
                return Err(Status::invalid_argument(format!(
                    "a query takes one row of parameters, got {rows} (run it once per row)"
                )));
            }
        };
        Ok(DoPutPreparedStatementResult {
            prepared_statement_handle: Some(handle.encode_to_vec().into()),
        })
    }

    async fn do_action_close_prepared_statement(
        &self,
        _query: ActionClosePreparedStatementRequest,
        request: Request<Action>,
    ) -> Result<(), Status> {
        // Stateless handles: nothing to free.
        self.user(&request)?;
        Ok(())
    }

    async fn do_put_statement_update(
        &self,
        command: CommandStatementUpdate,
        request: Request<PeekableFlightDataStream>,
    ) -> Result<i64, Status> {
        let user = self.user(&request)?;
        self.update(user, command.query).await
    }

    async fn do_put_prepared_statement_update(
        &self,
        command: CommandPreparedStatementUpdate,
        request: Request<PeekableFlightDataStream>,
    ) -> Result<i64, Status> {
        let user = self.user(&request)?;
        let handle = QueryHandle::decode_from(&command.prepared_statement_handle)?;
        self.update(user, handle.sql).await
    }

    async fn get_flight_info_catalogs(
        &self,
        query: CommandGetCatalogs,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.user(&request)?;
        let schema = query.into_builder().schema();
        self.metadata_info(&query, &schema, request)
    }

    async fn do_get_catalogs(
        &self,
        query: CommandGetCatalogs,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        self.user(&request)?;
        let mut builder = query.into_builder();
        let mut names = self.engine.context().catalog_names();
        names.sort();
        for name in names {
            builder.append(name);
        }
        Ok(batch_stream(builder.build().map_err(arrow_status)?))
    }

    async fn get_flight_info_schemas(
        &self,
        query: CommandGetDbSchemas,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.user(&request)?;
        let schema = query.clone().into_builder().schema();
        self.metadata_info(&query, &schema, request)
    }

    async fn do_get_schemas(
        &self,
        query: CommandGetDbSchemas,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        self.user(&request)?;
        let mut builder = query.into_builder();
        for (catalog_name, schema_name, _) in self.schemas() {
            builder.append(catalog_name, schema_name);
        }
        Ok(batch_stream(builder.build().map_err(arrow_status)?))
    }

    async fn get_flight_info_tables(
        &self,
        query: CommandGetTables,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.user(&request)?;
        let schema = query.clone().into_builder().schema();
        self.metadata_info(&query, &schema, request)
    }

    async fn do_get_tables(
        &self,
        query: CommandGetTables,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        self.user(&request)?;
        let mut builder = query.into_builder();
        for (catalog_name, schema_name, schema) in self.schemas() {
            let mut names = schema.table_names();
            names.sort();
            for table_name in names {
                let Some(table) = schema.table(&table_name).await.map_err(|e| status_of(&e))?
                else {
                    continue;
                };
                builder
                    .append(
                        &catalog_name,
                        &schema_name,
                        &table_name,
                        table_type_name(table.table_type()),
                        &wire_schema(&table.schema()),
                    )
                    .map_err(arrow_status)?;
            }
        }
        Ok(batch_stream(builder.build().map_err(arrow_status)?))
    }

    async fn get_flight_info_table_types(
        &self,
        query: CommandGetTableTypes,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.user(&request)?;
        let schema = query.into_builder().schema();
        self.metadata_info(&query, &schema, request)
    }

    async fn do_get_table_types(
        &self,
        query: CommandGetTableTypes,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        self.user(&request)?;
        let mut builder = query.into_builder();
        for t in ["LOCAL TEMPORARY", "TABLE", "VIEW"] {
            builder.append(t);
        }
        Ok(batch_stream(builder.build().map_err(arrow_status)?))
    }

    async fn get_flight_info_sql_info(
        &self,
        query: CommandGetSqlInfo,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.user(&request)?;
        let schema = query.clone().into_builder(&self.sql_info).schema();
        self.metadata_info(&query, &schema, request)
    }

    async fn do_get_sql_info(
        &self,
        query: CommandGetSqlInfo,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        self.user(&request)?;
        let batch = query
            .into_builder(&self.sql_info)
            .build()
            .map_err(arrow_status)?;
        Ok(batch_stream(batch))
    }

    async fn get_flight_info_xdbc_type_info(
        &self,
        query: CommandGetXdbcTypeInfo,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.user(&request)?;
        let schema = query.into_builder(&self.xdbc).schema();
        self.metadata_info(&query, &schema, request)
    }

    async fn do_get_xdbc_type_info(
        &self,
        query: CommandGetXdbcTypeInfo,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        self.user(&request)?;
        let batch = query
            .into_builder(&self.xdbc)
            .build()
            .map_err(arrow_status)?;
        Ok(batch_stream(batch))
    }

    async fn get_flight_info_primary_keys(
        &self,
        query: CommandGetPrimaryKeys,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.user(&request)?;
        self.metadata_info(&query, &primary_keys_schema(), request)
    }

    async fn do_get_primary_keys(
        &self,
        _query: CommandGetPrimaryKeys,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        self.user(&request)?;
        Ok(batch_stream(RecordBatch::new_empty(primary_keys_schema())))
    }

    async fn get_flight_info_exported_keys(
        &self,
        query: CommandGetExportedKeys,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.user(&request)?;
        self.metadata_info(&query, &foreign_keys_schema(), request)
    }

    async fn do_get_exported_keys(
        &self,
        _query: CommandGetExportedKeys,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        self.user(&request)?;
        Ok(batch_stream(RecordBatch::new_empty(foreign_keys_schema())))
    }

    async fn get_flight_info_imported_keys(
        &self,
        query: CommandGetImportedKeys,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.user(&request)?;
        self.metadata_info(&query, &foreign_keys_schema(), request)
    }

    async fn do_get_imported_keys(
        &self,
        _query: CommandGetImportedKeys,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        self.user(&request)?;
        Ok(batch_stream(RecordBatch::new_empty(foreign_keys_schema())))
    }

    async fn get_flight_info_cross_reference(
        &self,
        query: CommandGetCrossReference,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.user(&request)?;
        self.metadata_info(&query, &foreign_keys_schema(), request)
    }

    async fn do_get_cross_reference(
        &self,
        _query: CommandGetCrossReference,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        self.user(&request)?;
        Ok(batch_stream(RecordBatch::new_empty(foreign_keys_schema())))
    }

    async fn register_sql_info(&self, _id: i32, _result: &SqlInfo) {}
}
