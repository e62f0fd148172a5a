//! Measures generation speed.
//!
//! ```text
//! cargo run --release -p plinkdb-datasets --example gen -- PERSONS DAYS OUT [THREADS]
//! ```
//! Prints events, rows, bytes, seconds and events per second, then the event
//! counts per platform.

use plinkdb_datasets::{GenConfig, generate};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 3 {
        eprintln!("usage: gen PERSONS DAYS OUT [THREADS]");
        return ExitCode::from(2);
    }
    let parse = |s: &str, what: &str| -> Result<u64, String> {
        s.parse::<u64>()
            .map_err(|_| format!("{what} must be a number, got {s:?}"))
    };
    let cfg = match (|| -> Result<GenConfig, String> {
        Ok(GenConfig {
            persons: parse(&args[0], "PERSONS")?,
            days: parse(&args[1], "DAYS")? as u32,
            threads: args
                .get(3)
                .map(|t| parse(t, "THREADS"))
                .transpose()?
                .unwrap_or(0) as usize,
            ..GenConfig::default()
        })
    })() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let out = PathBuf::from(&args[2]);
    let t = Instant::now();
    match generate(&cfg, &out, true, &|_| {}) {
        Ok(s) => {
            let secs = t.elapsed().as_secs_f64();
            println!(
                "persons {} accounts {} events {} rows {} files {} bytes {} ({:.1} MiB) seconds {:.2} events/s {:.0}",
                s.persons,
                s.accounts,
                s.events,
                s.raw_rows,
                s.files,
                s.bytes,
                s.bytes as f64 / 1048576.0,
                secs,
                s.events as f64 / secs
            );
            println!(
                "events per person-day {:.2}",
                s.events as f64 / (s.persons as f64 * cfg.days as f64)
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
