//! `plinkdb datasets generate`: a synthetic multi-platform dataset with ground truth.

use std::path::PathBuf;
use std::time::Instant;

use clap::{Args, Subcommand};
use plinkdb_datasets::{DEMO_PHONE_KEY, GenConfig};

use super::progress;
use crate::error::{Error, Result};

#[derive(Debug, Subcommand)]
pub enum DatasetsCommand {
    /// Generate raw platform exports, first-party tables and the ground truth.
    Generate(GenerateArgs),
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Number of people.
    #[arg(long, default_value_t = 2000)]
    pub persons: u64,
    /// Number of days of activity.
    #[arg(long, default_value_t = 28)]
    pub days: u32,
    /// Random seed: the same seed gives the same files.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// First day, YYYY-MM-DD.
    #[arg(long, default_value = "2026-10-01")]
    pub start: String,
    /// Output directory.
    #[arg(long)]
    pub out: PathBuf,
    /// Replace the output directory if it exists.
    #[arg(long)]
    pub force: bool,
    /// Worker threads (default: all cores).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Identity noise multiplier, 0..=10: junk device ids, households, family-tablet
    /// sessions (1 = the default mix).
    #[arg(long, default_value_t = 1.0)]
    pub identity_noise: f64,
}

pub fn run(command: DatasetsCommand) -> Result<()> {
    let DatasetsCommand::Generate(args) = command;
    let start_date = parse_date(&args.start)?;
    let phone_key = match std::env::var("PLINKDB_SECRET_KEY") {
        Ok(key) if !key.is_empty() => key.into_bytes(),
        _ => {
            eprintln!(
                "note: PLINKDB_SECRET_KEY is not set; phone keys use the public demo key \
                 (fine for synthetic data, never for real phones)"
            );
            DEMO_PHONE_KEY.to_vec()
        }
    };
    let config = GenConfig {
        persons: args.persons,
        days: args.days,
        seed: args.seed,
        start_date,
        phone_key,
        threads: args.threads,
        identity_noise: args.identity_noise,
    };
    let bar = progress::bar(args.persons, "persons");
    let started = Instant::now();
    let summary = plinkdb_datasets::generate(&config, &args.out, args.force, &|done| {
        bar.set_position(done);
    })?;
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "generated {} persons, {} accounts, {} events ({} raw rows) in {} files, {:.1} MB, \
         in {secs:.1}s ({:.0} events/s) -> {}",
        summary.persons,
        summary.accounts,
        summary.events,
        summary.raw_rows,
        summary.files,
        summary.bytes as f64 / 1e6,
        summary.events as f64 / secs.max(1e-9),
        args.out.display()
    );
    Ok(())
}

fn parse_date(text: &str) -> Result<(i32, u32, u32)> {
    let bad = || Error::Usage(format!("--start '{text}' is not a date like 2026-10-01"));
    let mut parts = text.trim().splitn(3, '-');
    let mut next = || parts.next().ok_or_else(bad);
    let year: i32 = next()?.parse().map_err(|_| bad())?;
    let month: u32 = next()?.parse().map_err(|_| bad())?;
    let day: u32 = next()?.parse().map_err(|_| bad())?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return Err(bad());
    }
    Ok((year, month, day))
}
