//! `plinkdb jobs`: backfills, idempotent reruns, a run killed mid-write, a failing job and
//! the run log, on local disk and on S3 (moto_server on 127.0.0.1).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use plinkdb::jobs::lock::JobLock;

use crate::s3::{BUCKET, CREDENTIALS, create_bucket, start_moto};
use crate::support::{binary, dataset, fails, files_under, ok, plinkdb_with_env};

/// A config with `[jobs]` over the shared generated dataset, plus a directory of extra
/// job files.
struct Setup {
    dir: tempfile::TempDir,
    config: PathBuf,
    root: String,
}

impl Setup {
    fn new(root: Option<&str>, endpoint: Option<&str>) -> Self {
        let dir = tempfile::tempdir().expect("tmp");
        let root = root.map_or_else(
            || dir.path().join("out").to_string_lossy().into_owned(),
            String::from,
        );
        std::fs::create_dir_all(dir.path().join("extra")).expect("mkdir");
        let mut text = format!(
            "[data]\nroot = \"{}\"\n\n[jobs]\nroot = \"{root}\"\ndirs = [\"extra\"]\n\
             lock_dir = \"locks\"\nretries = 1\nbackoff_ms = 100\n",
            dataset().display()
        );
        if let Some(endpoint) = endpoint {
            text.push_str(&format!(
                "\n[[stores]]\nurl = \"s3://{BUCKET}\"\nendpoint = \"{endpoint}\"\n\
                 region = \"us-east-1\"\npath_style = true\n"
            ));
        }
        let config = dir.path().join("plinkdb.toml");
        std::fs::write(&config, text).expect("write config");
        Self { dir, config, root }
    }

    fn local_root(&self) -> Option<&Path> {
        (!self.root.contains("://")).then(|| Path::new(&self.root))
    }

