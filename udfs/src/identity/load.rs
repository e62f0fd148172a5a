//! Loading rows into a [`GraphBuilder`]: batches of rows (read through [`TextColumn`]s,
//! so the graph does not depend on Arrow) pass through two threads that run side by side
//! with the reader: the first interns the batch's accounts, the second its identifier
//! values (of rows with an account) and appends the evidence. Bounded channels connect
//! them, so decoding the next batch and the two steps of the earlier ones overlap. The
//! answer does not depend on the number of threads.

use std::mem::take;
use std::sync::mpsc::{SyncSender, sync_channel};
use std::thread::{Builder, JoinHandle};

use super::evidence::EvidenceList;
use super::graph::{
    AccountTable, GraphBuilder, IdType, Interned, NONE, Tables, intern_identifiers,
};
use super::interner::Interner;

/// A text column of a batch.
pub trait TextColumn: Send + Sync {
    fn get(&self, row: usize) -> Option<&str>;
}

/// A time column of a batch, epoch milliseconds.
pub trait TimeColumn: Send + Sync {
    fn get(&self, row: usize) -> Option<i64>;
}

/// One batch of rows.
pub struct Batch {
    /// Per row: the scope group of its account ([`GraphBuilder::scope`]), or [`NONE`] to
    /// skip the row.
    pub groups: Vec<u32>,
    /// The account id (read for rows with a group).
    pub account: Box<dyn TextColumn>,
    /// When the account was active and the identifiers were seen.
    pub ts: Box<dyn TimeColumn>,
    /// The identifier columns.
    pub identifiers: Vec<(IdType, Box<dyn TextColumn>)>,
    /// Source rows add accounts; link rows (`members`) only attach identifiers to
    /// accounts already recorded, and rows of other accounts add no evidence.
    pub new_accounts: bool,
}

/// A batch with what the worker threads need of the builder at the time it was sent.
struct Job {
    batch: Batch,
    /// `(platform, scope)` names of each account group.
    scopes: Vec<(u32, u32)>,
    /// Per identifier column: its identifier group ([`NONE`]: union ids, per platform).
    groups: Vec<u32>,
    /// Per account group: the identifier group of its platform's union ids.
    union_groups: Vec<u32>,
}

/// A batch's accounts (`NONE`: skipped or unknown) and times.
type Accounts = (Vec<u32>, Vec<i64>);

impl Job {
    fn accounts(&self, table: &mut AccountTable) -> Accounts {
        table.add_batch(&self.batch, &self.scopes)
    }

    fn interned(&self, values: &mut Interner, (accounts, times): Accounts) -> Interned {
        let identifiers = intern_identifiers(
            values,
            &self.batch,
            &accounts,
            &self.groups,
            &self.union_groups,
        );
        Interned {
            accounts,
            times,
            identifiers,
            width: self.groups.len(),
        }
    }
}

/// Batches in flight per channel: enough to keep the threads busy, few enough to bound
/// the memory. With 4 the reader often waited for a full queue while a core was idle;
/// 16 took about 0.07 s off reading 3.5M rows, for about 50 MiB more at the peak.
const QUEUE: usize = 16;

struct Workers {
    jobs: SyncSender<Job>,
    handles: (
        JoinHandle<AccountTable>,
        JoinHandle<(Interner, EvidenceList)>,
    ),
}

/// Adds batches to a builder; [`Self::finish`] gives the builder back.
pub struct Loader {
    builder: GraphBuilder,
    workers: Option<Workers>,
}

fn spawn<T: Send + 'static>(
    name: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> std::io::Result<JoinHandle<T>> {
    Builder::new().name(name.into()).spawn(f)
}

