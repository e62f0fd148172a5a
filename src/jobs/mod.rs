//! Scheduled SQL jobs: SQL files with a small header (see [`job`]) whose final SELECT is
//! published as one date partition of a Parquet output, atomically and idempotently, on
//! local disk or object storage (see [`store`]).
//!
//! [`job`] (files, dependencies) -> [`runner`] (one job for one date: [`lock`], engine,
//! statements, [`store`] publish, run log) -> [`schedule`] (cron in Beijing time, [`cron`],
//! [`date`]).

pub mod cron;
pub mod date;
pub mod job;
pub mod lock;
pub mod runner;
pub mod schedule;
pub mod store;

use datafusion::prelude::SessionContext;

use crate::config::Config;
use crate::error::Result;
pub use date::Date;
pub use job::{Job, load};
pub use runner::{Outcome, run_job};
pub use store::OutputRoot;

/// Registers every published job output as a table of its name, `job_runs`, and (when
/// `identity_map` is published) `people_events` over its latest snapshot.
///
/// # Errors
/// An unreachable root, a corrupt manifest or data file.
pub async fn register_published(ctx: &SessionContext, config: &Config) -> Result<()> {
    let root = OutputRoot::open(ctx, config)?;
    root.register_all(ctx).await?;
    create_people_events(ctx, None).await
}

/// `people_events`: the events plus `person_id` from the `identity_map` snapshot in force
/// on `date` (the latest with `base_date <= date`; the latest of all without a date). The
/// events are the materialised `events_daily` once that job has published (a plain scan),
/// else the `events` view. Does nothing until an `identity_map` exists.
///
/// # Errors
/// The view does not plan (an `identity_map` without the expected columns).
pub async fn create_people_events(ctx: &SessionContext, date: Option<Date>) -> Result<()> {
    if !ctx.table_exist("identity_map")? {
        return Ok(());
    }
    let events = if ctx.table_exist("events_daily")? {
        "events_daily"
    } else if ctx.table_exist("events")? {
        "events"
    } else {
        return Ok(());
    };
    let upto = date.map_or(String::new(), |d| format!(" WHERE base_date <= DATE '{d}'"));
    let sql = format!(
        "CREATE OR REPLACE VIEW people_events AS \
         SELECT e.*, m.person_id \
         FROM {events} e \
         JOIN (SELECT platform, account_scope, account_id, person_id FROM identity_map \
               WHERE base_date = (SELECT max(base_date) FROM identity_map{upto})) m \
         USING (platform, account_scope, account_id)"
    );
    ctx.sql(&sql).await?;
    Ok(())
}

/// Runs built-in job `name` for `date` inside `engine`'s session, without publishing:
/// `people_events` as the runner sets it up, the setup statements, and the final SELECT
/// stored as the in-memory table the job's `output` names (with its partition column),
/// replacing an earlier one. For the demo and tests over the sample; `plinkdb jobs run`
/// is the real thing.
///
/// # Errors
/// An unknown job, or a statement that fails.
pub async fn run_in_session(engine: &crate::Engine, name: &str, date: Date) -> Result<()> {
    let jobs = job::load(&[])?;
    let Some(job) = jobs.get(name) else {
        return Err(crate::Error::Usage(format!(
            "no built-in job named '{name}'"
        )));
    };
    create_people_events(engine.context(), Some(date)).await?;
    let mut statements = crate::engine::split_statements(&job.sql_for(date))?;
    let Some(last) = statements.pop() else {
        return Err(crate::Error::Usage(format!(
            "job '{name}' has no statements"
        )));
    };
    for statement in statements {
        engine.statement(statement).await?.collect().await?;
    }
    engine
        .query(&format!(
            "CREATE OR REPLACE TABLE {} AS SELECT *, DATE '{date}' AS {} FROM ({last})",
            job.output, job.partition_by
        ))
        .await?;
    Ok(())
}
