//! Interned ids: millions of `(group, text)` keys (a platform scope and an account id, an
//! identifier type and its value) mapped to dense `u32` indices. One text arena and an
//! open-addressing table per group: no allocation per id, and the texts of neighbouring
//! indices sit next to each other in memory.
//!
//! Tables of millions of keys do not fit in a core's cache, so a lookup waits for memory
//! twice in a row (the slot, then the text). [`Interner::intern_all`] and
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

/// One slot of a group's table: the key's tag (the high half of its hash), its index
/// plus one (0: empty) and where its text is (start in the low 40 bits, length in the
/// high 24, saturated for longer texts), so a lookup reads the slot and the text only.
#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    tag: u32,
    index: u32,
    place: u64,
}

const LEN_SHIFT: u32 = 40;
/// The length field of texts this long or longer; their length is in their item.
const LONG: u64 = (1 << (64 - LEN_SHIFT)) - 1;

impl Slot {
    fn start(self) -> usize {
        (self.place & ((1 << LEN_SHIFT) - 1)) as usize
    }
}

/// The keys of one group: linear probing; a key's home slot is its tag's top bits, so
/// growing the table moves slots without hashing a text again.
#[derive(Debug, Default)]
struct Table {
    slots: Vec<Slot>,
    /// log2 of the number of slots.
    bits: u32,
    len: usize,
}

impl Table {
    fn home(&self, tag: u32) -> usize {
        // Shifting a u64 keeps `bits == 0` (no slots yet) well defined.
        (u64::from(tag) >> (32 - self.bits)) as usize
    }

    /// Room for `more` new keys without growing (at most 5/8 of the slots used).
    fn reserve(&mut self, more: usize) {
        let needed = self.len + more;
        if needed * 8 <= self.slots.len() * 5 {
            return;
        }
        let mut bits = self.bits.max(4);
        while needed * 8 > (1usize << bits) * 5 {
            bits += 1;
        }
        assert!(bits <= 32, "more than 2^31 interned ids in one group");
        let old = std::mem::replace(&mut self.slots, vec![Slot::default(); 1 << bits]);
        self.bits = bits;
        let mask = self.slots.len() - 1;
        for slot in old.into_iter().filter(|s| s.index != 0) {
            let mut pos = self.home(slot.tag);
            while self.slots[pos].index != 0 {
                pos = (pos + 1) & mask;
            }
            self.slots[pos] = slot;
        }
    }
}

/// Dense indices for `(group, text)` keys.
#[derive(Debug, Default)]
pub struct Interner {
    text: String,
    items: Vec<Item>,
    /// One lookup table per group.
    tables: Vec<Table>,
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

    /// Asks for where item `i` is (`text == false`) or, once that is near, for its
    /// text, ahead of a [`Self::text`]. Only a hint ([`prefetch`]).
    pub fn prefetch(&self, i: Option<u32>, text: bool) {
        let item = i.and_then(|i| self.items.get(i as usize));
        if text {
            prefetch(item.and_then(|item| self.text.as_bytes().get(item.start)));
        } else {
            prefetch(item);
        }
    }

    /// The group of item `i`.
    pub fn group(&self, i: u32) -> u32 {
        self.items[i as usize].group
    }

    /// The slot holding `key`, or the empty slot where it would go (`table` is the
    /// key's group's, and has slots).
    fn probe(&self, table: &Table, tag: u32, text: &str) -> Result<usize, usize> {
        let mask = table.slots.len() - 1;
        let len = (text.len() as u64).min(LONG);
        let mut pos = table.home(tag);
        loop {
            let slot = table.slots[pos];
            if slot.index == 0 {
                return Err(pos);
            }
            if slot.tag == tag && slot.place >> LEN_SHIFT == len {
                let start = slot.start();
                let same = match len {
                    LONG => self.text(slot.index - 1) == text,
                    _ => &self.text.as_bytes()[start..start + text.len()] == text.as_bytes(),
                };
                if same {
                    return Ok(pos);
                }
            }
            pos = (pos + 1) & mask;
        }
    }