    fn args<'a>(&'a self, args: &[&'a str]) -> Vec<&'a str> {
        let mut all = args.to_vec();
        all.extend(["--config", self.config.to_str().expect("utf-8")]);
        all
    }

    fn plinkdb(&self, args: &[&str]) -> Output {
        plinkdb_with_env(&self.args(args), CREDENTIALS)
    }

    fn csv(&self, sql: &str) -> String {
        ok(self.plinkdb(&["query", "--format", "csv", sql]))
    }

    fn write_job(&self, name: &str, body: &str) {
        let text =
            format!("-- job: {name}\n-- output: {name}\n-- partition_by: base_date\n{body}\n");
        std::fs::write(self.dir.path().join(format!("extra/{name}.sql")), text).expect("write job");
    }
}

fn pipeline_backfills_and_reruns_exactly(s: &Setup) {
    // identity_map reads the materialised days before its date: the first day comes first.
    ok(s.plinkdb(&["jobs", "run", "events_daily", "--date", "2026-10-01"]));
    let out = s.plinkdb(&[
        "jobs",
        "run",
        "identity_map",
        "events_daily",
        "--from",
        "2026-10-02",
        "--to",
        "2026-10-08",
    ]);
    let progress = crate::support::stderr(&out);
    ok(out);
    assert!(progress.contains("identity_map 2026-10-08: "), "{progress}");
    assert!(progress.contains("events_daily: "), "{progress}");

    assert_eq!(
        s.csv("SELECT count(DISTINCT dt) AS n FROM events_daily"),
        "n\n8\n"
    );
    assert_eq!(
        s.csv("SELECT count(DISTINCT base_date) AS n FROM identity_map"),
        "n\n7\n"
    );
    // events_daily holds exactly the events of its dates
    let per_day = |table: &str| {
        s.csv(&format!(
            "SELECT dt, count(*) AS n, sum(amount_fen) AS fen, count(DISTINCT event_id) AS ids \
             FROM {table} WHERE dt BETWEEN DATE '2026-10-02' AND DATE '2026-10-08' \
             GROUP BY dt ORDER BY dt"
        ))
    };
    let materialised = per_day("events_daily");
    assert_eq!(materialised.lines().count(), 8, "{materialised}");
    assert_eq!(materialised, per_day("events"));

    // re-running a date replaces exactly that partition, with the same rows
    let snapshot = "SELECT * FROM identity_map ORDER BY base_date, platform, account_scope, \
                    account_id";
    let before = s.csv(snapshot);
    ok(s.plinkdb(&["jobs", "run", "identity_map", "--date", "2026-10-05"]));
    assert_eq!(before, s.csv(snapshot));
    if let Some(root) = s.local_root() {
        let files = files_under(&root.join("identity_map"), ".parquet");
        assert_eq!(files.len(), 7, "replaced files are deleted: {files:?}");
    }

    // people_events: events with the person of the latest snapshot
    assert_eq!(
        s.csv(
            "SELECT count(DISTINCT person_id) = (SELECT count(DISTINCT person_id) \
             FROM identity_map WHERE base_date = DATE '2026-10-08') AS same FROM people_events"
        ),
        "same\ntrue\n"
    );
    // a downstream job sees people_events with the snapshot in force on its date
    s.write_job(
        "persons",
        "-- depends: identity_map\nSELECT count(DISTINCT person_id) AS persons \
         FROM people_events WHERE dt < :base_date",
    );
    ok(s.plinkdb(&["jobs", "run", "persons", "--date", "2026-10-05"]));
    assert_eq!(
        s.csv(
            "SELECT persons = (SELECT count(DISTINCT person_id) FROM identity_map \
             WHERE base_date = DATE '2026-10-05') AS same FROM persons"
        ),
        "same\ntrue\n"
    );
    // events_daily: 1 + 7 + once per later identity_map run (the rerun and the one
    // `persons` pulls in), identity_map: 7 + 2.
    assert_eq!(
        s.csv(
            "SELECT job, count(*) AS runs, min(rows) > 0 AS rows, min(bytes) > 0 AS bytes, \
             max(end_time) >= max(start_time) AS timed FROM job_runs \
             WHERE status = 'succeeded' GROUP BY job ORDER BY job"
        ),
        "job,runs,rows,bytes,timed\nevents_daily,10,true,true,true\n\
         identity_map,9,true,true,true\npersons,1,true,true,true\n"
    );
}

/// Waits until the child is writing its output, SIGKILLs it and returns.
fn kill_while_writing(s: &Setup, args: &[&str]) {
    let mut child = Command::new(binary())
        .args(s.args(args))
        .envs(CREDENTIALS.iter().copied())
        .env_remove("PLINKDB_CONFIG")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn plinkdb");
    let started = Instant::now();
    loop {
        assert!(
            child.try_wait().expect("try_wait").is_none(),
            "the run ended before it could be killed"
        );
        let writing = match s.local_root() {
            // the store's staging file of the new data file
            Some(root) => !files_under(&root.join("big"), "#").is_empty(),
            // S3 multipart parts are invisible until completed: give it time to write
            None => started.elapsed() > Duration::from_secs(8),
        };
        if writing {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(180),
            "the big run never started writing"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("wait");
}

fn killed_run_keeps_previous_output_and_lock(s: &Setup) {
    s.write_job("big", "SELECT value AS v FROM generate_series(1, 1000)");
    ok(s.plinkdb(&["jobs", "run", "big", "--date", "2026-10-05"]));
    let totals = "SELECT count(*) AS n, sum(v) AS s, min(base_date) AS d FROM big";
    assert_eq!(s.csv(totals), "n,s,d\n1000,500500,2026-10-05\n");

    // hundreds of MB of barely compressible rows: still writing when killed
    s.write_job(
        "big",
        "SELECT value AS v, md5(CAST(value AS VARCHAR)) || md5(CAST(-value AS VARCHAR)) AS pad \
         FROM generate_series(1, 1000000000)",
    );
    kill_while_writing(s, &["jobs", "run", "big", "--date", "2026-10-05"]);
    assert_eq!(s.csv(totals), "n,s,d\n1000,500500,2026-10-05\n");

    // the kernel released the lock with the process: the next run goes through, replaces
    // the partition and cleans up what the killed run left
    s.write_job("big", "SELECT value AS v FROM generate_series(1, 2000)");
    ok(s.plinkdb(&["jobs", "run", "big", "--date", "2026-10-05"]));
    assert_eq!(s.csv(totals), "n,s,d\n2000,2001000,2026-10-05\n");
    if let Some(root) = s.local_root() {
        let files = files_under(&root.join("big"), "");
        assert_eq!(files.len(), 2, "the manifest and one data file: {files:?}");
    }
}

fn failing_job_names_job_and_statement(s: &Setup) {
    s.write_job(
        "fragile",
        "CREATE VIEW one AS SELECT 1 AS a;\nSELECT a FROM one",
    );
    ok(s.plinkdb(&["jobs", "run", "fragile", "--date", "2026-10-05"]));
    s.write_job(
        "fragile",
        "CREATE VIEW one AS SELECT 1 AS a;\nSELECT no_such_column FROM one",
    );
    let err = fails(s.plinkdb(&["jobs", "run", "fragile", "--date", "2026-10-05"]));
    assert!(err.contains("job 'fragile' for 2026-10-05"), "{err}");
    assert!(err.contains("statement 2 of"), "{err}");
    assert!(err.contains("SELECT no_such_column FROM one"), "{err}");
    assert!(!err.contains("retry"), "SQL errors never retry: {err}");
    assert_eq!(s.csv("SELECT a FROM fragile"), "a\n1\n");
    assert_eq!(
        s.csv(
            "SELECT status, attempts, coalesce(error LIKE '%no_such_column%', false) AS named FROM job_runs \
             WHERE job = 'fragile' ORDER BY start_time"
        ),
        "status,attempts,named\nsucceeded,1,false\nfailed,1,true\n"
    );
}

#[test]
fn jobs_on_local_disk() {
    let s = Setup::new(None, None);
    pipeline_backfills_and_reruns_exactly(&s);
    killed_run_keeps_previous_output_and_lock(&s);
    failing_job_names_job_and_statement(&s);
}

#[test]
fn jobs_on_s3() {
    let moto = start_moto();
    create_bucket(&moto.endpoint, BUCKET);
    let s = Setup::new(Some(&format!("s3://{BUCKET}/marts")), Some(&moto.endpoint));
    pipeline_backfills_and_reruns_exactly(&s);
    killed_run_keeps_previous_output_and_lock(&s);
    failing_job_names_job_and_statement(&s);
}

#[test]
fn a_running_job_is_not_started_twice() {
    let s = Setup::new(None, None);
    s.write_job("quick", "SELECT 1 AS one");
    let held = JobLock::acquire(&s.dir.path().join("locks"), &s.root, "quick").expect("lock");
    let err = fails(s.plinkdb(&["jobs", "run", "quick", "--date", "2026-10-05"]));
    assert!(err.contains("job 'quick' is already running"), "{err}");
    drop(held);
    ok(s.plinkdb(&["jobs", "run", "quick", "--date", "2026-10-05"]));
    assert_eq!(s.csv("SELECT one FROM quick"), "one\n1\n");
}

#[test]
fn list_shows_jobs_in_dependency_order() {
    let s = Setup::new(None, None);
    s.write_job("after", "-- depends: identity_map\nSELECT 1 AS x");
    let out = ok(s.plinkdb(&["jobs", "list"]));
    let identity = out.find("identity_map:").expect("identity_map listed");
    let after = out.find("after:").expect("after listed");
    assert!(identity < after, "{out}");
    assert!(out.contains("schedule: 0 2 * * *"), "{out}");
}

#[test]
fn schedule_once_runs_what_is_due_then_nothing() {
    let s = Setup::new(None, None);
    // fires every minute: due as soon as the day has begun
    std::fs::write(
        s.dir.path().join("extra/every_minute.sql"),
        "-- job: every_minute\n-- schedule: * * * * *\nSELECT 42 AS answer\n",
    )
    .expect("write job");
    // (the built-in jobs may be due too, depending on the hour; they run for today's date,
    // harmlessly, on the small dataset)
    let out = s.plinkdb(&["jobs", "schedule", "--once"]);
    let log = crate::support::stderr(&out);
    ok(out);
    assert!(log.contains("every_minute "), "{log}");
    assert_eq!(s.csv("SELECT answer FROM every_minute"), "answer\n42\n");
    // published for today: a second pass has nothing to do for it
    let out = s.plinkdb(&["jobs", "schedule", "--once"]);
    let log = crate::support::stderr(&out);
    ok(out);
    assert!(!log.contains("every_minute "), "{log}");
}
