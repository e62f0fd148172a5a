//! `plinkdb serve` against real Flight SQL clients: the ADBC Flight SQL driver and
//! Superset's `flightsql-dbapi` (`tests/requirements.txt`), run by
//! `tests/python/flight_clients.py` against the binary on 127.0.0.1. Results are compared
//! with the same queries run by the engine in process.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use datafusion::arrow::json::{ArrayWriter, WriterBuilder};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::ScalarValue;
use plinkdb::Engine;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const USER: &str = "analyst";
const PASSWORD: &str = "correct horse battery staple";

fn python() -> PathBuf {
    match std::env::var("PLINKDB_PYTHON") {
        Ok(p) => PathBuf::from(p),
        Err(_) => Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python"),
    }
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/flight_clients.py")
}

/// A `plinkdb serve` child process on 127.0.0.1 with a free port; killed on drop.
struct Server {
    child: Child,
    uri: String,
    _dir: tempfile::TempDir,
}

impl Server {
    /// Starts the server on the sample with `server_toml` under `[server]`.
    fn start(server_toml: &str, env: &[(&str, &str)]) -> Self {
        Self::start_in(tempfile::tempdir().expect("temp dir"), server_toml, env)
    }

    /// Starts the server with its config file in `dir` (files there are relative to it).
    fn start_in(dir: tempfile::TempDir, server_toml: &str, env: &[(&str, &str)]) -> Self {
        let config = dir.path().join("plinkdb.toml");
        std::fs::write(&config, format!("[server]\n{server_toml}\n")).expect("write config");
        let sample = plinkdb::engine::sample_dir();
        let mut command = Command::new(env!("CARGO_BIN_EXE_plinkdb"));
        command
            .args(["serve", "--addr", "127.0.0.1:0", "--config"])
            .arg(&config)
            .arg("--data")
            .arg(&sample)
            .env_remove("PLINKDB_CONFIG")
            .env_remove("PLINKDB_DATA")
            .env_remove("PLINKDB_USER")
            .env_remove("PLINKDB_PASSWORD")
            .env("PLINKDB_SECRET_KEY", "plinkdb-demo-key")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("start plinkdb serve");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the bound address");
        let addr = line
            .trim()
            .rsplit(' ')
            .next()
            .filter(|a| a.starts_with("127.0.0.1:"))
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .to_string();
        let scheme = if server_toml.contains("tls_cert") {
            "grpc+tls"
        } else {
            "grpc"
        };
        Self {
            child,
            uri: format!("{scheme}://{addr}"),
            _dir: dir,
        }
    }

    fn dir(&self) -> &Path {
        self._dir.path()
    }

    /// Resident memory of the server process, KiB.
    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("read /proc status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS")
    }

    /// Runs the client script; returns its JSON output.
    fn clients(&self, args: &[&str]) -> Value {
        run_clients(&self.uri, args)
    }
}

