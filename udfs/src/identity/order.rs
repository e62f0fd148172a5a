//! The canonical order the graph is processed in, so the answer never depends on the
//! order rows arrive in:
//!
//! - evidence by time; ties by identifier type, then by a fixed hash of the identifier's
//!   and the account's keys, then (when even those hashes tie) by the keys themselves;
//! - accounts, to choose each person's anchor, by first seen, ties by key.
//!
//! Hashes instead of ranks: ranking millions of keys needs sorting their texts, while a
//! hash is computed from each key alone, in parallel, and only equal hashes need texts.

use std::cmp::Ordering;

use super::graph::{Account, Evidence};
use super::interner::{Interner, hash_of, prefetch};
use super::parallel;

/// The hash of each interned key `(group, text)`, from `group_hash` (each group's hash,
/// computed from its names, never from its number, which depends on input order).
pub(super) fn key_hashes(items: &Interner, group_hash: &[u64], threads: usize) -> Vec<u32> {
    parallel::map(threads, items.len(), |i| {
        let i = i as u32;
        (hash_of((group_hash[items.group(i) as usize], items.text(i))) >> 32) as u32
    })
}

/// log2 of the number of buckets of [`sort_evidence`]: few enough that the scattering
/// writes stay in cache, many enough that each bucket sorts in cache.
const BUCKET_BITS: u32 = 12;

/// `evidence` in canonical order: by time, then by `identifier_key` of the identifier
/// and `account_key` of the account (hashes); `tie` compares the keys of two evidence
/// whose times and hashes are equal. The sorted evidence is written over the input.
pub(super) fn sort_evidence(
    mut evidence: Vec<Evidence>,
    identifier_key: &[u32],
    account_key: &[u32],
    tie: impl Fn(&Evidence, &Evidence) -> Ordering + Sync,
    threads: usize,
) -> Vec<Evidence> {
    let key = |e: &Evidence| {
        u64::from(identifier_key[e.identifier as usize]) << 32
            | u64::from(account_key[e.account as usize])
    };
    // Counting sort into buckets of about equal size, each thread scattering its share
    // of the evidence; then each bucket sorted on its own, the buckets split over the
    // threads. Times cluster (a week of events, years of member links), so the buckets
    // are runs of 2^16 equal slices of the time range, cut where they reach the size.
    let (lo, hi) = parallel::chunks(threads, evidence.len(), |range| {
        let known = evidence[range]
            .iter()
            .map(|e| e.ts)
            .filter(|&t| t != i64::MAX);
        known.fold((i64::MAX, i64::MIN), |(lo, hi), t| (lo.min(t), hi.max(t)))
    })
    .into_iter()
    .fold((i64::MAX, i64::MIN), |(lo, hi), (l, h)| {
        (lo.min(l), hi.max(h))
    });
    // No time at all: one slice.
    let (lo, hi) = if lo > hi { (0, 0) } else { (lo, hi) };
    let span = (i128::from(hi) - i128::from(lo)) as u64;
    let shift = (u64::BITS - span.leading_zeros()).saturating_sub(16);
    // Slice of each time; i64::MAX (no time) in a slice of its own, last.
    let slices = (span >> shift) as usize + 2;
    let slice = |ts: i64| match ts {
        i64::MAX => slices - 1,
        ts => (ts.wrapping_sub(lo) as u64 >> shift) as usize,
    };
    let counts = parallel::chunks(threads, evidence.len(), |range| {
        let mut counts = vec![0usize; slices];
        for e in &evidence[range] {
            counts[slice(e.ts)] += 1;
        }
        counts
    });
    let size = (evidence.len() >> BUCKET_BITS).max(1);
    let (mut bucket_of, mut filled, mut buckets) = (Vec::with_capacity(slices), 0, 0);
    for s in 0..slices {
        if filled >= size || s == slices - 1 {
            (filled, buckets) = (0, buckets + 1);
        }
        bucket_of.push(buckets);
        filled += counts.iter().map(|c| c[s]).sum::<usize>();
    }
    drop(counts);
    let last = buckets;
    let bucket = |ts: i64| bucket_of[slice(ts)];
    let shares = parallel::chunks(threads, evidence.len(), |range| {
        let share = &evidence[range];
        let mut starts = vec![0usize; last + 2];
        for e in share {
            starts[bucket(e.ts) + 1] += 1;
        }
        for b in 1..starts.len() {
            starts[b] += starts[b - 1];
        }
        let mut next = starts.clone();
        let mut scattered = share.to_vec();
        for e in share {
            let slot = &mut next[bucket(e.ts)];
            scattered[*slot] = *e;
            *slot += 1;
        }
        (starts, scattered)
    });
    // Each thread sorts the buckets that start in its share of the positions, into its
    // piece of the output.
    let starts: Vec<usize> = (0..=last + 1)
        .map(|b| shares.iter().map(|(starts, _)| starts[b]).sum())
        .collect();
    let n = evidence.len();
    let parts = parallel::useful(threads, n);
    let first_bucket: Vec<usize> = (0..parts)
        .map(|k| starts.partition_point(|&s| s < k * n / parts))
        .chain([last + 1])
        .collect();
    let cuts: Vec<usize> = first_bucket[1..parts].iter().map(|&b| starts[b]).collect();
    // Every evidence is in `shares` now: the input is overwritten with the output.
    parallel::fill(&mut evidence, &cuts, |k, piece| {
        let mut out = piece.iter_mut();
        let mut local: Vec<(i64, u64, Evidence)> = Vec::new();
        for b in first_bucket[k]..first_bucket[k + 1] {
            local.clear();
            for (starts, scattered) in &shares {
                let bucket = &scattered[starts[b]..starts[b + 1]];
                // The keys of evidence a few rows on are read ahead.
                for (k, &e) in bucket.iter().enumerate() {
                    if let Some(f) = bucket.get(k + 16) {
                        prefetch(identifier_key.get(f.identifier as usize));
                        prefetch(account_key.get(f.account as usize));
                    }
                    local.push((e.ts, key(&e), e));
                }
            }
            local.sort_unstable_by_key(|x| (x.0, x.1));
            for run in local.chunk_by_mut(|x, y| (x.0, x.1) == (y.0, y.1)) {
                if run.len() > 1 {
                    run.sort_by(|x, y| tie(&x.2, &y.2));
                }
            }
            // `local` first: the zip must not take a slot it does not fill.
            for (x, slot) in local.iter().zip(out.by_ref()) {
                *slot = x.2;
            }
        }
    });
    evidence
}

