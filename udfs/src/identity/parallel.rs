//! The identity graph's independent per-item steps (blocked-value checks, person ids,
//! sorts) split over a few scoped threads, and freeing it on the side. The results never
//! depend on the number of threads.

use std::ops::Range;
use std::thread::{ScopedJoinHandle, scope};

/// Smaller inputs are not worth a thread.
const MIN_PER_THREAD: usize = 1 << 14;

fn join<T>(handle: ScopedJoinHandle<'_, T>) -> T {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// `f(i)` for `i` in `0..n`, in order, on up to `threads` threads. Each thread writes
/// its part of the result in place (no part is built apart and copied: for arrays of
/// millions that copy, and the pages it touches, cost as much as a simple `f`).
pub fn map<T: Send, F: Fn(usize) -> T + Sync>(threads: usize, n: usize, f: F) -> Vec<T> {
    let mut out: Vec<T> = Vec::with_capacity(n);
    let chunk = n.div_ceil(useful(threads, n)).max(1);
    let cuts: Vec<usize> = (chunk..n).step_by(chunk).collect();
    fill(&mut out.spare_capacity_mut()[..n], &cuts, |k, part| {
        for (j, slot) in part.iter_mut().enumerate() {
            slot.write(f(k * chunk + j));
        }
    });
    // SAFETY: the parts cover the first `n` slots and each slot was written above (a
    // panic in `f` reaches the caller before this line, leaking what was written).
    unsafe { out.set_len(n) };
    out
}

/// Drops `value` on a thread of its own: freeing millions of items takes a while that
/// the caller need not wait for. If no thread starts, the value is dropped here.
pub fn drop_aside<T: Send + 'static>(value: T) {
    let _ = std::thread::Builder::new()
        .name("identity-drop".into())
        .spawn(move || drop(value));
}

/// How many of `threads` threads `n` items are worth.
pub fn useful(threads: usize, n: usize) -> usize {
    threads.min(n / MIN_PER_THREAD).max(1)
}

/// `0..n` cut into one range per thread (up to `threads`), `f` of each range, in order.
pub fn chunks<T: Send, F: Fn(Range<usize>) -> T + Sync>(threads: usize, n: usize, f: F) -> Vec<T> {
    let threads = useful(threads, n);
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

/// `f(k, piece)` for each piece `k` of `out` cut at the ascending positions `cuts`,
/// each piece on a thread of its own.
pub fn fill<T: Send, F: Fn(usize, &mut [T]) + Sync>(out: &mut [T], cuts: &[usize], f: F) {
    let mut pieces = Vec::with_capacity(cuts.len() + 1);
    let (mut rest, mut at) = (out, 0);
    for &cut in cuts {
        let (piece, tail) = rest.split_at_mut(cut - at);
        pieces.push(piece);
        (rest, at) = (tail, cut);
    }
    pieces.push(rest);
    if cuts.is_empty() {
        return f(0, pieces[0]);
    }
    scope(|s| {
        let handles: Vec<_> = pieces
            .into_iter()
            .enumerate()
            .map(|(k, piece)| {
                let f = &f;
                s.spawn(move || f(k, piece))
            })
            .collect();
        handles.into_iter().for_each(join);
    });
}

/// `f(k)` for `k` in `0..n`, each on a thread of its own; the results in order.
pub fn each<R: Send, F: Fn(usize) -> R + Sync>(n: usize, f: F) -> Vec<R> {
    if n <= 1 {
        return (0..n).map(f).collect();
    }
    scope(|s| {
        let handles: Vec<_> = (0..n)
            .map(|k| {
                let f = &f;
                s.spawn(move || f(k))
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
        assert_eq!(map(3, n, |i| i), (0..n).collect::<Vec<_>>());
        assert_eq!(map(2, 0, |i| i), Vec::<usize>::new());
        let strings = map(2, n, |i| i.to_string());
        assert_eq!(strings[n - 1], (n - 1).to_string());
        let ranges = chunks(2, n, |r| r);
        assert_eq!(ranges, vec![0..n / 2, n / 2..n]);
        assert_eq!(chunks(2, 10, |r| r), vec![0..10]);
        assert_eq!(both(2, || 1, || 2), (1, 2));
        assert_eq!(each(3, |k| k * 10), vec![0, 10, 20]);
        let mut out = vec![0; 10];
        fill(&mut out, &[3, 3, 7], |k, piece| piece.fill(k));
        assert_eq!(out, vec![0, 0, 0, 2, 2, 2, 2, 3, 3, 3]);
    }
}
