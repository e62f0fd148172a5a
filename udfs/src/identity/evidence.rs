//! Evidence: which account was seen with which identifier, and first when. Loading only
//! appends each row's pairs, repeats included ([`EvidenceList`]); [`group`] then puts the
//! pairs in identifier order with a counting sort, keeps each `(account, identifier)`
//! pair once with its earliest time, and counts per identifier what the value guards
//! need: its distinct accounts, and, for devices, whether two accounts of one platform
//! scope share it. Appending is sequential and the grouping runs in parallel, where a
//! lookup per pair while loading waited for memory at every row.

use super::graph::{Evidence, Interned, NONE};
use super::parallel;

/// Evidence as it was loaded, repeats included.
#[derive(Debug, Default)]
pub(super) struct EvidenceList {
    pub list: Vec<Evidence>,
}

impl EvidenceList {
    pub fn add(&mut self, account: u32, identifier: u32, ts: i64) {
        self.list.push(Evidence::new(account, identifier, ts));
    }

    /// The evidence of each row with an account and each of its identifiers.
    pub fn add_batch(&mut self, batch: &Interned) {
        let width = batch.width;
        for (row, &account) in batch.accounts.iter().enumerate() {
            if account == NONE {
                continue;
            }
            for &identifier in &batch.identifiers[row * width..(row + 1) * width] {
                if identifier != NONE {
                    self.add(account, identifier, batch.times[row]);
                }
            }
        }
    }
}

/// Evidence grouped by identifier, and what the value guards need of each identifier.
#[derive(Debug)]
pub(super) struct Grouped {
    /// One per `(account, identifier)` pair, at its earliest time; by identifier, then
    /// account.
    pub evidence: Vec<Evidence>,
    /// Distinct accounts per identifier.
    pub degree: Vec<u32>,
    /// Per identifier: a device on two accounts of one platform scope (only when
    /// `is_device` says so for the identifier).
    pub shared: Vec<bool>,
}

/// Groups `raw` (identifiers `0..n`) by identifier. `scope_of` gives an account's
/// platform scope group; `is_device` whether an identifier is a device the shared-device
/// rule applies to.
pub(super) fn group(
    raw: Vec<Evidence>,
    n: usize,
    scope_of: impl Fn(u32) -> u32 + Sync,
    is_device: impl Fn(u32) -> bool + Sync,
    threads: usize,
) -> Grouped {
    // Counting sort: pairs per identifier, then where each identifier's run starts.
    let counts = parallel::chunks(threads, raw.len(), |range| {
        let mut counts = vec![0u32; n];
        for e in &raw[range] {
            counts[e.identifier as usize] += 1;
        }
        counts
    })
    .into_iter()
    .reduce(|mut all, part| {
        all.iter_mut().zip(part).for_each(|(c, p)| *c += p);
        all
    })
    .unwrap_or_default();
    let mut starts = Vec::with_capacity(n + 1);
    let mut total = 0usize;
    starts.push(0);
    for &c in &counts {
        total += c as usize;
        starts.push(total);
    }
    drop(counts);
    // Each thread owns a range of identifiers of about equal evidence: it picks its
    // pairs out of all of `raw` into a buffer of its own, and sorts and deduplicates
    // their runs there.
    let parts = parallel::useful(threads, raw.len());
    let first_identifier: Vec<usize> = (0..parts)
        .map(|k| {
            starts
                .partition_point(|&s| s < k * total / parts)
                .saturating_sub(1)
        })
        .chain([n])
        .collect();
    let pieces = parallel::each(parts, |k| {
        let (lo, hi) = (first_identifier[k], first_identifier[k + 1]);
        let base = starts[lo];
        let mut next: Vec<usize> = starts[lo..hi].iter().map(|s| s - base).collect();
        let mut piece = vec![Evidence::new(0, 0, 0); starts[hi] - base];
        for e in &raw {
            let i = e.identifier as usize;
            if (lo..hi).contains(&i) {
                let slot = &mut next[i - lo];
                piece[*slot] = *e;
                *slot += 1;
            }
        }
        let mut degree = Vec::with_capacity(hi - lo);
        let mut shared = vec![false; hi - lo];
        let mut kept = 0;
        let mut scopes = Vec::new();
        for i in lo..hi {
            let (from, to) = (starts[i] - base, starts[i + 1] - base);
            let run = &mut piece[from..to];
            if run.len() > 1 {
                run.sort_unstable_by_key(|e| (e.account, e.ts));
            }
            // The first of each account's evidence is its earliest.
            let start = kept;
            for j in from..to {
                if kept == start || piece[kept - 1].account != piece[j].account {
                    piece[kept] = piece[j];
                    kept += 1;
                }
            }
            degree.push((kept - start) as u32);
            if kept - start > 1 && is_device(i as u32) {
                scopes.clear();
                scopes.extend(piece[start..kept].iter().map(|e| scope_of(e.account)));
                scopes.sort_unstable();
                shared[i - lo] = scopes.windows(2).any(|w| w[0] == w[1]);
            }
        }
        piece.truncate(kept);
        (piece, degree, shared)
    });
    // The kept evidence, in identifier order, where the raw evidence was (that memory
    // is in use already), each piece copied by a thread of its own.
    let mut evidence = raw;
    let mut cuts: Vec<usize> = pieces
        .iter()
        .scan(0, |end, (piece, _, _)| {
            *end += piece.len();
            Some(*end)
        })
        .collect();
    evidence.truncate(cuts.pop().unwrap_or(0));
    parallel::fill(&mut evidence, &cuts, |k, out| {
        out.copy_from_slice(&pieces[k].0);
    });
    let (mut degree, mut shared) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for (_, d, s) in pieces {
        degree.extend(d);
        shared.extend(s);
    }
    Grouped {
        evidence,
        degree,
        shared,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_each_pair_once_at_its_earliest_time() {
        // Identifier i is on accounts 0..=(i % 5), each seen three times; accounts of
        // scope a % 3. Identifiers divisible by 4 are devices.
        let mut raw = Vec::new();
        let n = 40_000u32;
        for round in 0..3i64 {
            for i in (0..n).rev() {
                for a in 0..=(i % 5) {
                    raw.push(Evidence::new(a, i, 100 - round * 10 + i64::from(a)));
                }
            }
        }
        for threads in [1, 2, 3] {
            let g = group(
                raw.clone(),
                n as usize + 2,
                |a| a % 3,
                |i| i % 4 == 0,
                threads,
            );
            let expected: Vec<(u32, u32, i64)> = (0..n)
                .flat_map(|i| (0..=(i % 5)).map(move |a| (a, i, 80 + i64::from(a))))
                .collect();
            let got: Vec<(u32, u32, i64)> = g
                .evidence
                .iter()
                .map(|e| (e.account, e.identifier, e.ts))
                .collect();
            assert_eq!(got, expected, "threads {threads}");
            let degree: Vec<u32> = (0..n).map(|i| i % 5 + 1).chain([0, 0]).collect();
            assert_eq!(g.degree, degree);
            // Shared: a device on accounts 0..=3 or more (two of scope 0: accounts 0, 3).
            let shared: Vec<bool> = (0..n + 2)
                .map(|i| i < n && i % 4 == 0 && i % 5 >= 3)
                .collect();
            assert_eq!(g.shared, shared);
        }
        let empty = group(Vec::new(), 3, |a| a, |_| true, 2);
        assert!(empty.evidence.is_empty());
        assert_eq!(empty.degree, vec![0; 3]);
    }
}
