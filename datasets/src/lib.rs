//! Synthetic multi-platform live-commerce dataset generator with ground truth.
//!
//! [`generate`] writes, for a number of simulated persons over a number of days,
//! the raw exports of Douyin, Kuaishou, WeChat Channels and Taobao Live in each
//! platform's own shape, the brand's first-party tables and a ground truth (see
//! `datasets/README.md` for the layout and every column).
//!
//! Output is a pure function of the [`GenConfig`] minus `threads`: persons are
//! split into fixed chunks of [`CHUNK_PERSONS`], each chunk is simulated from its
//! own seed and writes its own `part-NNNNN.parquet` files, and the tables that
//! gather all chunks are written in chunk order.

pub mod calendar;
pub mod catalog;
mod error;
pub mod feeds;
pub mod ids;
pub mod model;
pub mod rng;
pub mod sim;
pub mod truth;
pub mod world;
pub mod writer;

pub use error::GenError;

use crate::catalog::EVENT_TYPES;
use crate::feeds::{DayPartition, Feed, Sink};
use crate::sim::{DaySim, Scratch};
use crate::truth::ChunkTables;
use crate::world::World;
use crate::writer::{ParquetStream, Staging, write_parquet};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, mpsc};

/// The public demo key of the checked-in sample's phone HMAC.
pub const DEMO_PHONE_KEY: &[u8] = b"plinkdb-demo-key";
/// Persons per chunk (fixed: changing it changes every dataset).
pub const CHUNK_PERSONS: u64 = 20_000;
/// Largest accepted `persons`.
pub const MAX_PERSONS: u64 = 50_000_000;
/// Largest accepted `days`.
pub const MAX_DAYS: u32 = 3660;

/// What to generate.
#[derive(Clone, Debug, PartialEq)]
pub struct GenConfig {
    /// Number of simulated persons (1..=50,000,000).
    pub persons: u64,
    /// Number of days (1..=3660).
    pub days: u32,
    /// Master seed.
    pub seed: u64,
    /// First day `(year, month, day)`, Asia/Shanghai.
    pub start_date: (i32, u32, u32),
    /// Key of the HMAC-SHA256 that turns phones into `phone_key`.
    pub phone_key: Vec<u8>,
    /// Worker threads; 0 = available parallelism. Does not change the output.
    pub threads: usize,
    /// Multiplier of the identity noise (0..=10; 1 = the default mix): the share of
    /// device rows with a junk device id, of persons in households and of their
    /// sessions on the family tablet.
    pub identity_noise: f64,
}

impl Default for GenConfig {
    fn default() -> Self {
        GenConfig {
            persons: 2000,
            days: 28,
            seed: 7,
            start_date: (2026, 10, 1),
            phone_key: DEMO_PHONE_KEY.to_vec(),
            threads: 0,
            identity_noise: 1.0,
        }
    }
}

impl GenConfig {
    /// Checks every argument; the error says which one is wrong and why.
    pub fn validate(&self) -> Result<(), GenError> {
        let bad = |m: String| Err(GenError::InvalidConfig(m));
        if self.persons == 0 || self.persons > MAX_PERSONS {
            return bad(format!(
                "--persons must be between 1 and {MAX_PERSONS}, got {}",
                self.persons
            ));
        }
        if self.days == 0 || self.days > MAX_DAYS {
            return bad(format!(
                "--days must be between 1 and {MAX_DAYS}, got {}",
                self.days
            ));
        }
        let (y, m, d) = self.start_date;
        if !calendar::is_valid_date(y, m, d) {
            return bad(format!(
                "--start {y:04}-{m:02}-{d:02} is not a valid calendar date"
            ));
        }
        if !(2000..=2100).contains(&y) {
            return bad(format!(
                "--start year must be between 2000 and 2100, got {y}"
            ));
        }
        if self.phone_key.is_empty() {
            return bad("the phone HMAC key must not be empty".to_string());
        }
        if !(0.0..=10.0).contains(&self.identity_noise) {
            return bad(format!(
                "--identity-noise must be between 0 and 10, got {}",
                self.identity_noise
            ));
        }
        if self.threads > 1024 {
            return bad(format!(
                "--threads must be at most 1024, got {}",
                self.threads
            ));
        }
        Ok(())
    }
}

/// What was generated.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Persons simulated.
    pub persons: u64,
    /// Accounts in `truth/accounts.parquet`.
    pub accounts: u64,
    /// Distinct unified events (the sum of `truth/event_counts.parquet`).
    pub events: u64,
    /// Rows of the raw feeds, touches and feedback, duplicate deliveries included.
    pub raw_rows: u64,
    /// Files written.
    pub files: u64,
    /// Bytes written.
    pub bytes: u64,
}