/// Runs `flight_clients.py` against `uri`; returns its JSON output.
fn run_clients(uri: &str, args: &[&str]) -> Value {
    let output = Command::new(python())
        .arg(script())
        .args(args)
        .env("FLIGHT_URI", uri)
        .env("FLIGHT_USER", USER)
        .env("FLIGHT_PASSWORD", PASSWORD)
        .output()
        .expect("run python (PLINKDB_PYTHON or .venv; see tests/requirements.txt)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "flight_clients.py {args:?} failed:\n{}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(stdout.trim()).expect("JSON from flight_clients.py")
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn to_json(batches: &[RecordBatch]) -> Value {
    let mut writer: ArrayWriter<Vec<u8>> = WriterBuilder::new()
        .with_explicit_nulls(true)
        .build(Vec::new());
    for batch in batches {
        writer.write(batch).expect("json");
    }
    writer.finish().expect("json");
    let bytes = writer.into_inner();
    if bytes.is_empty() {
        return json!([]);
    }
    serde_json::from_slice(&bytes).expect("json")
}

/// The queries the clients run, with the engine's own answers.
async fn expected(timeout_secs: u64) -> Value {
    let engine = Engine::open_default().await.expect("open the sample");
    let keyed = plinkdb_udfs::UdfOptions {
        secret_key: Some(b"plinkdb-demo-key".to_vec()),
        ..Default::default()
    };
    plinkdb_udfs::register_all_with(engine.context(), &keyed).expect("register");
    let queries: [(&str, &str, Option<Vec<Value>>); 4] = [
        (
            "events per platform",
            "SELECT platform, count(*) AS n FROM events GROUP BY platform ORDER BY platform",
            None,
        ),
        (
            "window_funnel",
            "SELECT level, count(*) AS accounts FROM (SELECT account_id, \
             window_funnel(INTERVAL '1 hour', event_ts, event_type = 'live_enter', \
             event_type = 'product_click', event_type = 'order_paid') AS level FROM events \
             GROUP BY account_id) GROUP BY level ORDER BY level",
            None,
        ),
        (
            "phone_key with $1",
            "SELECT phone_key($1) AS k, normalize_phone($1) AS p",
            Some(vec![json!("138 0013 8000")]),
        ),
        (
            "$1 and $2",
            "SELECT event_type, count(*) AS n, sum(amount_fen) AS fen FROM events \
             WHERE platform = $1 AND amount_fen > $2 GROUP BY event_type ORDER BY event_type",
            Some(vec![json!("douyin"), json!(1000)]),
        ),
    ];
    let mut out = Vec::new();
    for (name, sql, params) in queries {
        let mut df = engine.sql(sql).await.expect(name);
        if let Some(params) = &params {
            let values: Vec<ScalarValue> = params
                .iter()
                .map(|p| match p {
                    Value::String(s) => ScalarValue::Utf8(Some(s.clone())),
                    Value::Number(n) => ScalarValue::Int64(n.as_i64()),
                    other => panic!("param {other}"),
                })
                .collect();
            df = df.with_param_values(values).expect(name);
        }
        let rows = to_json(&df.collect().await.expect(name));
        assert!(
            rows.as_array().is_some_and(|r| !r.is_empty()),
            "{name}: no rows"
        );
        out.push(json!({"name": name, "sql": sql, "params": params, "rows": rows}));
    }
    let tables = engine
        .query(
            "SELECT table_schema, table_name FROM information_schema.tables \
             ORDER BY 1, 2",
        )
        .await
        .expect("tables");
    let tables: Vec<Value> = to_json(&tables)
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| json!([r["table_schema"], r["table_name"]]))
        .collect();
    let events = engine.sql("SELECT * FROM events").await.expect("events");
    let columns: Vec<&String> = events.schema().fields().iter().map(|f| f.name()).collect();
    json!({
        "queries": out,
        "tables": tables,
        "events_columns": columns,
        "version": env!("CARGO_PKG_VERSION"),
        "timeout_secs": timeout_secs,
    })
}

/// A password hash as an admin makes it.
fn hash_password(password: &str) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_plinkdb"))
        .args(["serve", "--hash-password"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run plinkdb");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(password.as_bytes())
        .expect("write password");
    let output = child.wait_with_output().expect("hash");
    assert!(output.status.success());
    String::from_utf8(output.stdout)
        .expect("utf8")
        .trim()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adbc_and_superset_clients() {
    let hash = hash_password(PASSWORD);
    assert!(hash.starts_with("pbkdf2-sha256$600000$"), "{hash}");
    let timeout = 10;
    let server = Server::start(
        &format!(
            "max_result_rows = 1000000\nquery_timeout_secs = {timeout}\n\
             query_memory_limit = \"256MiB\"\n\
             audit_log = \"audit.jsonl\"\n[[server.users]]\nname = \"{USER}\"\n\
             password_hash = \"{hash}\"\n"
        ),
        &[],
    );
    let expected = expected(timeout).await;
    let path = server.dir().join("expected.json");
    std::fs::write(&path, expected.to_string()).expect("write expectations");
    let result = server.clients(&["check", path.to_str().expect("utf8 path")]);
    let passed = result["passed"].as_array().expect("passed");
    assert_eq!(passed.len(), 19, "{result}");

    // The audit log: one line per query, SQL only as its hash, outcomes with codes.
    let audit = std::fs::read_to_string(server.dir().join("audit.jsonl")).expect("audit log");
    let records: Vec<Value> = audit
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    let select_1 = hex::encode(Sha256::digest(b"SELECT 1 AS x"));
    let first = records
        .iter()
        .find(|r| r["sql_sha256"] == select_1.as_str())
        .unwrap_or_else(|| panic!("no record of SELECT 1 AS x in {audit}"));
    assert_eq!(first["user"], USER);
    assert_eq!(first["outcome"], "ok");
    assert_eq!(first["rows"], 1);
    let platforms = records
        .iter()
        .find(|r| r["tables"] == json!(["events"]) && r["outcome"] == "ok")
        .unwrap_or_else(|| panic!("no query of events in {audit}"));
    assert!(platforms["rows"].as_u64().is_some_and(|n| n > 0));
    for outcome in ["PermissionDenied", "ResourceExhausted", "DeadlineExceeded"] {
        assert!(
            records.iter().any(|r| r["outcome"]
                .as_str()
                .is_some_and(|o| o.starts_with(outcome))),
            "no {outcome} in {audit}"
        );
    }
    assert!(!audit.contains("13800138000") && !audit.contains("138 0013 8000"));
}

/// 32 ADBC clients run mixed queries (aggregates, parameters, funnels, metadata) for 30 s
/// on loopback: no errors, and the server's memory does not grow past its warmed-up level
/// (by more than 128 MiB of allocator noise).
#[test]
fn load_32_clients_30_seconds() {
    let server = Server::start(
        "",
        &[("PLINKDB_USER", USER), ("PLINKDB_PASSWORD", PASSWORD)],
    );
    // Warm up (catalog caches, 32 connections, allocator arenas) before the baseline, so
    // that growth over the next 30 s would be a leak, not the first high-water mark.
    let warm = server.clients(&["load", "32", "10"]);
    assert_eq!(warm["error_count"], 0, "{warm}");
    let before = server.rss_kib();
    let result = server.clients(&["load", "32", "30"]);
    let after = server.rss_kib();
    eprintln!(
        "flight load: {} queries by 32 clients in 30 s, server RSS {} MiB -> {} MiB",
        result["queries"],
        before / 1024,
        after / 1024
    );
    assert_eq!(result["error_count"], 0, "{result}");
    assert!(
        result["queries"].as_u64().is_some_and(|n| n >= 32),
        "{result}"
    );
    assert!(
        after < before + 128 * 1024,
        "server RSS grew from {before} KiB to {after} KiB"
    );
}

#[test]
fn refuses_to_start_without_users_or_on_plaintext_remote() {
    let output = Command::new(env!("CARGO_BIN_EXE_plinkdb"))
        .args(["serve", "--addr", "127.0.0.1:0"])
        .env_remove("PLINKDB_USER")
        .env_remove("PLINKDB_PASSWORD")
        .env_remove("PLINKDB_CONFIG")
        .output()
        .expect("run plinkdb");
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(err.contains("needs at least one user"), "{err}");
    let output = Command::new(env!("CARGO_BIN_EXE_plinkdb"))
        .args(["serve", "--addr", "0.0.0.0:0"])
        .env("PLINKDB_USER", USER)
        .env("PLINKDB_PASSWORD", PASSWORD)
        .env_remove("PLINKDB_CONFIG")
        .output()
        .expect("run plinkdb");
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(err.contains("refusing to serve plaintext"), "{err}");
}

#[test]
fn tls_from_config() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().to_str().expect("utf8 path").to_string();
    run_clients("grpc://127.0.0.1:0", &["cert", &path]);
    let server = Server::start_in(
        dir,
        "tls_cert = \"server.pem\"\ntls_key = \"server.key\"",
        &[("PLINKDB_USER", USER), ("PLINKDB_PASSWORD", PASSWORD)],
    );
    assert!(server.uri.starts_with("grpc+tls://"), "{}", server.uri);
    let result = server.clients(&["tls", &path]);
    assert_eq!(
        result["passed"].as_array().map(Vec::len),
        Some(2),
        "{result}"
    );
}
