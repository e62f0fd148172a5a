//! The identity graph's independent per-item steps (blocked-value checks, person ids,
//! sorts) split over a few scoped threads. The results never depend on the number of
//! threads.

use std::ops::Range;
use std::thread::{ScopedJoinHandle, scope};

/// Smaller inputs are not worth a thread.
const MIN_PER_THREAD: usize = 1 << 14;

fn join<T>(handle: ScopedJoinHandle<'_, T>) -> T {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// `f(i)` for `i` in `0..n`, in order, on up to `threads` threads.
pub fn map<T: Send, F: Fn(usize) -> T + Sync>(threads: usize, n: usize, f: F) -> Vec<T> {
    chunks(threads, n, |range| range.map(&f).collect::<Vec<T>>())
        .into_iter()
        .flatten()
        .collect()
}

/// `0..n` cut into one range per thread (up to `threads`), `f` of each range, in order.
pub fn chunks<T: Send, F: Fn(Range<usize>) -> T + Sync>(threads: usize, n: usize, f: F) -> Vec<T> {
    let threads = threads.min(n / MIN_PER_THREAD).max(1);
    if threads == 1 {
        return vec![f(0..n)];
    }
    let chunk = n.div_ceil(threads);
    scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|k| {
                let f = &f;
                s.spawn(move || f(k * chunk..((k + 1) * chunk).min(n)))
            })
            .collect();
        handles.into_iter().map(join).collect()
    })
}

/// Runs `a` and `b` at the same time when `threads > 1`.
pub fn both<A: Send, B: Send>(
    threads: usize,
    a: impl FnOnce() -> A + Send,
    b: impl FnOnce() -> B + Send,
) -> (A, B) {
    if threads <= 1 {
        return (a(), b());
    }
    scope(|s| {
        let a = s.spawn(a);
        let b = b();
        (join(a), b)
    })
}

/// Sorts `v` (unstable): halves sorted on two threads, then merged.
pub fn sort<T: Ord + Copy + Send>(threads: usize, mut v: Vec<T>) -> Vec<T> {
    if threads <= 1 || v.len() < 2 * MIN_PER_THREAD {
        v.sort_unstable();
        return v;
    }
    let half = v.len() / 2;
    let (left, right) = v.split_at_mut(half);
    both(threads, || left.sort_unstable(), || right.sort_unstable());
    let (left, right) = v.split_at(half);
    let mut out = Vec::with_capacity(v.len());
    let (mut i, mut j) = (0, 0);
    while i < left.len() && j < right.len() {
        if right[j] < left[i] {
            out.push(right[j]);
            j += 1;
        } else {
            out.push(left[i]);
            i += 1;
        }
    }
    out.extend_from_slice(&left[i..]);
    out.extend_from_slice(&right[j..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_do_not_depend_on_threads() {
        let n = 100_000;
        let values: Vec<u64> = (0..n as u64)
            .map(|i| i.wrapping_mul(0x9e37_79b9) % 1000)
            .collect();
        assert_eq!(map(1, n, |i| values[i] * 2), map(3, n, |i| values[i] * 2));
        let ranges = chunks(2, n, |r| r);
        assert_eq!(ranges, vec![0..n / 2, n / 2..n]);
        assert_eq!(chunks(2, 10, |r| r), vec![0..10]);
        let mut expected = values.clone();
        expected.sort_unstable();
        assert_eq!(sort(2, values.clone()), expected);
        assert_eq!(sort(1, values), expected);
        assert_eq!(both(2, || 1, || 2), (1, 2));
    }
}