    /// Prefetches for key `k` of a batch the slot of the key `2 AHEAD` on and the text
    /// of the key `AHEAD` on (its slot is in cache by then).
    fn prefetch_ahead(&self, keys: &[(u32, &str)], tags: &[u32], k: usize) {
        let table = |k: usize| Some((self.tables.get(keys.get(k)?.0 as usize)?, tags[k]));
        if let Some((t, tag)) = table(k + 2 * AHEAD).filter(|(t, _)| t.bits > 0) {
            prefetch(t.slots.get(t.home(tag)));
        }
        let Some((t, tag)) = table(k + AHEAD).filter(|(t, _)| t.bits > 0) else {
            return;
        };
        // The first slot with the tag: almost always the home slot.
        let mask = t.slots.len() - 1;
        let home = t.home(tag);
        let found = (0..4)
            .map(|j| t.slots[(home + j) & mask])
            .find(|s| s.index == 0 || s.tag == tag);
        if let Some(slot) = found.filter(|s| s.index != 0) {
            // The first and the last byte: a text may cross a cache line.
            let bytes = self.text.as_bytes();
            prefetch(bytes.get(slot.start()));
            prefetch(bytes.get(slot.start() + (slot.place >> LEN_SHIFT) as usize));
        }
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
        // Room for every key of the batch in its group's table: no table grows in the
        // loop below.
        let mut per_group = vec![0usize; self.tables.len()];
        for &(group, _) in keys {
            let g = group as usize;
            if g >= per_group.len() {
                per_group.resize(g + 1, 0);
                self.tables.resize_with(g + 1, Table::default);
            }
            per_group[g] += 1;
        }
        for (table, more) in self.tables.iter_mut().zip(per_group) {
            table.reserve(more);
        }
        let mut out = Vec::with_capacity(keys.len());
        for (k, (&(group, text), &tag)) in keys.iter().zip(&tags).enumerate() {
            self.prefetch_ahead(keys, &tags, k);
            let table = &self.tables[group as usize];
            match self.probe(table, tag, text) {
                Ok(pos) => out.push(table.slots[pos].index - 1),
                Err(pos) => {
                    let i = self.items.len() as u32;
                    let start = self.text.len();
                    assert!(start < 1 << LEN_SHIFT, "more than 1 TiB of interned text");
                    self.items.push(Item {
                        start,
                        len: text.len() as u32,
                        group,
                    });
                    self.text.push_str(text);
                    let table = &mut self.tables[group as usize];
                    table.slots[pos] = Slot {
                        tag,
                        index: i + 1,
                        place: (text.len() as u64).min(LONG) << LEN_SHIFT | start as u64,
                    };
                    table.len += 1;
                    out.push(i);
                }
            }
        }
        out
    }

    /// The index of each key, `u32::MAX` for keys never interned.
    pub fn find_all(&self, keys: &[(u32, &str)]) -> Vec<u32> {
        let tags = tags(keys);
        keys.iter()
            .zip(&tags)
            .enumerate()
            .map(|(k, (&(group, text), &tag))| {
                self.prefetch_ahead(keys, &tags, k);
                let table = self.tables.get(group as usize).filter(|t| t.bits > 0);
                match table.map(|t| (t, self.probe(t, tag, text))) {
                    Some((t, Ok(pos))) => t.slots[pos].index - 1,
                    _ => u32::MAX,
                }
            })
            .collect()
    }

    /// The index of `(group, text)` if it was interned.
    pub fn find(&self, group: u32, text: &str) -> Option<u32> {
        Some(self.find_all(&[(group, text)])[0]).filter(|&i| i != u32::MAX)
    }

    /// Drops the lookup tables (lookups are over; the texts stay).
    pub fn freeze(&mut self) {
        self.tables = Vec::new();
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
