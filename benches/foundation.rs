//! Foundation benchmark: generator speed and a scan + group-by over `events` at ~10M
//! events. Run with `cargo bench --bench foundation` (optionally
//! `-- --persons 100000 --days 33 --out DIR`); numbers go to benches/README.md.
//!
//! Timings are wall-clock from one run on a shared machine: read them as ratios.

use std::path::PathBuf;
use std::time::Instant;

use plinkdb::{Config, Engine};
use plinkdb_datasets::GenConfig;

fn arg<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> T {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

async fn time_query(engine: &Engine, label: &str, sql: &str) -> f64 {
    let started = Instant::now();
    let batches = engine.query(sql).await.expect("query");
    let secs = started.elapsed().as_secs_f64();
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    println!("{label:<44} {secs:>7.2} s  ({rows} result rows)");
    secs
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let persons = arg(&args, "--persons", 100_000u64);
    let days = arg(&args, "--days", 33u32);
    let tmp = tempfile::tempdir().expect("temp dir");
    let out: PathBuf = arg(&args, "--out", tmp.path().join("bench"));

    let config = GenConfig {
        persons,
        days,
        seed: 1,
        ..GenConfig::default()
    };
    let started = Instant::now();
    let summary = plinkdb_datasets::generate(&config, &out, true, &|_| {}).expect("generate");
    let secs = started.elapsed().as_secs_f64();
    println!(
        "generate {persons} persons x {days} days: {} events ({} raw rows, {:.0} MB) in \
         {secs:.2} s = {:.2} M events/s",
        summary.events,
        summary.raw_rows,
        summary.bytes as f64 / 1e6,
        summary.events as f64 / secs / 1e6
    );

    let started = Instant::now();
    let engine = Engine::open(Config::with_data_root(out.to_string_lossy()))
        .await
        .expect("open");
    println!(
        "open (list + infer schemas)                  {:>7.2} s",
        started.elapsed().as_secs_f64()
    );

    let raw = time_query(
        &engine,
        "raw scan + group-by (no normalisation)",
        "SELECT msg_type, count(*), sum(gift_value) FROM raw.douyin_live_push GROUP BY 1",
    )
    .await;
    let _ = raw;
    let scan = time_query(
        &engine,
        "events: platform x type count, sum(fen)",
        "SELECT platform, event_type, count(*), sum(amount_fen) FROM events GROUP BY 1, 2",
    )
    .await;
    time_query(
        &engine,
        "events: accounts per platform per day",
        "SELECT platform, dt, count(DISTINCT account_id) FROM events GROUP BY 1, 2",
    )
    .await;
    time_query(
        &engine,
        "events: one day (dt pruning)",
        "SELECT platform, count(*) FROM events WHERE dt = DATE '2026-10-05' GROUP BY 1",
    )
    .await;
    println!(
        "events/s through the events view: {:.2} M; peak RSS {:.0} MB",
        summary.events as f64 / scan / 1e6,
        peak_rss_mb()
    );
}
