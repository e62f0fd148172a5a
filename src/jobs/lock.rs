//! One run of a job at a time, per machine: an exclusive `flock` on
//! `<lock_dir>/<job>-<root hash>.lock`. The kernel releases it when the process ends, even
//! by SIGKILL, so a crashed run never blocks the next one. Runs on different machines
//! against the same object-store root are not excluded (run the scheduler on one host).

use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Held while a job runs; dropping it releases the lock.
#[derive(Debug)]
pub struct JobLock {
    _file: File,
    pub path: PathBuf,
}

/// The lock file of `job` writing under output root `root`.
pub fn lock_path(dir: &Path, root: &str, job: &str) -> PathBuf {
    // FNV-1a: stable across builds, unlike std's hasher.
    let hash = root.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    dir.join(format!("{job}-{hash:016x}.lock"))
}

impl JobLock {
    /// Takes the lock or fails at once when another process holds it.
    ///
    /// # Errors
    /// The job is already running on this machine, or the lock file cannot be opened.
    pub fn acquire(dir: &Path, root: &str, job: &str) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let path = lock_path(dir, root, job);
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(Error::Usage(format!(
                    "job '{job}' is already running on this machine (lock {} is held); \
                     two runs of one job never overlap",
                    path.display()
                )));
            }
            Err(TryLockError::Error(e)) => return Err(Error::io(&path, e)),
        }
        // The holder's pid, for whoever looks at a held lock.
        let _ = file.set_len(0);
        let _ = writeln!(file, "{}", std::process::id());
        Ok(Self { _file: file, path })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_refuses_and_is_free_after_drop() {
        let dir = tempfile::tempdir().unwrap();
        let held = JobLock::acquire(dir.path(), "/out", "identity_map").unwrap();
        let err = JobLock::acquire(dir.path(), "/out", "identity_map")
            .unwrap_err()
            .to_string();
        assert!(err.contains("already running"), "{err}");
        // another job or another root is independent
        JobLock::acquire(dir.path(), "/out", "events_daily").unwrap();
        JobLock::acquire(dir.path(), "s3://b/out", "identity_map").unwrap();
        drop(held);
        JobLock::acquire(dir.path(), "/out", "identity_map").unwrap();
    }
}