fn join<T>(handle: JoinHandle<T>) -> T {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

impl Loader {
    /// A loader with worker threads when the builder may use more than one thread.
    pub fn new(mut builder: GraphBuilder) -> Self {
        let workers = match builder.threads {
            1 => None,
            _ => Self::start(&mut builder.tables),
        };
        Self { builder, workers }
    }

    /// Moves the tables to two threads; `None`, with the tables put back, if a thread
    /// could not be started.
    fn start(tables: &mut Tables) -> Option<Workers> {
        let (jobs, job_rx) = sync_channel::<Job>(QUEUE);
        let (with_accounts, account_rx) = sync_channel::<(Job, Accounts)>(QUEUE);
        let (mut values, mut evidence) = (take(&mut tables.values), take(&mut tables.evidence));
        let values = spawn("identity-values", move || {
            for (job, accounts) in account_rx {
                evidence.add_batch(&job.interned(&mut values, accounts));
            }
            (values, evidence)
        });
        let mut accounts = take(&mut tables.accounts);
        let accounts = spawn("identity-accounts", move || {
            for job in job_rx {
                let rows = job.accounts(&mut accounts);
                if with_accounts.send((job, rows)).is_err() {
                    break;
                }
            }
            accounts
        });
        match (accounts, values) {
            (Ok(a), Ok(v)) => Some(Workers {
                jobs,
                handles: (a, v),
            }),
            (a, v) => {
                // Put back what was moved (a thread that did not start dropped its tables,
                // which were still empty): the loader then works inline.
                drop(jobs);
                if let Ok(a) = a {
                    tables.accounts = join(a);
                }
                if let Ok(v) = v {
                    (tables.values, tables.evidence) = join(v);
                }
                None
            }
        }
    }

    /// The builder, for [`GraphBuilder::scope`] and [`GraphBuilder::find_scope`].
    pub fn builder(&mut self) -> &mut GraphBuilder {
        &mut self.builder
    }

    /// Adds a batch.
    pub fn add(&mut self, batch: Batch) {
        let b = &mut self.builder;
        let groups = batch
            .identifiers
            .iter()
            .map(|&(kind, _)| match kind {
                IdType::UnionId => NONE,
                kind => b.kind_group(kind, NONE),
            })
            .collect();
        let job = Job {
            batch,
            scopes: b.scopes.clone(),
            groups,
            union_groups: b.union_groups.clone(),
        };
        match &self.workers {
            // A send fails only if a worker panicked; `finish` raises that panic.
            Some(w) => drop(w.jobs.send(job)),
            None => {
                let tables = &mut b.tables;
                let accounts = job.accounts(&mut tables.accounts);
                let interned = job.interned(&mut tables.values, accounts);
                tables.evidence.add_batch(&interned);
            }
        }
    }

    /// Waits for the threads and returns the builder with every batch added.
    pub fn finish(mut self) -> GraphBuilder {
        if let Some(w) = self.workers.take() {
            drop(w.jobs);
            let (a, v) = w.handles;
            let tables = &mut self.builder.tables;
            tables.accounts = join(a);
            (tables.values, tables.evidence) = join(v);
        }
        self.builder
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::IdentityRules;

    struct Texts(Vec<Option<String>>);

    impl TextColumn for Texts {
        fn get(&self, row: usize) -> Option<&str> {
            self.0[row].as_deref()
        }
    }

    struct Times(Vec<Option<i64>>);

    impl TimeColumn for Times {
        fn get(&self, row: usize) -> Option<i64> {
            self.0[row]
        }
    }

    /// `(account, person)` of every account, in key order.
    fn resolve(threads: usize, batches: usize) -> Vec<(String, String)> {
        let mut loader = Loader::new(GraphBuilder::new(threads));
        let rows = 5_000;
        for k in 0..batches {
            let range = k * rows / batches..(k + 1) * rows / batches;
            let groups = range
                .clone()
                .map(|i| match i % 97 {
                    0 => NONE,
                    _ => loader.builder().scope(["douyin", "kuaishou"][i % 2], "app"),
                })
                .collect();
            let text = |f: &dyn Fn(usize) -> Option<String>| {
                Box::new(Texts(range.clone().map(f).collect()))
            };
            loader.add(Batch {
                groups,
                account: text(&|i| Some(format!("a{}", i % 3_000))),
                ts: Box::new(Times(
                    range
                        .clone()
                        .map(|i| (i % 7 != 0).then_some(i as i64))
                        .collect(),
                )),
                identifiers: vec![
                    (IdType::UnionId, text(&|i| Some(format!("u{}", i % 1_500)))),
                    (
                        IdType::Phone,
                        text(&|i| (i % 5 == 0).then(|| format!("k{}", i % 800))),
                    ),
                    (
                        IdType::Device,
                        text(&|i| (i % 3 == 0).then(|| format!("d{}", i % 900))),
                    ),
                ],
                new_accounts: true,
            });
        }
        let g = loader.finish().resolve(&IdentityRules::default());
        g.accounts_by_key()
            .into_iter()
            .map(|a| {
                let person = g.persons.get(g.person_of[a as usize]);
                (g.account_key(a).2.to_string(), person.to_string())
            })
            .collect()
    }

    #[test]
    fn link_rows_of_unknown_accounts_add_nothing() {
        for threads in [1, 2] {
            let mut loader = Loader::new(GraphBuilder::new(threads));
            let scope = loader.builder().scope("douyin", "app");
            let texts =
                |v: &[&str]| Box::new(Texts(v.iter().map(|s| Some(s.to_string())).collect()));
            loader.add(Batch {
                groups: vec![scope],
                account: texts(&["a1"]),
                ts: Box::new(Times(vec![Some(1)])),
                identifiers: vec![(IdType::Device, texts(&["d1"]))],
                new_accounts: true,
            });
            let known = loader.builder().find_scope("douyin", "app").unwrap_or(NONE);
            loader.add(Batch {
                groups: vec![known, known, NONE],
                account: texts(&["a1", "stranger", "a1"]),
                ts: Box::new(Times(vec![Some(2), Some(3), Some(4)])),
                identifiers: vec![(IdType::Member, texts(&["m1", "m2", "m3"]))],
                new_accounts: false,
            });
            let g = loader.finish().resolve(&IdentityRules::default());
            assert_eq!(g.accounts.len(), 1);
            let values: Vec<&str> = (0..g.identifiers.len() as u32)
                .map(|i| g.identifier_value(i))
                .collect();
            assert_eq!(values.len(), 2, "{values:?}");
            assert!(
                values.contains(&"d1") && values.contains(&"m1"),
                "{values:?}"
            );
            assert_eq!(g.evidence.len(), 2);
        }
    }

    #[test]
    fn threads_and_batching_do_not_change_the_answer() {
        let inline = resolve(1, 1);
        assert!(inline.len() > 2_900, "{}", inline.len());
        let persons: std::collections::HashSet<&String> = inline.iter().map(|r| &r.1).collect();
        assert!(
            persons.len() > 1 && persons.len() < 3_000,
            "{}",
            persons.len()
        );
        assert_eq!(resolve(2, 7), inline);
        assert_eq!(resolve(3, 40), inline);
    }
}
