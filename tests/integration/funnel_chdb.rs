//! Differential tests: plinkdb's funnel aggregates against ClickHouse as embedded in
//! chDB (`tests/requirements.txt`), on thousands of random small groups.
//!
//! Each case runs the same aggregate over the same CSV file in both engines, grouped by
//! `g`, and compares every group. plinkdb runs it three ways: hash aggregation with many
//! partitions and tiny batches (partial states merged), hash aggregation that skips
//! partial aggregation (`convert_to_state`), and as a window function (the plain
//! `Accumulator`). chDB must be installed: a missing chDB fails the test.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::prelude::{SessionConfig, SessionContext};

/// A tiny deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Writes `groups` random groups of 0..max_events events: small timestamps (many ties),
/// event kinds 0..5, a second flag `x`, and about 4% NULLs in each.
/// With `distinct_ts`, timestamps are distinct within a group (ClickHouse's sequence
/// functions leave the order of equal timestamps undefined).
fn write_events(dir: &Path, groups: u64, max_events: u64, seed: u64, distinct_ts: bool) -> PathBuf {
    let mut rng = Rng(seed);
    let mut text = String::from("g,ts,e,x\n");
    for g in 0..groups {
        let n = 1 + rng.below(max_events);
        let mut used = std::collections::HashSet::new();
        for _ in 0..n {
            let mut ts = rng.below(30);
            while distinct_ts && !used.insert(ts) {
                ts = rng.below(30);
            }
            let e = match rng.below(25) {
                0 => String::new(),
                _ => rng.below(6).to_string(),
            };
            let x = match rng.below(25) {
                0 => String::new(),
                _ => rng.below(2).to_string(),
            };
            let _ = writeln!(text, "{g},{ts},{e},{x}");
        }
    }
    let path = dir.join("events.csv");
    std::fs::write(&path, text).expect("write events");
    path
}

fn python() -> PathBuf {
    if let Ok(p) = std::env::var("PLINKDB_PYTHON") {
        return PathBuf::from(p);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python")
}

/// Runs `exprs` in chDB; one map group -> value (None = NULL) per expression.
fn chdb(csv: &Path, exprs: &[String]) -> Vec<BTreeMap<String, Option<String>>> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/chdb_groups.py");
    let job = serde_json_string(csv, exprs);
    let py = python();
    let mut child = Command::new(&py)
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {} ({e}); set PLINKDB_PYTHON or create .venv with \
                 tests/requirements.txt (chdb is required for this test)",
                py.display()
            )
        });
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(job.as_bytes())
        .expect("write job");
    let out = child.wait_with_output().expect("chdb helper");
    assert!(
        out.status.success(),
        "chdb helper failed (is chdb installed? pip install -r tests/requirements.txt): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    parse_results(&String::from_utf8_lossy(&out.stdout))
}

fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn serde_json_string(csv: &Path, exprs: &[String]) -> String {
    let list: Vec<String> = exprs.iter().map(|e| json_str(e)).collect();
    format!(
        "{{\"csv\": {}, \"structure\": \"g UInt32, ts UInt32, e Nullable(UInt8), x \
         Nullable(UInt8)\", \"exprs\": [{}]}}",
        json_str(&csv.to_string_lossy()),
        list.join(", ")
    )
}

/// Parses the helper's JSON: `{"version": .., "results": [{"g": "v" | null, ..}, ..]}`.
/// Values are digits and `[0,1]` lists, so a small scanner is enough.
fn parse_results(text: &str) -> Vec<BTreeMap<String, Option<String>>> {
    let start = text.find("\"results\"").expect("results key") + "\"results\"".len();
    let body = &text[start..];
    let mut out = Vec::new();
    let mut current: Option<BTreeMap<String, Option<String>>> = None;
    let mut chars = body.chars().peekable();
    let read_string = |chars: &mut std::iter::Peekable<std::str::Chars>| {
        let mut s = String::new();
        for c in chars.by_ref() {
            if c == '"' {
                break;
            }
            s.push(c);
        }
        s
    };
    while let Some(c) = chars.next() {
        match c {
            '{' => current = Some(BTreeMap::new()),
            '}' => out.extend(current.take()),
            '"' => {
                let key = read_string(&mut chars);
                while chars.peek().is_some_and(|c| *c == ':' || *c == ' ') {
                    chars.next();
                }
                let value = if chars.peek() == Some(&'"') {
                    chars.next();
                    Some(read_string(&mut chars))
                } else {
                    for _ in 0..4 {
                        chars.next(); // null
                    }
                    None
                };
                current.as_mut().expect("object").insert(key, value);
            }
            _ => {}
        }
    }
    out
}

