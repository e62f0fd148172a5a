//! Shared helpers: a generated dataset per test process, running the binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use plinkdb::Engine;
use plinkdb_datasets::GenConfig;

/// A small generated dataset, made once per test process.
pub fn dataset() -> &'static Path {
    static DIR: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &DIR.get_or_init(|| {
        let tmp = tempfile::tempdir().expect("temp dir");
        let out = tmp.path().join("ds");
        let config = GenConfig {
            persons: 400,
            days: 10,
            seed: 11,
            ..GenConfig::default()
        };
        plinkdb_datasets::generate(&config, &out, false, &|_| {}).expect("generate");
        (tmp, out)
    })
    .1
}

/// Copies a directory tree (to damage a copy, not the shared dataset).
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// Every file below `dir` whose path contains `needle`, sorted.
pub fn files_under(dir: &Path, needle: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read_dir").flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.to_string_lossy().contains(needle) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Runs the `plinkdb` binary.
pub fn plinkdb(args: &[&str]) -> Output {
    plinkdb_with_env(args, &[])
}

/// The `plinkdb` binary under test: Cargo's, or `$PLINKDB_TEST_BIN` (a copy taken right
/// after building, when other worktrees rebuild the shared target directory meanwhile).
pub fn binary() -> PathBuf {
    std::env::var_os("PLINKDB_TEST_BIN").map_or_else(
        || PathBuf::from(env!("CARGO_BIN_EXE_plinkdb")),
        PathBuf::from,
    )
}

/// Runs the `plinkdb` binary with extra environment variables.
pub fn plinkdb_with_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(binary());
    command
        .args(args)
        .env_remove("PLINKDB_CONFIG")
        .env_remove("PLINKDB_DATA");
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("run plinkdb")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts success and returns stdout.
pub fn ok(output: Output) -> String {
    assert!(
        output.status.success(),
        "plinkdb failed: {}\n{}",
        stderr(&output),
        stdout(&output)
    );
    stdout(&output)
}

/// Asserts a clean failure (exit 1, an `error:` paragraph, no panic or backtrace) and
/// returns stderr.
pub fn fails(output: Output) -> String {
    let err = stderr(&output);
    assert_eq!(
        output.status.code(),
        Some(1),
        "expected failure, got: {err}"
    );
    assert!(err.starts_with("error: "), "{err}");
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "{err}"
    );
    assert!(!err.contains("internal error"), "{err}");
    err
}

/// Every value of `batches` as text (NULL as `None`), row by row.
pub fn rows(batches: &[RecordBatch]) -> Vec<Vec<Option<String>>> {
    let mut out = Vec::new();
    for b in batches {
        let cols: Vec<_> = b
            .columns()
            .iter()
            .map(|c| {
                datafusion::arrow::compute::cast(c, &datafusion::arrow::datatypes::DataType::Utf8)
                    .expect("cast")
            })
            .collect();
        for r in 0..b.num_rows() {
            out.push(
                cols.iter()
                    .map(|c| {
                        let s = c.as_string::<i32>();
                        s.is_valid(r).then(|| s.value(r).to_string())
                    })
                    .collect(),
            );
        }
    }
    out
}

/// Runs `sql` and returns its rows as text.
pub async fn query(engine: &Engine, sql: &str) -> Vec<Vec<Option<String>>> {
    rows(&engine.query(sql).await.expect(sql))
}

/// Runs every statement of a SQL file of the repository (e.g. `sql/identity/people_events.sql`).
pub async fn run_sql_file(engine: &Engine, path: &str) {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    let sql = std::fs::read_to_string(&file).expect("read SQL file");
    for statement in plinkdb::engine::split_statements(&sql).expect("parse") {
        engine
            .statement(statement)
            .await
            .expect(path)
            .collect()
            .await
            .expect(path);
    }
}

/// Runs built-in job `name` for `base_date` in the engine's session, without publishing
/// (see `plinkdb::jobs::run_in_session`); its output becomes an in-memory table.
pub async fn run_job(engine: &Engine, name: &str, base_date: &str) {
    let date = plinkdb::jobs::Date::parse(base_date).expect("date");
    plinkdb::jobs::run_in_session(engine, name, date)
        .await
        .unwrap_or_else(|e| panic!("job {name} for {base_date}: {e}"));
}
