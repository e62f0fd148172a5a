//! The append-only audit log: one JSON object per query, written when the query ends.
//!
//! ```json
//! {"time":"2026-11-26T05:01:02.123Z","user":"analyst","sql_sha256":"9f2c…","tables":["events"],
//!  "rows":14,"bytes":1024,"duration_ms":35,"outcome":"ok"}
//! ```
//! `outcome` is `ok`, `cancelled` (the client went away) or the gRPC status code name
//! followed by the message (`resource_exhausted: ...`). The SQL itself is not logged, only
//! its SHA-256, so literals (phone numbers, names) never reach the log.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use serde_json::json;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Where audit records go (nowhere when no path is configured).
#[derive(Debug)]
pub struct AuditLog {
    file: Option<Mutex<File>>,
}

/// What one query did. `tables` are the tables and views its SQL names.
#[derive(Debug, Clone)]
pub struct AuditRecord {
    pub user: String,
    pub sql: String,
    pub tables: Vec<String>,
    pub started: SystemTime,
    pub rows: u64,
    pub bytes: u64,
    pub duration: Duration,
    pub outcome: String,
}

impl AuditRecord {
    /// A record of `user` running `sql`, starting now.
    pub fn new(user: &str, sql: &str) -> Self {
        Self {
            user: user.to_string(),
            sql: sql.to_string(),
            tables: Vec::new(),
            started: SystemTime::now(),
            rows: 0,
            bytes: 0,
            duration: Duration::ZERO,
            outcome: String::new(),
        }
    }
}

impl AuditLog {
    /// Opens `path` for appending (creating it), or a log that drops records.
    ///
    /// # Errors
    /// The file cannot be opened for appending.
    pub fn open(path: Option<&Path>) -> Result<Self> {
        let file = match path {
            Some(path) => Some(Mutex::new(
                OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|e| Error::io(path, e))?,
            )),
            None => None,
        };
        Ok(Self { file })
    }

    /// Appends one record; a write failure is reported on stderr, never to the client.
    pub fn write(&self, record: &AuditRecord) {
        let Some(file) = &self.file else {
            return;
        };
        let time: chrono_free::Utc = record.started.into();
        let line = json!({
            "time": time.to_string(),
            "user": record.user,
            "sql_sha256": hex::encode(Sha256::digest(record.sql.as_bytes())),
            "tables": record.tables,
            "rows": record.rows,
            "bytes": record.bytes,
            "duration_ms": record.duration.as_millis() as u64,
            "outcome": record.outcome,
        });
        let mut file = file.lock().unwrap_or_else(|e| e.into_inner());
        if let Err(e) = writeln!(file, "{line}") {
            eprintln!("warning: cannot write the audit log: {e}");
        }
    }
}

/// RFC 3339 UTC timestamps without a date-time dependency.
mod chrono_free {
    use std::time::{SystemTime, UNIX_EPOCH};

    pub struct Utc(i64, u32);

    impl From<SystemTime> for Utc {
        fn from(t: SystemTime) -> Self {
            let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
            Self(d.as_secs() as i64, d.subsec_millis())
        }
    }

    impl std::fmt::Display for Utc {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            let days = self.0.div_euclid(86_400);
            let secs = self.0.rem_euclid(86_400);
            // Howard Hinnant's civil_from_days.
            let z = days + 719_468;
            let era = z.div_euclid(146_097);
            let doe = z.rem_euclid(146_097);
            let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
            let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
            let mp = (5 * doy + 2) / 153;
            let day = doy - (153 * mp + 2) / 5 + 1;
            let month = if mp < 10 { mp + 3 } else { mp - 9 };
            let year = yoe + era * 400 + i64::from(month <= 2);
            write!(
                f,
                "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
                secs / 3600,
                secs % 3600 / 60,
                secs % 60,
                self.1
            )
        }
    }

    #[cfg(test)]
    #[test]
    fn formats_utc() {
        let t = UNIX_EPOCH + std::time::Duration::from_millis(1_795_000_000_123);
        assert_eq!(Utc::from(t).to_string(), "2026-11-18T11:06:40.123Z");
    }
}
