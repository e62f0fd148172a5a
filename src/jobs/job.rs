//! A job file: a `-- key: value` header, then SQL (setup statements and one final SELECT).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::cron::Cron;
use super::date::Date;
use crate::error::{Error, Result};

/// The job files compiled into the binary (path, SQL): every `sql/jobs/*.sql`, embedded
/// by build.rs, so that adding a job is adding a file and the binary works anywhere.
pub const BUILTIN_JOBS: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/builtin_jobs.rs"));

/// Header keys, in the order `jobs list` shows them.
const KEYS: &[&str] = &[
    "job",
    "description",
    "schedule",
    "depends",
    "output",
    "format",
    "partition_by",
    "scheduled_for",
];

/// One parsed job file.
#[derive(Debug, Clone)]
pub struct Job {
    /// `job:`, equal to the file stem.
    pub name: String,
    pub description: String,
    /// `schedule:` (5-field cron, Beijing time); `None` for jobs run only by hand.
    pub schedule: Option<Cron>,
    /// `depends:` job names.
    pub depends: Vec<String>,
    /// `output:` the table the result is published and registered as (default: the name).
    pub output: String,
    /// `partition_by:` the DATE column holding the run's date (default `base_date`).
    pub partition_by: String,
    /// `scheduled_for:` the date a scheduled run on Beijing day T is for: `today` (T, the
    /// default: data strictly before T) or `yesterday` (T - 1, the day that just ended).
    pub lag_days: i32,
    /// Where the job came from (a path, for messages).
    pub file: String,
    /// The SQL after the header.
    pub body: String,
}

impl Job {
    /// Parses a job file; `file` names it in errors and its stem must equal `job:`.
    ///
    /// # Errors
    /// A missing `job:`, an unknown key, a bad schedule or format, naming file and line.
    pub fn parse(file: &str, text: &str) -> Result<Self> {
        let err = |line: usize, message: String| {
            Error::Usage(format!("job file {file}, line {line}: {message}"))
        };
        let mut header: BTreeMap<&str, String> = BTreeMap::new();
        let mut body_start = 0;
        for (i, line) in text.lines().enumerate() {
            let Some(rest) = line.trim().strip_prefix("--") else {
                break;
            };
            body_start = i + 1;
            let Some((key, value)) = rest.split_once(':') else {
                continue; // a plain comment ends nothing: free text may follow the keys
            };
            let key = key.trim();
            if !is_identifier(key) {
                continue; // prose such as "-- Note: ..." is a comment, not a key
            }
            let Some(key) = KEYS.iter().find(|k| **k == key) else {
                return Err(err(
                    i + 1,
                    format!("unknown header key '{key}' (known: {})", KEYS.join(", ")),
                ));
            };
            if header.insert(key, value.trim().to_string()).is_some() {
                return Err(err(i + 1, format!("'{key}' is given twice")));
            }
        }
        let stem = Path::new(file)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let name = header
            .remove("job")
            .ok_or_else(|| err(1, "the header needs '-- job: <name>'".into()))?;
        if name != stem {
            return Err(err(
                1,
                format!("'job: {name}' must equal the file name ({stem}.sql)"),
            ));
        }
        if !is_identifier(&name) {
            return Err(err(
                1,
                format!("job name '{name}' must be lower-case letters, digits and _"),
            ));
        }
        let schedule = match header.remove("schedule").filter(|s| !s.is_empty()) {
            Some(s) => Some(Cron::parse(&s).map_err(|e| err(1, format!("schedule: {e}")))?),
            None => None,
        };
        let format = header.remove("format").unwrap_or_else(|| "parquet".into());
        if !format.eq_ignore_ascii_case("parquet") {
            return Err(err(
                1,
                format!("format '{format}': only parquet is supported"),
            ));
        }
        let depends: Vec<String> = header
            .remove("depends")
            .unwrap_or_default()
            .split(',')
            .map(|d| d.trim().to_string())
            .filter(|d| !d.is_empty())
            .collect();
        let output = header.remove("output").unwrap_or_else(|| name.clone());
        let partition_by = header
            .remove("partition_by")
            .unwrap_or_else(|| "base_date".into());
        for (what, value) in [("output", &output), ("partition_by", &partition_by)] {
            if !is_identifier(value) {
                return Err(err(
                    1,
                    format!("{what} '{value}' must be lower-case letters, digits and _"),
                ));
            }
        }
        let lag_days = match header.remove("scheduled_for").as_deref() {
            None | Some("today") => 0,
            Some("yesterday") => 1,
            Some(other) => {
                return Err(err(
                    1,
                    format!("scheduled_for '{other}': use today or yesterday"),
                ));
            }
        };
        if output == super::store::RUN_LOG {
            return Err(err(1, format!("output '{output}' is the run log's name")));
        }
        let body: Vec<&str> = text.lines().skip(body_start).collect();
        Ok(Self {
            name,
            description: header.remove("description").unwrap_or_default(),
            schedule,
            depends,
            output,
            partition_by,
            lag_days,
            file: file.to_string(),
            body: body.join("\n"),
        })
    }

    /// The body with `:base_date` replaced by `DATE 'YYYY-MM-DD'`.
    pub fn sql_for(&self, date: Date) -> String {
        self.body.replace(":base_date", &format!("DATE '{date}'"))
    }
}

fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// All jobs: the built-in ones, then `*.sql` of each extra directory (a file there
/// replaces a built-in job of the same name), by name.
///
/// # Errors
/// An unreadable directory or file, a bad header, an unknown dependency or a cycle.
pub fn load(dirs: &[String]) -> Result<BTreeMap<String, Job>> {
    let mut jobs = BTreeMap::new();
    for (file, text) in BUILTIN_JOBS {
        let job = Job::parse(file, text)?;
        jobs.insert(job.name.clone(), job);
    }
    for dir in dirs {
        let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
        let mut files: Vec<_> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "sql"))
            .collect();
        files.sort();
        for path in files {
            let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
            let job = Job::parse(&path.to_string_lossy(), &text)?;
            jobs.insert(job.name.clone(), job);
        }
    }
    let mut outputs: BTreeMap<&str, &str> = BTreeMap::new();
    for job in jobs.values() {
        if let Some(other) = outputs.insert(&job.output, &job.name) {
            return Err(Error::Usage(format!(
                "jobs '{other}' and '{}' both publish output '{}'",
                job.name, job.output
            )));
        }
        for dep in &job.depends {
            if !jobs.contains_key(dep) {
                return Err(Error::Usage(format!(
                    "job '{}' ({}) depends on '{dep}', which is not a job",
                    job.name, job.file
                )));
            }
        }
    }
    let all: Vec<String> = jobs.keys().cloned().collect();
    order(&jobs, &all)?;
    Ok(jobs)
}

/// `names` and everything they depend on, dependencies first (ties by name).
///
/// # Errors
/// An unknown name or a dependency cycle.
pub fn order(jobs: &BTreeMap<String, Job>, names: &[String]) -> Result<Vec<String>> {
    fn visit(
        jobs: &BTreeMap<String, Job>,
        name: &str,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
        out: &mut Vec<String>,
    ) -> Result<()> {
        if done.contains(name) {
            return Ok(());
        }
        if path.iter().any(|p| p == name) {
            path.push(name.to_string());
            return Err(Error::Usage(format!(
                "jobs depend on each other in a cycle: {}",
                path.join(" -> ")
            )));
        }
        let Some(job) = jobs.get(name) else {
            return Err(Error::Usage(format!(
                "no job named '{name}' (known: {})",
                jobs.keys().cloned().collect::<Vec<_>>().join(", ")
            )));
        };
        path.push(name.to_string());
        let mut deps = job.depends.clone();
        deps.sort();
        for dep in &deps {
            visit(jobs, dep, path, done, out)?;
        }
        path.pop();
        done.insert(name.to_string());
        out.push(name.to_string());
        Ok(())
    }
    let mut out = Vec::new();
    let mut done = BTreeSet::new();
    let mut sorted = names.to_vec();
    sorted.sort();
    for name in &sorted {
        visit(jobs, name, &mut Vec::new(), &mut done, &mut out)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(name: &str, depends: &str) -> (String, Job) {
        let text = format!("-- job: {name}\n-- depends: {depends}\nSELECT 1");
        (
            name.into(),
            Job::parse(&format!("{name}.sql"), &text).unwrap(),
        )
    }

    #[test]
    fn header_and_body_are_split() {
        let job = Job::parse(
            "sql/jobs/tag_values.sql",
            "-- job: tag_values\n-- description: tags per person\n-- schedule: 30 2 * * *\n\
             -- depends: identity_map, events_daily\n-- output: tag_values\n-- format: parquet\n\
             -- partition_by: base_date\n\
             -- A free comment: not a key.\nSELECT * FROM t WHERE d < :base_date",
        )
        .unwrap();
        assert_eq!(job.depends, ["identity_map", "events_daily"]);
        assert_eq!(job.partition_by, "base_date");
        assert!(job.schedule.is_some());
        assert_eq!(
            job.sql_for(Date::parse("2026-10-05").unwrap()).trim(),
            "SELECT * FROM t WHERE d < DATE '2026-10-05'"
        );
    }

    #[test]
    fn bad_headers_name_file_and_line() {
        let err = Job::parse("x.sql", "-- job: x\n-- shedule: 1 2 * * *\nSELECT 1")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("x.sql, line 2") && err.contains("shedule"),
            "{err}"
        );
        let err = Job::parse("x.sql", "-- job: y\nSELECT 1")
            .unwrap_err()
            .to_string();
        assert!(err.contains("must equal the file name"), "{err}");
        let err = Job::parse("x.sql", "-- job: x\n-- format: csv\nSELECT 1")
            .unwrap_err()
            .to_string();
        assert!(err.contains("only parquet"), "{err}");
        let err = Job::parse("x.sql", "-- job: x\n-- schedule: 61 * * * *\nSELECT 1")
            .unwrap_err()
            .to_string();
        assert!(err.contains("schedule"), "{err}");
    }

    #[test]
    fn dependencies_come_first_and_cycles_are_named() {
        let jobs: BTreeMap<String, Job> = [job("a", "b, c"), job("b", "c"), job("c", "")]
            .into_iter()
            .collect();
        assert_eq!(order(&jobs, &["a".into()]).unwrap(), ["c", "b", "a"]);
        assert_eq!(order(&jobs, &["b".into()]).unwrap(), ["c", "b"]);
        let jobs: BTreeMap<String, Job> = [job("a", "b"), job("b", "a")].into_iter().collect();
        let err = order(&jobs, &["a".into()]).unwrap_err().to_string();
        assert!(err.contains("a -> b -> a"), "{err}");
        let err = order(&jobs, &["zz".into()]).unwrap_err().to_string();
        assert!(err.contains("no job named 'zz'"), "{err}");
    }

    #[test]
    fn builtin_jobs_parse_and_order() {
        let jobs = load(&[]).unwrap();
        assert!(jobs.contains_key("events_daily") && jobs.contains_key("identity_map"));
    }
}
