//! The `plinkdb query` contract: formats, statements, and counts that agree with the
//! generator's own ground truth.

use std::collections::BTreeMap;

use crate::support::{dataset, ok, plinkdb};

fn data() -> String {
    dataset().to_string_lossy().into_owned()
}

fn csv_rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

#[test]
fn platform_counts_agree_with_ground_truth() {
    let events = ok(plinkdb(&[
        "query",
        "--data",
        &data(),
        "--format",
        "csv",
        "SELECT platform, count(*) FROM events GROUP BY 1",
    ]));
    let truth = ok(plinkdb(&[
        "query",
        "--data",
        &data(),
        "--format",
        "csv",
        "SELECT platform, sum(events) FROM truth.event_counts GROUP BY 1",
    ]));
    let parse = |text: &str| -> BTreeMap<String, u64> {
        csv_rows(text)
            .into_iter()
            .skip(1)
            .map(|r| (r[0].clone(), r[1].parse().expect("a count")))
            .collect()
    };
    let (events, truth) = (parse(&events), parse(&truth));
    assert_eq!(events.len(), 4, "{events:?}");
    assert_eq!(events, truth);
}

#[test]
fn event_types_agree_with_ground_truth() {
    let diff = ok(plinkdb(&[
        "query",
        "--data",
        &data(),
        "--format",
        "csv",
        "SELECT count(*) FROM (
            SELECT platform, event_type, count(*) AS n FROM events GROUP BY 1, 2
         ) e FULL JOIN truth.event_counts t USING (platform, event_type)
         WHERE e.n IS DISTINCT FROM t.events",
    ]));
    assert_eq!(diff, "count(*)\n0\n");
}

#[test]
fn csv_has_a_header_and_ddl_prints_nothing() {
    let out = ok(plinkdb(&[
        "query",
        "--format",
        "csv",
        "CREATE VIEW v AS SELECT 1 AS a, 'x' AS b; SET datafusion.execution.batch_size = 1024; \
         SELECT * FROM v; SELECT a FROM v WHERE a > 5",
    ]));
    assert_eq!(out, "a,b\n1,x\na\n");
}

#[test]
fn json_is_one_object_per_row_with_nulls() {
    let out = ok(plinkdb(&[
        "query",
        "--format",
        "json",
        "CREATE VIEW v AS SELECT * FROM (VALUES (1, 'x'), (2, NULL)) AS t(a, b); \
         SELECT * FROM v ORDER BY a",
    ]));
    assert_eq!(out, "{\"a\":1,\"b\":\"x\"}\n{\"a\":2,\"b\":null}\n");
}

#[test]
fn table_output_is_aligned() {
    let out = ok(plinkdb(&["query", "SELECT 1 AS one"]));
    assert!(out.contains("| one |"), "{out}");
}

#[test]
fn parquet_output_is_written_atomically_and_reads_back() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("out.parquet");
    let path_str = path.to_string_lossy().into_owned();
    ok(plinkdb(&[
        "query",
        "--format",
        "parquet",
        "--output",
        &path_str,
        "SELECT platform, count(*) AS n FROM events GROUP BY 1",
    ]));
    let back = ok(plinkdb(&[
        "query",
        "--format",
        "csv",
        &format!("SELECT count(*) AS platforms FROM '{path_str}'"),
    ]));
    assert_eq!(back, "platforms\n4\n");
    // a failing query leaves the previous output in place
    let failed = plinkdb(&[
        "query",
        "--format",
        "parquet",
        "--output",
        &path_str,
        "SELECT yuan_to_fen('not money')",
    ]);
    assert!(!failed.status.success());
    let again = ok(plinkdb(&[
        "query",
        "--format",
        "csv",
        &format!("SELECT count(*) AS platforms FROM '{path_str}'"),
    ]));
    assert_eq!(again, "platforms\n4\n");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "{leftovers:?}");
}

#[test]
fn scripts_come_from_files_and_stdin() {
    let dir = tempfile::tempdir().expect("tmp");
    let script = dir.path().join("q.sql");
    std::fs::write(&script, "SELECT 40 + 2 AS answer;\n").expect("write");
    let out = ok(plinkdb(&[
        "query",
        "--format",
        "csv",
        "-f",
        &script.to_string_lossy(),
    ]));
    assert_eq!(out, "answer\n42\n");
}

#[test]
fn no_raw_phone_reaches_a_table() {
    // Members carry keyed hashes only: 64 hex characters, never 11-digit mobiles.
    let out = ok(plinkdb(&[
        "query",
        "--data",
        &data(),
        "--format",
        "csv",
        "SELECT count(*) AS bad FROM members WHERE NOT regexp_like(phone_key, '^[0-9a-f]{64}$')",
    ]));
    assert_eq!(out, "bad\n0\n");
}

#[test]
fn shell_runs_multi_line_statements_from_a_pipe() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_plinkdb"))
        .args(["shell", "--format", "csv"])
        .env("HOME", std::env::temp_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn shell");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"SELECT 41 + 1\n  AS answer;\n\\d events\n\\q\n")
        .expect("write");
    let output = child.wait_with_output().expect("shell");
    let out = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{out}");
    assert!(out.contains("answer\n42\n"), "{out}");
    assert!(
        out.contains("event_ts,\"Timestamp(ms, \"\"UTC\"\")\",YES"),
        "{out}"
    );
}

#[test]
fn demo_tells_the_story_on_the_sample() {
    let out = ok(plinkdb(&["demo"]));
    for heading in [
        "1. What arrived",
        "2. Normalised",
        "4. The live-commerce funnel",
    ] {
        assert!(out.contains(heading), "{out}");
    }
    assert!(out.contains("taobao_live"), "{out}");
}
