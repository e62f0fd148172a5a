//! `plinkdb jobs list | run | schedule`.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use datafusion::prelude::SessionContext;

use super::{Source, progress};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::jobs::date::BeijingMinute;
use crate::jobs::{Date, Job, Outcome, OutputRoot, job, run_job, schedule};

#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// The jobs: schedule, dependencies, output and published dates.
    List(ListArgs),
    /// Run jobs for a date or a range of dates; each named job pulls in the jobs it
    /// depends on, which run first. Without names, every job runs.
    Run(RunArgs),
    /// Run each job when its cron schedule (Beijing time) has fired and its partition for
    /// the day is not yet published.
    Schedule(ScheduleArgs),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub source: Source,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub source: Source,
    /// Jobs to run (default: all), with their dependencies.
    pub names: Vec<String>,
    /// The run date, `YYYY-MM-DD` (default: today in Beijing).
    #[arg(long, conflicts_with_all = ["from", "to"])]
    pub date: Option<String>,
    /// First date of a backfill (with --to); dates run in order.
    #[arg(long, requires = "to")]
    pub from: Option<String>,
    /// Last date of a backfill (inclusive).
    #[arg(long, requires = "from")]
    pub to: Option<String>,
}

#[derive(Debug, Args)]
pub struct ScheduleArgs {
    #[command(flatten)]
    pub source: Source,
    /// Run what is due now and exit (for an external cron); non-zero if a job failed.
    #[arg(long)]
    pub once: bool,
}

/// The configuration with a `[jobs]` section (defaults when the file has none).
fn jobs_config(source: &Source) -> Result<Config> {
    let mut config = source.config()?;
    config.jobs.get_or_insert_with(Default::default);
    Ok(config)
}

fn parse_date(flag: &str, text: &str) -> Result<Date> {
    Date::parse(text).map_err(|e| Error::Usage(format!("{flag}: {e}")))
}

pub async fn run(command: JobsCommand) -> Result<()> {
    match command {
        JobsCommand::List(args) => list(&jobs_config(&args.source)?).await,
        JobsCommand::Run(args) => run_jobs(args).await,
        JobsCommand::Schedule(args) => {
            let config = jobs_config(&args.source)?;
            let mut report = |r: std::result::Result<&Outcome, &Error>| match r {
                Ok(outcome) => eprintln!("{}", done_line(outcome)),
                Err(e) => eprintln!("error: {e}"),
            };
            if args.once {
                let mut attempted = BTreeSet::new();
                let now = BeijingMinute::now();
                match schedule::run_due(&config, now, &mut attempted, &mut report).await? {
                    Some(error) => Err(error),
                    None => Ok(()),
                }
            } else {
                eprintln!("scheduler started (Beijing time); checking every minute");
                schedule::run_forever(&config, &mut report).await;
                Ok(())
            }
        }
    }
}

async fn list(config: &Config) -> Result<()> {
    let settings = config.jobs.clone().unwrap_or_default();
    let jobs = job::load(&settings.dirs)?;
    let root = OutputRoot::open(&SessionContext::new(), config)?;
    let all: Vec<String> = jobs.keys().cloned().collect();
    println!("output root: {}", root.location);
    for name in job::order(&jobs, &all)? {
        let job = &jobs[&name];
        let manifest = root.manifest(&job.output).await?;
        let published = match (manifest.keys().next(), manifest.keys().next_back()) {
            (Some(first), Some(last)) => {
                format!("{} partitions, {first} .. {last}", manifest.len())
            }
            _ => "nothing published".into(),
        };
        println!(
            "\n{name}: {}\n  schedule: {}{}\n  depends: {}\n  output: {} (partition_by {})\n  \
             published: {published}\n  file: {}",
            job.description,
            job.schedule
                .as_ref()
                .map_or("(run by hand)".to_string(), ToString::to_string),
            if job.lag_days == 1 {
                " (for yesterday)"
            } else {
                ""
            },
            if job.depends.is_empty() {
                "-".to_string()
            } else {
                job.depends.join(", ")
            },
            job.output,
            job.partition_by,
            job.file
        );
    }
    Ok(())
}

fn dates(args: &RunArgs) -> Result<Vec<Date>> {
    if let (Some(from), Some(to)) = (&args.from, &args.to) {
        let (from, to) = (parse_date("--from", from)?, parse_date("--to", to)?);
        if from > to {
            return Err(Error::Usage(format!("--from {from} is after --to {to}")));
        }
        return Ok((from.0..=to.0).map(Date).collect());
    }
    match &args.date {
        Some(d) => Ok(vec![parse_date("--date", d)?]),
        None => Ok(vec![BeijingMinute::now().date]),
    }
}

fn done_line(o: &Outcome) -> String {
    format!(
        "{} {}: {} rows, {} bytes in {:.2} s{}",
        o.job,
        o.date,
        o.rows,
        o.bytes,
        o.elapsed.as_secs_f64(),
        if o.attempts > 1 {
            format!(" ({} attempts)", o.attempts)
        } else {
            String::new()
        }
    )
}

async fn run_jobs(args: RunArgs) -> Result<()> {
    let config = jobs_config(&args.source)?;
    let dates = dates(&args)?;
    let settings = config.jobs.clone().unwrap_or_default();
    let jobs = job::load(&settings.dirs)?;
    let names = if args.names.is_empty() {
        jobs.keys().cloned().collect()
    } else {
        args.names.clone()
    };
    let order = job::order(&jobs, &names)?;
    let ordered: Vec<&Job> = order.iter().map(|n| &jobs[n]).collect();
    let started = Instant::now();
    let mut per_job: Vec<(String, Duration, u64)> = order
        .iter()
        .map(|n| (n.clone(), Duration::ZERO, 0))
        .collect();
    for date in &dates {
        for (i, job) in ordered.iter().enumerate() {
            let spinner = progress::spinner(&format!("{} {date}", job.name));
            let result = run_job(&config, job, *date).await;
            spinner.finish_and_clear();
            let outcome = result?;
            eprintln!("{}", done_line(&outcome));
            per_job[i].1 += outcome.elapsed;
            per_job[i].2 += outcome.rows;
        }
    }
    if dates.len() > 1 || ordered.len() > 1 {
        eprintln!(
            "done: {} job(s) x {} date(s) in {:.2} s",
            ordered.len(),
            dates.len(),
            started.elapsed().as_secs_f64()
        );
        for (name, time, rows) in &per_job {
            eprintln!("  {name}: {rows} rows in {:.2} s", time.as_secs_f64());
        }
    }
    Ok(())
}
