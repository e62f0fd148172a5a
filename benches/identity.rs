//! Identity resolution benchmark: `resolve_identities` on a generated dataset, with wall
//! time and peak memory, and the identity rows exported for the DuckDB baseline
//! (`benches/identity_duckdb.py`).
//!
//! ```text
//! cargo bench --bench identity -- prepare PERSONS DAYS DIR   # generate + export
//! cargo bench --bench identity -- rows DIR [from-rows]       # resolve the exported rows
//! cargo bench --bench identity -- events DIR                 # resolve from the raw events
//! cargo bench --bench identity -- accuracy PERSONS DAYS NOISE DIR  # P/R against the truth
//! ```
//! Run each mode in its own process: peak RSS (VmHWM) is per process.

use std::path::Path;
use std::time::Instant;

use datafusion::arrow::array::AsArray;
use plinkdb::{Config, Engine};

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// `count(*)` and `count(DISTINCT person_id)` of the resolution of `source`. The
/// resolved table's exact statistics answer them; with `from_rows`, the persons are
/// counted from the rows instead (`person_id || ''` is not a column, so no statistic
/// answers it), as a query that reads every row would.
async fn count(engine: &Engine, source: &str, from_rows: bool) -> plinkdb::Result<(String, f64)> {
    let person = if from_rows {
        "person_id || ''"
    } else {
        "person_id"
    };
    let t = Instant::now();
    let batches = engine
        .query(&format!(
            "SELECT count(*) AS accounts, count(DISTINCT {person}) AS persons \
             FROM resolve_identities('{source}')"
        ))
        .await?;
    let secs = t.elapsed().as_secs_f64();
    let text = datafusion::arrow::util::pretty::pretty_format_batches(&batches)
        .map_err(datafusion::error::DataFusionError::from)?
        .to_string();
    Ok((text.lines().nth(3).unwrap_or_default().to_string(), secs))
}

#[tokio::main]
async fn main() -> plinkdb::Result<()> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["prepare", persons, days, dir] => {
            let dir = Path::new(dir);
            let config = plinkdb_datasets::GenConfig {
                persons: persons.parse().unwrap_or(100_000),
                days: days.parse().unwrap_or(7),
                seed: 42,
                ..Default::default()
            };
            let t = Instant::now();
            if !dir.join("truth").exists() {
                plinkdb_datasets::generate(&config, dir, false, &|_| {})
                    .map_err(|e| plinkdb::Error::Usage(e.to_string()))?;
            }
            println!("generate: {:.1}s", t.elapsed().as_secs_f64());
            let engine = Engine::open(Config::with_data_root(dir.to_string_lossy())).await?;
            let out = dir.join("identity_rows");
            std::fs::create_dir_all(&out).map_err(|e| plinkdb::Error::Io {
                path: out.clone(),
                source: e,
            })?;
            let t = Instant::now();
            engine
                .query(&format!(
                    "COPY (SELECT platform, account_scope, account_id, union_id, phone_key, \
                     device_id, min(event_ts) AS event_ts FROM events \
                     WHERE account_id IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6) \
                     TO '{}/evidence.parquet' STORED AS PARQUET",
                    out.display()
                ))
                .await?;
            engine
                .query(&format!(
                    "COPY (SELECT platform, account_scope, account_id, phone_key, member_id, \
                     bound_at FROM members) TO '{}/members.parquet' STORED AS PARQUET",
                    out.display()
                ))
                .await?;
            println!("export identity rows: {:.1}s", t.elapsed().as_secs_f64());
        }
        ["rows", dir] | ["rows", dir, "from-rows"] => {
            let from_rows = args.len() == 3;
            let dir = Path::new(dir);
            let engine = Engine::open(Config::default()).await?;
            let rows = dir.join("identity_rows");
            for (name, file) in [("ev", "evidence"), ("members", "members")] {
                engine
                    .query(&format!(
                        "CREATE EXTERNAL TABLE {name} STORED AS PARQUET LOCATION \
                         '{}/{file}.parquet'",
                        rows.display()
                    ))
                    .await?;
            }
            let (result, secs) = count(&engine, "ev", from_rows).await?;
            let counted = if from_rows {
                " (persons counted from the rows)"
            } else {
                ""
            };
            println!(
                "resolve_identities on exported rows{counted}: {result} in {secs:.2}s, \
                 peak RSS {:.0} MiB",
                peak_rss_mib()
            );
        }
        ["events", dir] => {
            let engine = Engine::open(Config::with_data_root(dir.to_string())).await?;
            let (result, secs) = count(&engine, "events", false).await?;
            println!(
                "resolve_identities on raw events: {result} in {secs:.2}s, peak RSS {:.0} MiB",
                peak_rss_mib()
            );
        }
        ["accuracy", persons, days, noise, dir] => {
            let dir = Path::new(dir);
            let config = plinkdb_datasets::GenConfig {
                persons: persons.parse().unwrap_or(10_000),
                days: days.parse().unwrap_or(7),
                seed: 42,
                identity_noise: noise.parse().unwrap_or(1.0),
                ..Default::default()
            };
            if !dir.join("truth").exists() {
                plinkdb_datasets::generate(&config, dir, false, &|_| {})
                    .map_err(|e| plinkdb::Error::Usage(e.to_string()))?;
            }
            let engine = Engine::open(Config::with_data_root(dir.to_string_lossy())).await?;
            let t = Instant::now();
            engine
                .query(
                    "CREATE TABLE labels AS SELECT r.person_id AS p, t.person_id AS t \
                     FROM resolve_identities('events') r JOIN truth.accounts t \
                     USING (platform, account_scope, account_id)",
                )
                .await?;
            let secs = t.elapsed().as_secs_f64();
            // Pairwise over account pairs: true positives are pairs in one predicted and
            // one true person.
            let counts = engine
                .query(
                    "WITH c AS (SELECT count(*) AS n FROM labels GROUP BY p, t), \
                     pp AS (SELECT count(*) AS n FROM labels GROUP BY p), \
                     tt AS (SELECT count(*) AS n FROM labels GROUP BY t) \
                     SELECT (SELECT sum(n * (n - 1) / 2) FROM c) AS tp, \
                     (SELECT sum(n * (n - 1) / 2) FROM pp) AS predicted, \
                     (SELECT sum(n * (n - 1) / 2) FROM tt) AS truth, \
                     (SELECT count(*) FROM labels) AS accounts, \
                     (SELECT count(DISTINCT p) FROM labels) AS persons_found, \
                     (SELECT count(DISTINCT t) FROM labels) AS persons_true",
                )
                .await?;
            let col = |i: usize| {
                counts[0]
                    .column(i)
                    .as_primitive::<datafusion::arrow::datatypes::Int64Type>()
                    .value(0) as f64
            };
            let (tp, predicted, truth) = (col(0), col(1), col(2));
            println!(
                "accuracy persons={persons} days={days} noise={noise}: precision {:.5} recall \
                 {:.5} ({} accounts, {} persons found, {} true; resolved in {secs:.2}s)",
                if predicted == 0.0 {
                    1.0
                } else {
                    tp / predicted
                },
                if truth == 0.0 { 1.0 } else { tp / truth },
                col(3),
                col(4),
                col(5),
            );
        }
        _ => {
            println!(
                "usage: cargo bench --bench identity -- prepare PERSONS DAYS DIR | rows DIR | \
                 events DIR | accuracy PERSONS DAYS NOISE DIR"
            );
        }
    }
    Ok(())
}
