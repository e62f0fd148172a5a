//! Running one job for one date: lock, fresh engine, setup statements, the final SELECT
//! written as the date's partition, publish, run log; retries for transient store errors.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use datafusion::common::ScalarValue;
use datafusion::error::DataFusionError;
use datafusion::prelude::lit;
use datafusion::sql::parser::Statement;
use datafusion::sql::sqlparser::ast::Statement as SqlStatement;

use super::date::Date;
use super::job::Job;
use super::lock::JobLock;
use super::store::{OutputRoot, RunRecord};
use crate::config::Config;
use crate::engine::{Engine, split_statements};
use crate::error::{Error, Result};

/// What a successful run produced.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub job: String,
    pub date: Date,
    pub rows: u64,
    pub bytes: u64,
    pub elapsed: Duration,
    pub attempts: u32,
}

/// Where a run failed and why.
struct Failure {
    stage: String,
    error: Error,
}

fn at(stage: impl Into<String>) -> impl FnOnce(Error) -> Failure {
    let stage = stage.into();
    move |error| Failure { stage, error }
}

fn unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Runs `job` for `date`: takes the job's lock, then tries up to `1 + retries` times while
/// the failure is a transient object-store error; records the run in `job_runs`.
///
/// # Errors
/// [`Error::Job`] naming the job, the date and the statement or step that failed; or the
/// lock being held.
pub async fn run_job(config: &Config, job: &Job, date: Date) -> Result<Outcome> {
    let settings = config.jobs.clone().unwrap_or_default();
    let root_location = config.resolve_location(&settings.root);
    let _lock = JobLock::acquire(&settings.lock_dir(), &root_location, &job.name)?;
    let started = Instant::now();
    let start_ms = unix_ms();
    let mut attempts = 0;
    let result = loop {
        attempts += 1;
        let run_id = format!("{}-{:x}", unix_ms(), std::process::id());
        match run_once(config, job, date, &run_id).await {
            Ok(ok) => break Ok((ok, run_id)),
            Err(f) if is_transient(&f.error) && attempts <= settings.retries => {
                let wait = Duration::from_millis(settings.backoff_ms << (attempts - 1).min(16));
                eprintln!(
                    "{} {date}: transient store error at {} ({}); retry {attempts}/{} in {:?}",
                    job.name, f.stage, f.error, settings.retries, wait
                );
                tokio::time::sleep(wait).await;
            }
            Err(f) => break Err((f, run_id)),
        }
    };
    let mut record = RunRecord {
        job: job.name.clone(),
        date,
        start_ms,
        end_ms: unix_ms(),
        status: "succeeded",
        rows: None,
        bytes: None,
        error: None,
        attempts,
        run_id: String::new(),
    };
    match result {
        Ok(((root, rows, bytes), run_id)) => {
            record.rows = Some(rows);
            record.bytes = Some(bytes);
            record.run_id = run_id;
            root.log_run(&record).await?;
            Ok(Outcome {
                job: job.name.clone(),
                date,
                rows,
                bytes,
                elapsed: started.elapsed(),
                attempts,
            })
        }
        Err((failure, run_id)) => {
            let error = Error::Job {
                job: job.name.clone(),
                date: date.to_string(),
                stage: failure.stage,
                message: failure.error.to_string(),
            };
            record.status = "failed";
            record.error = Some(error.to_string());
            record.run_id = run_id;
            let ctx = datafusion::prelude::SessionContext::new();
            if let Ok(root) = OutputRoot::open(&ctx, config) {
                // best effort: the failure itself is what must be reported
                if let Err(e) = root.log_run(&record).await {
                    eprintln!("warning: cannot record the failed run in job_runs: {e}");
                }
            }
            Err(error)
        }
    }
}

