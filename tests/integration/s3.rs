//! The same dataset through `s3://` (a real S3 server: moto_server on 127.0.0.1, random
//! port) and from local disk gives exactly the same answers.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use object_store::aws::AmazonS3Builder;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

use crate::support::{dataset, fails, files_under, ok, plinkdb_with_env};

pub(crate) const BUCKET: &str = "plinkdb-test";

/// moto_server, killed when dropped.
pub(crate) struct Moto {
    child: Child,
    pub(crate) endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn moto_binary() -> PathBuf {
    let path = std::env::var_os("PLINKDB_MOTO_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/moto_server"));
    assert!(
        path.exists(),
        "moto_server not found at {}: run ./scripts/test.sh, which installs it",
        path.display()
    );
    path
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

pub(crate) fn start_moto() -> Moto {
    let port = free_port();
    let child = Command::new(moto_binary())
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start moto_server");
    let moto = Moto {
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
    };
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "moto_server did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    moto
}

/// `PUT /bucket`: moto accepts unsigned bucket creation.
pub(crate) fn create_bucket(endpoint: &str, bucket: &str) {
    let host = endpoint.trim_start_matches("http://");
    let mut stream = TcpStream::connect(host).expect("connect");
    write!(
        stream,
        "PUT /{bucket} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
}

fn store(endpoint: &str) -> Arc<dyn ObjectStore> {
    Arc::new(
        AmazonS3Builder::new()
            .with_bucket_name(BUCKET)
            .with_endpoint(endpoint)
            .with_region("us-east-1")
            .with_access_key_id("test")
            .with_secret_access_key("test")
            .with_allow_http(true)
            .with_virtual_hosted_style_request(false)
            .build()
            .expect("s3 client"),
    )
}

async fn upload(store: &dyn ObjectStore, root: &Path, prefix: &str) -> usize {
    let files = files_under(root, ".parquet");
    for file in &files {
        let rel = file
            .strip_prefix(root)
            .expect("under root")
            .to_string_lossy();
        let bytes = std::fs::read(file).expect("read");
        store
            .put(
                &object_store::path::Path::from(format!("{prefix}/{rel}")),
                PutPayload::from(bytes),
            )
            .await
            .expect("upload");
    }
    files.len()
}

fn config(dir: &Path, endpoint: &str) -> PathBuf {
    let path = dir.join("plinkdb.toml");
    std::fs::write(
        &path,
        format!(
            "[data]\nroot = \"s3://{BUCKET}/exports\"\n\n[[stores]]\nurl = \"s3://{BUCKET}\"\n\
             endpoint = \"{endpoint}\"\nregion = \"us-east-1\"\npath_style = true\n"
        ),
    )
    .expect("write config");
    path
}

pub(crate) const CREDENTIALS: &[(&str, &str)] = &[
    ("AWS_ACCESS_KEY_ID", "test"),
    ("AWS_SECRET_ACCESS_KEY", "test"),
];

const QUERIES: &[&str] = &[
    "SELECT platform, event_type, count(*) AS n, sum(amount_fen) AS fen FROM events \
     GROUP BY 1, 2 ORDER BY 1, 2",
    "SELECT dt, count(DISTINCT account_id) AS accounts FROM events GROUP BY dt ORDER BY dt",
    "SELECT platform, min(event_ts) AS first, max(event_ts) AS last FROM events \
     WHERE dt = DATE '2026-10-04' GROUP BY 1 ORDER BY 1",
    "SELECT count(*) AS members, count(DISTINCT phone_key) AS phones FROM members",
    "SELECT event_id, account_id, amount_fen FROM events WHERE event_type = 'order_paid' \
     ORDER BY event_id LIMIT 20",
    "SELECT count(*) AS persons FROM truth.persons",
];

#[tokio::test(flavor = "multi_thread")]
async fn s3_and_local_give_the_same_answers() {
    let moto = start_moto();
    create_bucket(&moto.endpoint, BUCKET);
    let uploaded = upload(store(&moto.endpoint).as_ref(), dataset(), "exports").await;
    assert!(uploaded > 20, "{uploaded} files");

    let dir = tempfile::tempdir().expect("tmp");
    let config = config(dir.path(), &moto.endpoint);
    let config = config.to_string_lossy();
    let local = dataset().to_string_lossy().into_owned();
    for sql in QUERIES {
        let from_s3 = ok(plinkdb_with_env(
            &["query", "--config", &config, "--format", "csv", sql],
            CREDENTIALS,
        ));
        let from_disk = ok(plinkdb_with_env(
            &["query", "--data", &local, "--format", "csv", sql],
            &[],
        ));
        assert!(from_disk.lines().count() > 1, "{sql}: {from_disk}");
        assert_eq!(from_s3, from_disk, "{sql}");
    }
}

#[test]
fn refusing_endpoint_fails_fast_and_names_the_store() {
    let dir = tempfile::tempdir().expect("tmp");
    // nothing listens on a port we just freed
    let config = config(dir.path(), &format!("http://127.0.0.1:{}", free_port()));
    let started = Instant::now();
    let err = fails(plinkdb_with_env(
        &["query", "--config", &config.to_string_lossy(), "SELECT 1"],
        CREDENTIALS,
    ));
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "took {:?}",
        started.elapsed()
    );
    assert!(err.contains(&format!("s3://{BUCKET}/exports")), "{err}");
    assert!(err.contains("cannot reach the object store"), "{err}");
}

#[test]
fn missing_bucket_names_the_source() {
    let moto = start_moto();
    let dir = tempfile::tempdir().expect("tmp");
    let config = config(dir.path(), &moto.endpoint);
    let err = fails(plinkdb_with_env(
        &["query", "--config", &config.to_string_lossy(), "SELECT 1"],
        CREDENTIALS,
    ));
    assert!(err.contains("raw.douyin_live_push"), "{err}");
}