/// Generates a dataset into `out`.
///
/// Everything is written into a sibling temporary directory `<out>.tmp-<pid>`
/// that is renamed into place at the end. If `out` exists and is not empty the
/// call fails unless `overwrite`, in which case the old directory is replaced
/// only once the new one is complete. On failure nothing is left behind and any
/// previous output is intact. `progress` is called with the number of persons
/// simulated so far (fractional progress of chunks is reported pro rata).
pub fn generate(
    cfg: &GenConfig,
    out: &Path,
    overwrite: bool,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Summary, GenError> {
    generate_chunked(cfg, out, overwrite, progress, CHUNK_PERSONS)
}

/// [`generate`] with another chunk size. Only for tests (a dataset is defined
/// by its chunk size too, so real datasets always use [`CHUNK_PERSONS`]).
#[doc(hidden)]
pub fn generate_chunked(
    cfg: &GenConfig,
    out: &Path,
    overwrite: bool,
    progress: &(dyn Fn(u64) + Sync),
    chunk_persons: u64,
) -> Result<Summary, GenError> {
    cfg.validate()?;
    if chunk_persons == 0 {
        return Err(GenError::InvalidConfig(
            "the chunk size must be at least 1".to_string(),
        ));
    }
    let staging = Staging::new(out, overwrite)?;
    let summary = run(cfg, staging.path(), progress, chunk_persons)?;
    staging.commit(out, overwrite)?;
    Ok(summary)
}

/// Everything a finished chunk hands over.
struct ChunkOutput {
    tables: ChunkTables,
    counts: [[u64; EVENT_TYPES]; 4],
    rows: u64,
    files: u64,
    bytes: u64,
}

/// The files that gather all chunks, written in chunk order.
struct Gathered {
    persons: ParquetStream,
    accounts: ParquetStream,
    devices: ParquetStream,
    members: ParquetStream,
    consents: ParquetStream,
    junk_persons: [u64; 5],
    counts: [[u64; EVENT_TYPES]; 4],
    summary: Summary,
}

impl Gathered {
    fn create(root: &Path) -> Result<Gathered, GenError> {
        Ok(Gathered {
            persons: ParquetStream::create(
                root.join("truth/persons.parquet"),
                truth::persons_schema(),
            )?,
            accounts: ParquetStream::create(
                root.join("truth/accounts.parquet"),
                truth::accounts_schema(),
            )?,
            devices: ParquetStream::create(
                root.join("truth/devices.parquet"),
                truth::devices_schema(),
            )?,
            members: ParquetStream::create(
                root.join("firstparty/members/part-00000.parquet"),
                feeds::firstparty::members_schema(),
            )?,
            consents: ParquetStream::create(
                root.join("firstparty/consents/part-00000.parquet"),
                feeds::firstparty::consents_schema(),
            )?,
            junk_persons: [0; 5],
            counts: [[0; EVENT_TYPES]; 4],
            summary: Summary::default(),
        })
    }

    fn add(&mut self, c: ChunkOutput) -> Result<(), GenError> {
        let t = &c.tables;
        self.persons.write(&t.persons)?;
        self.accounts.write(&t.accounts)?;
        self.devices.write(&t.devices)?;
        self.members.write(&t.members)?;
        self.consents.write(&t.consents)?;
        for (a, b) in self.junk_persons.iter_mut().zip(t.junk_persons) {
            *a += b;
        }
        for (a, b) in self.counts.iter_mut().zip(c.counts.iter()) {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
        }
        let s = &mut self.summary;
        s.persons += t.persons.num_rows() as u64;
        s.accounts += t.accounts.num_rows() as u64;
        s.raw_rows += c.rows;
        s.files += c.files;
        s.bytes += c.bytes;
        Ok(())
    }

    fn finish(mut self, root: &Path) -> Result<Summary, GenError> {
        let junk = truth::junk_devices(&self.junk_persons).map_err(|cause| GenError::Arrow {
            path: self.devices.path().to_path_buf(),
            cause,
        })?;
        self.devices.write(&junk)?;
        let path = root.join("truth/event_counts.parquet");
        let counts = truth::event_counts(&self.counts).map_err(|cause| GenError::Arrow {
            path: path.clone(),
            cause,
        })?;
        let mut s = self.summary;
        s.bytes += write_parquet(&path, &counts)?;
        for f in [
            self.persons,
            self.accounts,
            self.devices,
            self.members,
            self.consents,
        ] {
            s.bytes += f.close()?;
        }
        s.files += 6;
        s.events = self.counts.iter().flatten().sum();
        Ok(s)
    }
}

/// Reports progress monotonically from any thread.
struct Progress<'a> {
    done_person_days: Mutex<u64>,
    days: u64,
    callback: &'a (dyn Fn(u64) + Sync),
}

impl Progress<'_> {
    fn add(&self, person_days: u64) {
        // A poisoned lock only means another worker panicked; keep counting.
        let mut done = self
            .done_person_days
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        *done += person_days;
        (self.callback)(*done / self.days);
    }
}