/// Digits of [`anchor_order`]'s radix sort: 256 places to write to at a time stay
/// within the cache and the address translation buffers (2^11 did not).
const DIGIT_BITS: u32 = 8;

/// The accounts by first seen, ties by key. `by_key` compares two accounts' keys;
/// `key_prefix` summarises a key so that a smaller prefix means a smaller key (equal
/// prefixes say nothing). A radix sort of the times (a few passes over the accounts),
/// then each run of equal times sorted by prefix, and by key only where prefixes tie:
/// times in whole seconds put a third of the accounts in such runs, and comparing their
/// keys (two reads from all over memory each) took longer than the sort.
pub(super) fn anchor_order(
    accounts: &[Account],
    key_prefix: impl Fn(u32) -> u64,
    by_key: impl Fn(u32, u32) -> Ordering,
) -> Vec<u32> {
    // Times as offsets from the earliest; no time (i64::MAX) after every time.
    let known = accounts
        .iter()
        .map(|a| a.first_seen)
        .filter(|&t| t != i64::MAX);
    let lo = known.clone().min().unwrap_or(0);
    let span = (i128::from(known.max().unwrap_or(0)) - i128::from(lo)) as u64;
    let mut keys: Vec<(u64, u32)> = accounts
        .iter()
        .zip(0..)
        .map(|(acc, a)| match acc.first_seen {
            i64::MAX => (span.saturating_add(1), a),
            t => (t.wrapping_sub(lo) as u64, a),
        })
        .collect();
    let bits = u64::BITS - span.saturating_add(1).leading_zeros();
    let shifts: Vec<u32> = (0..bits).step_by(DIGIT_BITS as usize).collect();
    let mask = (1 << DIGIT_BITS) - 1;
    // Where each digit's keys go, for every digit at once.
    let mut next = vec![[0usize; 1 << DIGIT_BITS]; shifts.len()];
    for &(k, _) in &keys {
        for (next, &shift) in next.iter_mut().zip(&shifts) {
            next[(k >> shift) as usize & mask] += 1;
        }
    }
    let mut out = vec![(0, 0); keys.len()];
    for (next, &shift) in next.iter_mut().zip(&shifts) {
        let mut at = 0;
        for n in next.iter_mut() {
            (*n, at) = (at, at + *n);
        }
        for &x in &keys {
            let slot = &mut next[(x.0 >> shift) as usize & mask];
            out[*slot] = x;
            *slot += 1;
        }
        std::mem::swap(&mut keys, &mut out);
    }
    drop(out);
    // The prefixes in account order, which reads the keys in the order they are stored.
    let prefix: Vec<u64> = (0..accounts.len() as u32).map(key_prefix).collect();
    let mut ties = Vec::new();
    for run in keys.chunk_by_mut(|x, y| x.0 == y.0) {
        if run.len() > 1 {
            ties.clear();
            ties.extend(run.iter().map(|x| (prefix[x.1 as usize], x.1)));
            ties.sort_by(|x, y| x.0.cmp(&y.0).then_with(|| by_key(x.1, y.1)));
            for (x, t) in run.iter_mut().zip(&ties) {
                x.1 = t.1;
            }
        }
    }
    keys.into_iter().map(|k| k.1).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_by_time_then_hash_then_key() {
        // Times far apart and close together, and missing (i64::MAX), in every order.
        let mut evidence = Vec::new();
        for k in 0..50_000u32 {
            let ts = match k % 7 {
                0 => i64::MAX,
                1 => -5,
                _ => i64::from(k % 1_000) * 1_000_003,
            };
            evidence.push(Evidence::new(k, k % 13, ts));
        }
        // Identifier hashes tie for identifiers 3 and up, account hashes for all
        // accounts: the tie compares accounts, descending.
        let identifier_key: Vec<u32> = (0..13).map(|i: u32| i.min(3)).collect();
        let account_key = vec![7; 50_000];
        let key = |e: &Evidence| identifier_key[e.identifier as usize];
        let tie = |x: &Evidence, y: &Evidence| y.account.cmp(&x.account);
        let sort = |v: &[Evidence], threads| {
            sort_evidence(v.to_vec(), &identifier_key, &account_key, tie, threads)
        };
        let sorted = sort(&evidence, 2);
        let mut expected = evidence.clone();
        expected.sort_by(|x, y| (x.ts, key(x)).cmp(&(y.ts, key(y))).then_with(|| tie(x, y)));
        let pairs = |v: &[Evidence]| -> Vec<(u32, u32, i64)> {
            v.iter().map(|e| (e.account, e.identifier, e.ts)).collect()
        };
        assert_eq!(pairs(&sorted), pairs(&expected));
        assert_eq!(pairs(&sort(&expected, 1)), pairs(&expected));
        assert!(sort(&[], 2).is_empty());
    }

    #[test]
    fn anchors_by_first_seen_then_key() {
        let at = |first_seen| Account {
            platform: 0,
            scope: 0,
            first_seen,
            last_seen: first_seen,
        };
        let accounts = [at(5), at(1), at(5), at(5), at(i64::MAX), at(-3)];
        // Keys in reverse index order.
        let order = anchor_order(&accounts, |_| 0, |a, b| b.cmp(&a));
        assert_eq!(order, vec![5, 1, 3, 2, 0, 4]);
        // Prefixes decide before keys.
        let order = anchor_order(&accounts, |a| u64::from(a % 2), |a, b| b.cmp(&a));
        assert_eq!(order, vec![5, 1, 2, 0, 3, 4]);
        // Times that need several digits, against a comparison sort.
        let accounts: Vec<Account> = (0..50_000i64)
            .map(|a| at((a * 7_919 % 50_021) * 1_000_003 - 4_000_000_000))
            .collect();
        let mut expected: Vec<u32> = (0..50_000).collect();
        expected.sort_by_key(|&a| (accounts[a as usize].first_seen, a));
        assert_eq!(anchor_order(&accounts, |_| 0, |a, b| a.cmp(&b)), expected);
        assert!(anchor_order(&[], |_| 0, |a, b| a.cmp(&b)).is_empty());
    }
}