/// Runs `SELECT g, expr ... GROUP BY g` in plinkdb; group -> value text (no spaces).
async fn plinkdb(
    ctx: &SessionContext,
    expr: &str,
    as_window: bool,
) -> BTreeMap<String, Option<String>> {
    let sql = if as_window {
        format!(
            "SELECT g, v FROM (SELECT g, {expr} OVER (PARTITION BY g) AS v, \
             row_number() OVER (PARTITION BY g) AS rn FROM events) WHERE rn = 1"
        )
    } else {
        format!("SELECT g, {expr} AS v FROM events GROUP BY g")
    };
    let batches = ctx
        .sql(&sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .collect()
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let mut out = BTreeMap::new();
    let options = FormatOptions::default();
    for batch in batches {
        let g = ArrayFormatter::try_new(batch.column(0), &options).expect("fmt");
        let v = ArrayFormatter::try_new(batch.column(1), &options).expect("fmt");
        for row in 0..batch.num_rows() {
            let value = if batch.column(1).is_null(row) {
                None
            } else {
                // ClickHouse prints booleans as 0/1.
                let text = v.value(row).to_string().replace(' ', "");
                Some(match text.as_str() {
                    "true" => "1".to_string(),
                    "false" => "0".to_string(),
                    _ => text,
                })
            };
            out.insert(g.value(row).to_string(), value);
        }
    }
    out
}

async fn context(csv: &Path, skip_partial: bool) -> SessionContext {
    let mut config = SessionConfig::new()
        .with_target_partitions(4)
        .with_batch_size(61)
        .with_repartition_file_min_size(1);
    if skip_partial {
        let opts = &mut config.options_mut().execution;
        opts.skip_partial_aggregation_probe_rows_threshold = 1;
        opts.skip_partial_aggregation_probe_ratio_threshold = 0.0;
    }
    let ctx = SessionContext::new_with_config(config);
    plinkdb_udfs::register_all(&ctx).expect("register");
    ctx.sql(
        "CREATE EXTERNAL TABLE events (g INT UNSIGNED, ts BIGINT, e TINYINT UNSIGNED, \
         x TINYINT UNSIGNED) STORED AS CSV LOCATION '__CSV__' \
         OPTIONS ('format.has_header' 'true')"
            .replace("__CSV__", &csv.to_string_lossy())
            .as_str(),
    )
    .await
    .expect("create table");
    ctx
}

/// Compares one list of (plinkdb expression, ClickHouse expression) pairs.
async fn compare(
    cases: &[(String, String)],
    groups: u64,
    max_events: u64,
    seed: u64,
    distinct_ts: bool,
) {
    let dir = tempfile::tempdir().expect("tmp");
    let csv = write_events(dir.path(), groups, max_events, seed, distinct_ts);
    let theirs: Vec<String> = cases.iter().map(|(_, ch)| ch.clone()).collect();
    let expected = chdb(&csv, &theirs);
    assert_eq!(expected.len(), cases.len());
    let merged = context(&csv, false).await;
    let skipping = context(&csv, true).await;
    let mut failures = Vec::new();
    let distinct: std::collections::BTreeSet<_> =
        expected.iter().flat_map(|m| m.values()).collect();
    assert!(
        distinct.len() >= 3,
        "too little variety in the answers: {distinct:?}"
    );
    for ((ours, ch), want) in cases.iter().zip(&expected) {
        assert_eq!(
            want.len() as u64,
            groups,
            "chdb returned every group for {ch}"
        );
        let runs = [
            ("merged partial states", plinkdb(&merged, ours, false).await),
            (
                "skipped partial aggregation",
                plinkdb(&skipping, ours, false).await,
            ),
            (
                "window (plain Accumulator)",
                plinkdb(&merged, ours, true).await,
            ),
        ];
        for (how, got) in runs {
            let wrong: Vec<_> = want
                .iter()
                .filter(|(g, v)| got.get(*g) != Some(v))
                .take(3)
                .map(|(g, v)| format!("g={g}: chdb {v:?}, plinkdb {:?}", got.get(g)))
                .collect();
            if !wrong.is_empty() {
                failures.push(format!("{ours} [{how}] vs {ch}: {}", wrong.join("; ")));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

const MODES: &[&str] = &[
    "",
    "strict_deduplication",
    "strict_order",
    "strict_increase",
    "strict_deduplication,strict_order",
    "strict_order,strict_increase",
    "strict_deduplication,strict_increase",
    "strict_deduplication,strict_order,strict_increase",
    "strict_order,allow_reentry",
    "strict_deduplication,strict_order,allow_reentry",
    "strict_order,strict_increase,allow_reentry",
    "strict_once",
    "strict_once,strict_increase",
];

/// Condition lists: plain steps, overlapping steps (one row fills several), a repeated
/// condition, the NULL-able flag `x`, and a single step.
const CONDITIONS: &[&str] = &[
    "e = 1, e = 2, e = 3",
    "e = 1, e = 2, e = 3, e = 4, e = 5",
    "e <= 2, e = 2, e >= 2, x = 1",
    "e = 1, e = 1, e = 1",
    "e = 3, x = 1, e = 1",
    "e = 2",
];

fn clickhouse_params(window: u64, mode: &str) -> String {
    let mut params = vec![window.to_string()];
    params.extend(
        mode.split(',')
            .filter(|m| !m.is_empty())
            .map(|m| format!("'{m}'")),
    );
    params.join(", ")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn window_funnel_matches_clickhouse_in_every_mode() {
    let mut cases = Vec::new();
    for mode in MODES {
        for (i, conds) in CONDITIONS.iter().enumerate() {
            let window = [0, 3, 10, 40][i % 4];
            cases.push((
                format!("window_funnel({window}, '{mode}', ts, {conds})"),
                format!(
                    "windowFunnel({})(ts, {conds})",
                    clickhouse_params(window, mode)
                ),
            ));
        }
    }
    // TIMESTAMP input: integer seconds and INTERVAL windows against DateTime.
    cases.push((
        "window_funnel(5, to_timestamp_seconds(ts), e = 1, e = 2, e = 3)".into(),
        "windowFunnel(5)(toDateTime(ts), e = 1, e = 2, e = 3)".into(),
    ));
    cases.push((
        "window_funnel(INTERVAL '7 seconds', 'strict_order', \
         CAST(to_timestamp_seconds(ts) AS TIMESTAMP), e = 1, e = 2, e = 3)"
            .into(),
        "windowFunnel(7, 'strict_order')(toDateTime(ts), e = 1, e = 2, e = 3)".into(),
    ));
    cases.push((
        "window_funnel(3, ts, e = 1, e = 2)".into(),
        "windowFunnel(3)(ts, e = 1, e = 2)".into(),
    ));
    compare(&cases, 3000, 12, 0x5EED_F00D, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_matches_clickhouse() {
    let cases: Vec<(String, String)> = [
        "e = 1, e = 2, e = 3",
        "e = 0, x = 1",
        "ts < 5, ts >= 10 AND ts < 20, ts >= 20, e = 4",
        "x = 1, x = 0",
    ]
    .iter()
    .map(|c| (format!("retention({c})"), format!("retention({c})")))
    .collect();
    compare(&cases, 3000, 12, 0xBEEF, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn funnel_step_times_agree_with_window_funnel() {
    let dir = tempfile::tempdir().expect("tmp");
    let csv = write_events(dir.path(), 2000, 12, 7, false);
    let ctx = context(&csv, false).await;
    for mode in MODES {
        let sql = format!(
            "SELECT count(*) FROM (SELECT \
             window_funnel(10, '{mode}', ts, e = 1, e = 2, e = 3, e <= 4) AS l, \
             funnel_step_times(10, '{mode}', ts, e = 1, e = 2, e = 3, e <= 4) AS t \
             FROM events GROUP BY g) \
             WHERE coalesce(cardinality(t), 0) <> coalesce(l, 0) \
                OR (l >= 2 AND (t[2] < t[1] OR t[l] > t[1] + 10))"
        );
        let batches = ctx
            .sql(&sql)
            .await
            .expect("plan")
            .collect()
            .await
            .expect("run");
        let text = datafusion::arrow::util::pretty::pretty_format_batches(&batches)
            .expect("fmt")
            .to_string();
        assert!(text.contains("| 0 "), "mode '{mode}': {text}");
    }
}

const PATTERNS: &[&str] = &[
    "(?1)(?2)",
    "(?1).*(?2)",
    "(?1).(?2)",
    "(?2)(?1)(?3)",
    "(?1).*(?2).*(?3)",
    "(?1)(?t<=5)(?2)",
    "(?1)(?t<5)(?2)",
    "(?1)(?t>3)(?2)",
    "(?1)(?t>=3)(?2)",
    "(?1)(?t==2)(?2)",
    "(?1)(?t<=8)(?2)(?t>1)(?3)",
    ".*(?3)(?t<=10).*(?1)",
    "(?4).(?1)",
    "(?t<3)",
    "(?1)",
    "",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequence_match_and_count_match_clickhouse() {
    let conds = "e = 1, e = 2, e = 3, x = 1";
    let mut cases = Vec::new();
    for p in PATTERNS {
        cases.push((
            format!("sequence_match('{p}', ts, {conds})"),
            format!("sequenceMatch('{p}')(ts, {conds})"),
        ));
        cases.push((
            format!("sequence_count('{p}', ts, {conds})"),
            format!("sequenceCount('{p}')(ts, {conds})"),
        ));
    }
    cases.push((
        "sequence_count('(?1)(?t<=4)(?2)', to_timestamp_seconds(ts), e = 1, e = 2)".into(),
        "sequenceCount('(?1)(?t<=4)(?2)')(toDateTime(ts), e = 1, e = 2)".into(),
    ));
    compare(&cases, 3000, 14, 0xACE, true).await;
}
