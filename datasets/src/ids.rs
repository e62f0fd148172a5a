//! Realistic-looking, collision-free identifiers.
//!
//! Every identifier is built from a unique integer *code* (for example
//! `global_person_index << 3 | account_kind`) passed through a bijection, so two
//! different codes can never give the same id, whatever chunk produced them.
//! Formats never contain a run of more than ten consecutive digits unless the
//! whole id is a long number (order ids, room ids...), so no id can be mistaken
//! for an 11-digit Chinese mobile number.

use crate::rng::mix64;
use std::fmt::Write;

/// URL-safe base64 alphabet (WeChat openids, Douyin open ids...).
const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
/// Lower-case hexadecimal digits.
const HEX: &[u8; 16] = b"0123456789abcdef";
/// Letters used for positions forced to break digit runs.
const LETTERS: &[u8; 52] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Every `RUN_BREAK`-th character of a token is forced to be a letter.
const RUN_BREAK: usize = 8;

/// Character set of a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alphabet {
    /// `[A-Za-z0-9-_]`, 6 bits per character.
    Base64,
    /// `[0-9a-f]`, 4 bits per character.
    Hex,
}

/// A bijection on `[0, 2^bits)` (xorshift-multiply rounds under a mask).
pub fn scramble(x: u64, bits: u32, salt: u64) -> u64 {
    debug_assert!((8..=64).contains(&bits));
    let mask = if bits == 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    debug_assert!(x <= mask, "code {x} does not fit in {bits} bits");
    let mut x = (x ^ salt) & mask;
    x ^= x >> (bits / 2);
    x = x.wrapping_mul(0x9e37_79b9_7f4a_7c15 | 1) & mask;
    x ^= x >> (bits / 3 + 1);
    x = x.wrapping_mul(0xc2b2_ae3d_27d4_eb4f) & mask;
    x ^= x >> (bits / 2);
    x
}

/// Appends a `len`-character token that encodes `value` injectively.
///
/// The 64 bits of `value` fill the first non-forced positions; the remaining
/// positions are pseudo-random filler derived from `value`. Every 8th position
/// is a letter, so digit runs never exceed 7 characters.
pub fn push_token(buf: &mut String, value: u64, len: usize, alphabet: Alphabet) {
    let (table, bits): (&[u8], u32) = match alphabet {
        Alphabet::Base64 => (B64, 6),
        Alphabet::Hex => (HEX, 4),
    };
    let needed = 64usize.div_ceil(bits as usize);
    debug_assert!(
        len - len / RUN_BREAK >= needed,
        "token of {len} characters cannot hold 64 bits"
    );
    debug_assert!(len / RUN_BREAK <= 10, "token too long for the letter pool");
    let mut pool: u128 = value as u128;
    let mut have: u32 = 64;
    let mut filler = value;
    let mut letters = mix64(value ^ 0xa076_1d64_78bd_642f);
    let mask = (1u128 << bits) - 1;
    for i in 0..len {
        if i % RUN_BREAK == RUN_BREAK - 1 {
            let c = LETTERS[((letters & 63) % LETTERS.len() as u64) as usize];
            letters >>= 6;
            buf.push(c as char);
            continue;
        }
        if have < bits {
            filler = mix64(filler ^ 0x5851_f42d_4c95_7f2d);
            pool |= (filler as u128) << have;
            have += 64;
        }
        let v = (pool & mask) as usize;
        pool >>= bits;
        have -= bits;
        buf.push(table[v] as char);
    }
}

/// Appends a UUID-shaped device id (`8-4-4-4-12` hex, version nibble `4`).
///
/// Groups 1, 2 and 4 carry the 64 bits of `value`; the dashes and a forced
/// letter in the last group keep digit runs at most 8 long.
pub fn push_uuid(buf: &mut String, value: u64) {
    let f = mix64(value ^ 0x2545_f491_4f6c_dd1d);
    let g = mix64(f);
    let _ = write!(
        buf,
        "{:08x}-{:04x}-4{:03x}-{:04x}-",
        value >> 32,
        (value >> 16) & 0xffff,
        f & 0xfff,
        value & 0xffff
    );
    let tail = g & 0xffff_ffff_ffff; // 48 bits = 12 hex digits
    let mut s = [0u8; 12];
    for (i, c) in s.iter_mut().enumerate() {
        *c = HEX[((tail >> (44 - 4 * i)) & 0xf) as usize];
    }
    s[5] = b"abcdef"[((g >> 50) % 6) as usize];
    for c in s {
        buf.push(c as char);
    }
}

/// Length of the longest run of ASCII digits in `s`.
pub fn longest_digit_run(s: &str) -> usize {
    let mut best = 0;
    let mut cur = 0;
    for b in s.bytes() {
        if b.is_ascii_digit() {
            cur += 1;
            best = best.max(cur);
        } else {
            cur = 0;
        }
    }
    best
}

/// Whether `s` contains something shaped like a Chinese mobile number: a
/// maximal run of exactly 11 digits matching `1[3-9]\d{9}`, the same preceded by
/// `86` (13 digits), or the text `+861`.
pub fn looks_like_phone(s: &str) -> bool {
    if s.contains("+861") {
        return true;
    }
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let run = &b[start..i];
        let mobile = |r: &[u8]| r.len() == 11 && r[0] == b'1' && (b'3'..=b'9').contains(&r[1]);
        if mobile(run) || (run.len() == 13 && run.starts_with(b"86") && mobile(&run[2..])) {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn scramble_is_a_bijection() {
        for bits in [8u32, 10, 12] {
            let n = 1u64 << bits;
            let set: HashSet<u64> = (0..n).map(|x| scramble(x, bits, 0x1234)).collect();
            assert_eq!(set.len() as u64, n);
            assert!(set.iter().all(|&v| v < n));
        }
    }

    #[test]
    fn tokens_are_unique_and_phone_free() {
        let mut seen = HashSet::new();
        for code in 0..50_000u64 {
            for (len, a) in [
                (13, Alphabet::Base64),
                (19, Alphabet::Hex),
                (32, Alphabet::Hex),
            ] {
                let mut s = String::new();
                push_token(&mut s, mix64(code), len, a);
                assert_eq!(s.len(), len);
                assert!(longest_digit_run(&s) <= 7, "{s}");
                assert!(seen.insert(s));
            }
            let mut u = String::new();
            push_uuid(&mut u, mix64(code));
            assert_eq!(u.len(), 36);
            assert!(longest_digit_run(&u) <= 8, "{u}");
            assert!(seen.insert(u));
        }
    }

    #[test]
    fn phone_detector() {
        assert!(looks_like_phone("13812345678"));
        assert!(looks_like_phone("tel 8613812345678"));
        assert!(looks_like_phone("+8613812345678"));
        assert!(!looks_like_phone("12812345678"));
        assert!(!looks_like_phone("138123456789"));
        assert!(!looks_like_phone("7212345678901234567"));
        assert!(!looks_like_phone("2026-10-01 13:00:00"));
    }
}
