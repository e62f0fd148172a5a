//! Interned ids: millions of `(group, text)` keys (a platform scope and an account id, an
//! identifier type and its value) mapped to dense `u32` indices. One text arena and one
//! open-addressing table: no allocation per id, and the texts of neighbouring indices
//! sit next to each other in memory.
//!
//! Tables of millions of keys do not fit in a core's cache, so a lookup waits for memory
//! three times in a row (the slot, the item, the text). [`Interner::intern_all`] and
//! [`Interner::find_all`] take a batch of keys and ask for those lines a few keys ahead
//! ([`prefetch`]), so the waits of successive keys overlap instead of adding up.

use std::hash::BuildHasher;

use foldhash::fast::FixedState;

/// Fixed seed: the same key hashes the same way in every run (the answer never depends
/// on it, but profiles and memory use are reproducible).
const HASH: FixedState = FixedState::with_seed(0x9e37_79b9_7f4a_7c15);

/// The hash the interner and the evidence index use.
pub fn hash_of<T: std::hash::Hash>(value: T) -> u64 {
    HASH.hash_one(value)
}

/// Asks the CPU to start loading the cache line that holds `value`. Only a hint: it
/// changes no result, just when the memory arrives.
#[inline(always)]
pub fn prefetch<T: ?Sized>(value: Option<&T>) {
    #[cfg(target_arch = "x86_64")]
    if let Some(value) = value {
        // SAFETY: a prefetch reads no memory architecturally and never faults; the
        // pointer comes from a live reference.
        unsafe {
            use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
            _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(value).cast());
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}

/// How many keys ahead each prefetch stage of a batch runs.
const AHEAD: usize = 8;

/// Where an item's text is, and its group.
#[derive(Debug, Clone, Copy)]
struct Item {
    start: usize,
    len: u32,
    group: u32,
}

/// An empty slot.
const EMPTY: u64 = 0;

/// Dense indices for `(group, text)` keys.
#[derive(Debug, Default)]
pub struct Interner {
    text: String,
    items: Vec<Item>,
    /// Linear probing over `tag << 32 | (index + 1)` (0: empty), where `tag` is the high
    /// half of the key's hash. A key's home slot is its tag's top bits, so growing the
    /// table moves slots without hashing a text again.
    slots: Vec<u64>,
    /// log2 of the number of slots.
    bits: u32,
}

/// A batch's keys, with their tags.
fn tags(keys: &[(u32, &str)]) -> Vec<u32> {
    keys.iter()
        .map(|&key| (hash_of(key) >> 32) as u32)
        .collect()
}

impl Interner {
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// The text of item `i`.
    pub fn text(&self, i: u32) -> &str {
        let item = self.items[i as usize];
        &self.text[item.start..item.start + item.len as usize]
    }

    /// The group of item `i`.
    pub fn group(&self, i: u32) -> u32 {
        self.items[i as usize].group
    }

    fn home(&self, tag: u32) -> usize {
        // Shifting a u64 keeps `bits == 0` (no slots yet) well defined.
        (u64::from(tag) >> (32 - self.bits)) as usize
    }

    /// The slot holding `key`, or the empty slot where it would go.
    fn probe(&self, tag: u32, (group, text): (u32, &str)) -> Result<usize, usize> {
        let mask = self.slots.len() - 1;
        let mut pos = self.home(tag);
        loop {
            let slot = self.slots[pos];
            if slot == EMPTY {
                return Err(pos);
            }
            if (slot >> 32) as u32 == tag {
                let i = (slot as u32 - 1) as usize;
                let item = self.items[i];
                if item.group == group
                    && item.len as usize == text.len()
                    && &self.text[item.start..item.start + text.len()] == text
                {
                    return Ok(pos);
                }
            }
            pos = (pos + 1) & mask;
        }
    }

    /// Room for `more` new items without growing (at most 5/8 of the slots used).
    fn reserve(&mut self, more: usize) {
        let needed = self.items.len() + more;
        if needed * 8 <= self.slots.len() * 5 {
            return;
        }
        let mut bits = self.bits.max(4);
        while needed * 8 > (1usize << bits) * 5 {
            bits += 1;
        }
        assert!(bits <= 32, "more than 2^31 interned ids");
        let old = std::mem::replace(&mut self.slots, vec![EMPTY; 1 << bits]);
        self.bits = bits;
        let mask = self.slots.len() - 1;
        for slot in old.into_iter().filter(|&s| s != EMPTY) {
            let mut pos = self.home((slot >> 32) as u32);
            while self.slots[pos] != EMPTY {
                pos = (pos + 1) & mask;
            }
            self.slots[pos] = slot;
        }
    }

    /// Prefetches, for the key `ahead` keys on, the slot (`stage` 2), the item (1) or
    /// the text (0) a lookup will read.
    fn prefetch_key(&self, tag: Option<&u32>, stage: u8) {
        let Some(&tag) = tag else { return };
        let pos = self.home(tag);
        if stage == 2 {
            return prefetch(self.slots.get(pos));
        }
        // The first slot with the tag (almost always the home slot, now in cache).
        let mask = self.slots.len() - 1;
        let found = (0..4)
            .map(|k| self.slots[(pos + k) & mask])
            .find(|&s| s == EMPTY || (s >> 32) as u32 == tag);
        let Some(slot) = found.filter(|&s| s != EMPTY) else {
            return;
        };
        let item = self.items.get((slot as u32 - 1) as usize);
        match (stage, item) {
            (1, _) => prefetch(item),
            (_, Some(item)) => prefetch(self.text.as_bytes().get(item.start)),
            _ => {}
        }
    }

    /// Prefetches for key `k` of a batch the lines of keys `k + AHEAD .. k + 3 AHEAD`.
    fn prefetch_ahead(&self, tags: &[u32], k: usize) {
        self.prefetch_key(tags.get(k + 3 * AHEAD), 2);
        self.prefetch_key(tags.get(k + 2 * AHEAD), 1);
        self.prefetch_key(tags.get(k + AHEAD), 0);
    }

    fn insert(&mut self, pos: usize, tag: u32, (group, text): (u32, &str)) -> u32 {
        let i = self.items.len() as u32;
        self.items.push(Item {
            start: self.text.len(),
            len: text.len() as u32,
            group,
        });
        self.text.push_str(text);
        self.slots[pos] = u64::from(tag) << 32 | u64::from(i + 1);
        i
    }

    /// The index of `(group, text)`, and whether it was new.
    pub fn intern(&mut self, group: u32, text: &str) -> (u32, bool) {
        let len = self.items.len() as u32;
        let i = self.intern_all(&[(group, text)])[0];
        (i, i == len)
    }

    /// The index of each key, interning the new ones. Indices are handed out in order,
    /// so a key is new exactly when its index is the next one not seen before.
    pub fn intern_all(&mut self, keys: &[(u32, &str)]) -> Vec<u32> {
        let tags = tags(keys);
        self.reserve(keys.len());
        let mut out = Vec::with_capacity(keys.len());
        for (k, (&key, &tag)) in keys.iter().zip(&tags).enumerate() {
            self.prefetch_ahead(&tags, k);
            out.push(match self.probe(tag, key) {
                Ok(pos) => (self.slots[pos] as u32) - 1,
                Err(pos) => self.insert(pos, tag, key),
            });
        }
        out
    }

    /// The index of each key, `u32::MAX` for keys never interned.
    pub fn find_all(&self, keys: &[(u32, &str)]) -> Vec<u32> {
        if self.slots.is_empty() {
            return vec![u32::MAX; keys.len()];
        }
        let tags = tags(keys);
        keys.iter()
            .zip(&tags)
            .enumerate()
            .map(|(k, (&key, &tag))| {
                self.prefetch_ahead(&tags, k);
                match self.probe(tag, key) {
                    Ok(pos) => (self.slots[pos] as u32) - 1,
                    Err(_) => u32::MAX,
                }
            })
            .collect()
    }

    /// The index of `(group, text)` if it was interned.
    pub fn find(&self, group: u32, text: &str) -> Option<u32> {
        Some(self.find_all(&[(group, text)])[0]).filter(|&i| i != u32::MAX)
    }

    /// Drops the lookup table (lookups are over; the texts stay).
    pub fn freeze(&mut self) {
        self.slots = Vec::new();
        self.bits = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interns_by_group_and_text() {
        let mut i = Interner::default();
        assert_eq!(i.find(0, "a"), None);
        assert_eq!(i.intern(0, "a"), (0, true));
        assert_eq!(i.intern(1, "a"), (1, true));
        assert_eq!(i.intern(0, ""), (2, true));
        assert_eq!(i.intern(0, "a"), (0, false));
        assert_eq!(i.text(1), "a");
        assert_eq!(i.text(2), "");
        assert_eq!(i.group(1), 1);
        assert_eq!(i.find(1, "a"), Some(1));
        assert_eq!(i.find(2, "a"), None);
        for n in 0..10_000u32 {
            i.intern(3, &n.to_string());
        }
        assert_eq!(i.len(), 10_003);
        assert_eq!(i.find(3, "9999"), Some(10_002));
        assert_eq!(i.text(10_002), "9999");
    }

    #[test]
    fn batches_repeat_keys_and_grow_the_table() {
        let texts: Vec<String> = (0..50_000u32)
            .map(|n| format!("id{}", n % 20_000))
            .collect();
        let keys: Vec<(u32, &str)> = texts.iter().map(|t| (7, t.as_str())).collect();
        let mut i = Interner::default();
        let first = i.intern_all(&keys[..30_000]);
        let second = i.intern_all(&keys[30_000..]);
        assert_eq!(i.len(), 20_000);
        // Indices in order of first appearance; repeats get the same index.
        for (k, &id) in first.iter().chain(&second).enumerate() {
            assert_eq!(id as usize, k % 20_000, "key {k}");
            assert_eq!(i.text(id), texts[k]);
        }
        let found = i.find_all(&[(7, "id19999"), (8, "id1"), (7, "id20000")]);
        assert_eq!(found, vec![19_999, u32::MAX, u32::MAX]);
        i.freeze();
        assert_eq!(i.text(5), "id5");
        assert_eq!(i.find(7, "id5"), None);
    }
}