/// Generates all chunks into `root`.
fn run(
    cfg: &GenConfig,
    root: &Path,
    progress: &(dyn Fn(u64) + Sync),
    chunk_persons: u64,
) -> Result<Summary, GenError> {
    let world = World::new(cfg);
    let n_chunks = cfg.persons.div_ceil(chunk_persons);
    let threads = match cfg.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
    .clamp(1, n_chunks as usize);
    let mut gathered = Gathered::create(root)?;
    let progress = Progress {
        done_person_days: Mutex::new(0),
        days: cfg.days as u64,
        callback: progress,
    };
    let next_chunk = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let mut first_error: Option<GenError> = None;
    let mut panicked = false;

    std::thread::scope(|s| {
        let (tx, rx) = mpsc::channel::<(u64, Result<Option<ChunkOutput>, GenError>)>();
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let tx = tx.clone();
                let (world, next_chunk, stop, progress) = (&world, &next_chunk, &stop, &progress);
                s.spawn(move || {
                    loop {
                        let k = next_chunk.fetch_add(1, Ordering::Relaxed);
                        if k >= n_chunks || stop.load(Ordering::Relaxed) {
                            break;
                        }
                        let first = k * chunk_persons;
                        let count = chunk_persons.min(cfg.persons - first);
                        let res = run_chunk(world, root, k, first, count, stop, progress);
                        let failed = res.is_err();
                        if tx.send((k, res)).is_err() || failed {
                            stop.store(true, Ordering::Relaxed);
                            break;
                        }
                    }
                })
            })
            .collect();
        drop(tx);
        let mut pending = BTreeMap::new();
        let mut next_write = 0u64;
        for (k, res) in rx {
            match res {
                Ok(Some(c)) => {
                    pending.insert(k, c);
                    while let Some(c) = pending.remove(&next_write) {
                        if let Err(e) = gathered.add(c) {
                            first_error.get_or_insert(e);
                            break;
                        }
                        next_write += 1;
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
            if first_error.is_some() {
                stop.store(true, Ordering::Relaxed);
                break;
            }
        }
        for h in handles {
            panicked |= h.join().is_err();
        }
    });
    if panicked {
        return Err(GenError::WorkerPanicked {
            path: root.to_path_buf(),
        });
    }
    if let Some(e) = first_error {
        return Err(e);
    }
    gathered.finish(root)
}

/// Path of a chunk's file of one feed and day.
fn part_path(root: &Path, feed: Feed, day: i64, chunk: u64) -> PathBuf {
    let mut dt = String::with_capacity(14);
    dt.push_str("dt=");
    calendar::push_date(&mut dt, day);
    root.join(feed.dir())
        .join(dt)
        .join(format!("part-{chunk:05}.parquet"))
}

/// Encodes and writes the day partitions of chunk `k` as they arrive.
fn write_days(
    root: &Path,
    k: u64,
    rx: mpsc::Receiver<(i64, Box<DayPartition>)>,
) -> Result<(u64, u64), GenError> {
    let (mut files, mut bytes) = (0u64, 0u64);
    for (date, part) in rx {
        let batches = part.finish().map_err(|cause| GenError::Arrow {
            path: part_path(root, Feed::DouyinLive, date, k),
            cause,
        })?;
        for (feed, batch) in batches {
            // Chunk 0 always writes, so every feed has a file (and a schema) every day.
            if batch.num_rows() > 0 || k == 0 {
                bytes += write_parquet(&part_path(root, feed, date, k), &batch)?;
                files += 1;
            }
        }
    }
    Ok((files, bytes))
}

/// Simulates chunk `k` (persons `first..first + count`), writing its day files.
/// Returns `None` if stopped because another chunk failed.
fn run_chunk(
    world: &World,
    root: &Path,
    k: u64,
    first: u64,
    count: u64,
    stop: &AtomicBool,
    progress: &Progress,
) -> Result<Option<ChunkOutput>, GenError> {
    let mut pop = model::build_population(world, k, first, count);
    let mut sink = Sink::new(world.start_day, world.days, count as usize);
    let mut scratch = Scratch::default();
    // Days are encoded and written by a second thread while the next day is simulated.
    let written = std::thread::scope(|s| -> Result<Option<(u64, u64)>, GenError> {
        let (tx, rx) = mpsc::sync_channel::<(i64, Box<DayPartition>)>(2);
        let writer = s.spawn(move || write_days(root, k, rx));
        for day in 0..world.days {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            let mut sim = DaySim {
                world,
                households: &pop.households,
                sink: &mut sink,
                scratch: &mut scratch,
                day,
            };
            for (local, person) in pop.persons.iter_mut().enumerate() {
                sim.person_day(&person.profile, &mut person.state, local);
            }
            let date = world.start_day + day as i64;
            if tx.send((date, sink.take_day(day as usize))).is_err() {
                break; // the writer failed; its error is returned below
            }
            progress.add(count);
        }
        drop(tx);
        let res = writer.join().map_err(|_| GenError::WorkerPanicked {
            path: root.to_path_buf(),
        })??;
        Ok((!stop.load(Ordering::Relaxed)).then_some(res))
    })?;
    let Some((files, bytes)) = written else {
        return Ok(None);
    };
    let tables = truth::chunk_tables(world, &pop, &sink).map_err(|cause| GenError::Arrow {
        path: root.join("truth/persons.parquet"),
        cause,
    })?;
    Ok(Some(ChunkOutput {
        tables,
        counts: sink.counts,
        rows: sink.rows,
        files,
        bytes,
    }))
}