/// One attempt; returns the root it published to, rows and bytes.
async fn run_once(
    config: &Config,
    job: &Job,
    date: Date,
    run_id: &str,
) -> std::result::Result<(OutputRoot, u64, u64), Failure> {
    let engine = Engine::open(config.clone())
        .await
        .map_err(at("opening the engine"))?;
    let ctx = engine.context();
    let root = OutputRoot::open(ctx, config).map_err(at("opening the output root"))?;
    super::create_people_events(ctx, Some(date))
        .await
        .map_err(at("creating the people_events view"))?;
    let sql = job.sql_for(date);
    let mut statements = split_statements(&sql).map_err(at(format!("parsing {}", job.file)))?;
    let total = statements.len();
    let last = statements.pop();
    let Some(Statement::Statement(last)) = last else {
        return Err(Failure {
            stage: job.file.clone(),
            error: Error::Usage("the job must end with a SELECT (its output)".into()),
        });
    };
    if !matches!(*last, SqlStatement::Query(_)) {
        return Err(Failure {
            stage: format!("statement {total} of {}", job.file),
            error: Error::Usage(format!(
                "the last statement must be a SELECT (the output), not `{}`",
                snippet(&last.to_string())
            )),
        });
    }
    for (i, statement) in statements.into_iter().enumerate() {
        let stage = statement_stage(job, i + 1, &statement.to_string());
        let df = engine.statement(statement).await.map_err(at(&stage))?;
        df.collect().await.map_err(|e| at(&stage)(e.into()))?;
    }
    let stage = statement_stage(job, total, &last.to_string());
    let df = engine
        .statement(Statement::Statement(last))
        .await
        .map_err(at(&stage))?;
    let df = df
        .with_column(&job.partition_by, lit(ScalarValue::Date32(Some(date.0))))
        .map_err(|e| at(&stage)(e.into()))?;
    let stream = df
        .execute_stream()
        .await
        .map_err(|e| at(&stage)(e.into()))?;
    let entry = root
        .write_partition(&job.output, &job.partition_by, date, run_id, stream)
        .await
        .map_err(at(format!(
            "{stage} while writing {}",
            root.display(&job.output)
        )))?;
    let (rows, bytes) = (entry.rows, entry.bytes);
    root.publish(&job.output, date, entry)
        .await
        .map_err(at(format!("publishing {}", root.display(&job.output))))?;
    Ok((root, rows, bytes))
}

fn statement_stage(job: &Job, n: usize, text: &str) -> String {
    format!("statement {n} of {} (`{}`)", job.file, snippet(text))
}

/// The first 80 characters of a statement, on one line.
fn snippet(text: &str) -> String {
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(80) {
        Some((i, _)) => format!("{}...", &one_line[..i]),
        None => one_line,
    }
}

/// Object-store trouble (network, throttling, a server error) is worth retrying; SQL
/// errors (plan, schema, a function refusing its input) never are.
pub fn is_transient(error: &Error) -> bool {
    match error {
        Error::Store { .. } => true,
        Error::DataFusion(e) => match e.find_root() {
            DataFusionError::ObjectStore(e) => !matches!(
                e.as_ref(),
                object_store::Error::NotFound { .. }
                    | object_store::Error::InvalidPath { .. }
                    | object_store::Error::NotSupported { .. }
                    | object_store::Error::NotImplemented { .. }
                    | object_store::Error::PermissionDenied { .. }
                    | object_store::Error::Unauthenticated { .. }
            ),
            DataFusionError::IoError(_) => true,
            _ => false,
        },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_store_errors_are_transient() {
        let store = object_store::Error::Generic {
            store: "S3",
            source: "connection reset".into(),
        };
        assert!(is_transient(&Error::DataFusion(
            DataFusionError::from(store).context("reading")
        )));
        let missing = object_store::Error::NotFound {
            path: "x".into(),
            source: "gone".into(),
        };
        assert!(!is_transient(&Error::DataFusion(missing.into())));
        assert!(!is_transient(&Error::DataFusion(DataFusionError::Plan(
            "no column x".into()
        ))));
        assert!(!is_transient(&Error::Usage("bad".into())));
    }

    #[test]
    fn snippets_are_one_short_line() {
        assert_eq!(snippet("SELECT\n  1"), "SELECT 1");
        assert!(snippet(&"x ".repeat(100)).ends_with("..."));
    }
}
