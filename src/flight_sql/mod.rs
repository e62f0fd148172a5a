//! Arrow Flight SQL: the engine's session (every table, view and plinkdb function) served
//! to BI tools and notebooks over ADBC, JDBC and Superset's `flightsql-dbapi`.
//!
//! Safe by default: logins from `[server.users]` (or `PLINKDB_USER`/`PLINKDB_PASSWORD`),
//! expiring bearer tokens checked on every call, read-only, per-query memory and time
//! limits, a concurrency limit, capped results, an audit log, and plaintext only on
//! loopback. See [`crate::config::ServerConfig`] for the settings.

pub mod audit;
pub mod auth;
mod guard;
mod service;
pub mod sql_info;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use arrow_flight::flight_service_server::FlightServiceServer;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Identity, Server, ServerTlsConfig};

use crate::config::{ServerConfig, parse_bytes};
use crate::engine::Engine;
use crate::error::{Error, Result};
pub use guard::Limits;
pub use service::FlightSqlServer;

/// Largest DoPut message (parameters) a client may send.
const MAX_REQUEST_BYTES: usize = 16 << 20;

/// Serves `engine` on `addr` until Ctrl-C; `on_bound` gets the bound address (useful
/// with port 0).
///
/// # Errors
/// No users, a bad limit, plaintext on a non-loopback address, unreadable TLS files or an
/// address that cannot be bound.
pub async fn serve(
    engine: Engine,
    addr: SocketAddr,
    on_bound: impl FnOnce(SocketAddr),
) -> Result<()> {
    let config = engine.config().server.clone();
    let tls = tls_config(&engine, &config)?;
    if tls.is_none() && !addr.ip().is_loopback() && !config.allow_plaintext_remote {
        return Err(Error::Usage(format!(
            "refusing to serve plaintext on {addr}: set server.tls_cert and server.tls_key, \
             listen on 127.0.0.1, or set server.allow_plaintext_remote = true"
        )));
    }
    let service = service_for(Arc::new(engine), &config)?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| Error::Usage(format!("cannot listen on {addr}: {e}")))?;
    let bound = listener
        .local_addr()
        .map_err(|e| Error::Usage(format!("cannot listen on {addr}: {e}")))?;
    let mut builder = Server::builder()
        .http2_keepalive_interval(Some(Duration::from_secs(30)))
        .tcp_nodelay(true);
    if let Some(tls) = tls {
        builder = builder
            .tls_config(tls)
            .map_err(|e| Error::Usage(format!("server TLS: {e}")))?;
    }
    on_bound(bound);
    let flight = FlightServiceServer::new(service)
        .max_decoding_message_size(MAX_REQUEST_BYTES)
        .max_encoding_message_size(usize::MAX);
    builder
        .add_service(flight)
        .serve_with_incoming_shutdown(TcpIncoming::from(listener), async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| Error::Usage(format!("the Flight SQL server stopped: {e}")))
}

/// The service for `engine` under `config` (users, limits, audit log).
///
/// # Errors
/// No users, a bad limit or an audit log that cannot be opened.
pub fn service_for(engine: Arc<Engine>, config: &ServerConfig) -> Result<FlightSqlServer> {
    let auth = auth::Authenticator::from_config(config)?;
    let limits = Limits {
        memory: parse_bytes(&config.query_memory_limit)
            .map_err(|e| Error::Usage(format!("server.query_memory_limit: {e}")))?,
        timeout: Duration::from_secs(config.query_timeout_secs.max(1)),
        max_rows: config.max_result_rows,
        max_bytes: parse_bytes(&config.max_result_bytes)
            .map_err(|e| Error::Usage(format!("server.max_result_bytes: {e}")))?
            as u64,
    };
    let audit_path = config
        .audit_log
        .as_ref()
        .map(|p| engine.config().resolve_location(p));
    let audit = audit::AuditLog::open(audit_path.as_deref().map(Path::new))?;
    let sql_info = sql_info::sql_info_data(config.read_only)
        .map_err(|e| Error::Usage(format!("server info: {e}")))?;
    let xdbc = sql_info::xdbc_type_info_data()
        .map_err(|e| Error::Usage(format!("server type info: {e}")))?;
    Ok(FlightSqlServer::new(
        engine,
        auth,
        limits,
        config.read_only,
        config.max_concurrent_queries,
        sql_info,
        xdbc,
        audit,
    ))
}

fn tls_config(engine: &Engine, config: &ServerConfig) -> Result<Option<ServerTlsConfig>> {
    let (Some(cert), Some(key)) = (&config.tls_cert, &config.tls_key) else {
        return Ok(None);
    };
    let read = |p: &str| {
        let path = engine.config().resolve_location(p);
        std::fs::read(&path).map_err(|e| Error::io(path, e))
    };
    let identity = Identity::from_pem(read(cert)?, read(key)?);
    Ok(Some(ServerTlsConfig::new().identity(identity)))
}
