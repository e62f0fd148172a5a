//! The scheduler: every minute (Beijing time), run each job whose schedule has fired today
//! and whose partition for its scheduled date is not yet published, dependencies first.
//! Published partitions are the memory, so a restarted scheduler (or `--once` from an
//! external cron) catches up instead of running twice.

use std::collections::BTreeSet;
use std::time::Duration;

use datafusion::prelude::SessionContext;

use super::date::{BeijingMinute, Date};
use super::{OutputRoot, job, run_job};
use crate::config::Config;
use crate::error::{Error, Result};

/// Runs what is due at `now`; returns the jobs run (ok or not) and the first error.
///
/// `attempted` keeps a failed job from being retried every minute by a long-running
/// scheduler (its transient errors were already retried inside the run).
pub async fn run_due(
    config: &Config,
    now: BeijingMinute,
    attempted: &mut BTreeSet<(String, Date)>,
    report: &mut dyn FnMut(std::result::Result<&super::Outcome, &Error>),
) -> Result<Option<Error>> {
    let settings = config.jobs.clone().unwrap_or_default();
    let jobs = job::load(&settings.dirs)?;
    let root = OutputRoot::open(&SessionContext::new(), config)?;
    let mut due = Vec::new();
    for job in jobs.values() {
        let Some(cron) = &job.schedule else { continue };
        let date = now.date.add_days(-job.lag_days);
        if !cron.due_by(now) || attempted.contains(&(job.name.clone(), date)) {
            continue;
        }
        if !root.manifest(&job.output).await?.contains_key(&date) {
            due.push(job.name.clone());
        }
    }
    let order: Vec<String> = job::order(&jobs, &due)?
        .into_iter()
        .filter(|name| due.contains(name))
        .collect();
    let mut failed: BTreeSet<String> = BTreeSet::new();
    let mut first_error = None;
    for name in order {
        let job = &jobs[&name];
        let date = now.date.add_days(-job.lag_days);
        attempted.insert((name.clone(), date));
        if let Some(dep) = job.depends.iter().find(|d| failed.contains(*d)) {
            let error = Error::Usage(format!(
                "job '{name}' for {date} skipped: its dependency '{dep}' failed"
            ));
            report(Err(&error));
            failed.insert(name);
            first_error.get_or_insert(error);
            continue;
        }
        match run_job(config, job, date).await {
            Ok(outcome) => report(Ok(&outcome)),
            Err(error) => {
                report(Err(&error));
                failed.insert(name);
                first_error.get_or_insert(error);
            }
        }
    }
    Ok(first_error)
}

/// Runs forever: checks every minute.
///
/// Failed jobs and a setup that fails for a while (an unreachable root, a bad job file
/// being edited) are reported through `report`; the scheduler goes on.
pub async fn run_forever(
    config: &Config,
    report: &mut dyn FnMut(std::result::Result<&super::Outcome, &Error>),
) {
    let mut attempted = BTreeSet::new();
    loop {
        if let Err(e) = run_due(config, BeijingMinute::now(), &mut attempted, report).await {
            report(Err(&e));
        }
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        tokio::time::sleep(Duration::from_secs(60 - secs % 60)).await;
    }
}
