//! Interned ids: millions of `(group, text)` keys (a platform scope and an account id, an
//! identifier type and its value) mapped to dense `u32` indices. One text arena and one
//! hash table of indices: no allocation per id, and the texts of neighbouring indices
//! sit next to each other in memory.

use std::hash::BuildHasher;

use foldhash::fast::FixedState;
use hashbrown::hash_table::{Entry, HashTable};

/// Fixed seed: the same key hashes the same way in every run (the answer never depends
/// on it, but profiles and memory use are reproducible).
const HASH: FixedState = FixedState::with_seed(0x9e37_79b9_7f4a_7c15);

/// The hash the interner and the evidence index use.
pub fn hash_of<T: std::hash::Hash>(value: T) -> u64 {
    HASH.hash_one(value)
}

/// Where an item's text is, and its group: one 16-byte record, so a lookup that hits
/// reads one record and the text.
#[derive(Debug, Clone, Copy)]
struct Item {
    start: usize,
    len: u32,
    group: u32,
}

/// Dense indices for `(group, text)` keys.
#[derive(Debug, Default)]
pub struct Interner {
    text: String,
    items: Vec<Item>,
    hashes: Vec<u64>,
    table: HashTable<u32>,
}

fn slice(text: &str, item: Item) -> &str {
    &text[item.start..item.start + item.len as usize]
}

impl Interner {
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// The text of item `i`.
    pub fn text(&self, i: u32) -> &str {
        slice(&self.text, self.items[i as usize])
    }

    /// The group of item `i`.
    pub fn group(&self, i: u32) -> u32 {
        self.items[i as usize].group
    }

    /// The index of `(group, text)`, and whether it was new.
    pub fn intern(&mut self, group: u32, text: &str) -> (u32, bool) {
        let hash = hash_of((group, text));
        let Self {
            text: arena,
            items,
            hashes,
            table,
        } = self;
        let same = |item: Item| {
            item.group == group && item.len as usize == text.len() && slice(arena, item) == text
        };
        let entry = table.entry(hash, |&i| same(items[i as usize]), |&i| hashes[i as usize]);
        match entry {
            Entry::Occupied(e) => (*e.get(), false),
            Entry::Vacant(v) => {
                let i = items.len() as u32;
                items.push(Item {
                    start: arena.len(),
                    len: text.len() as u32,
                    group,
                });
                arena.push_str(text);
                hashes.push(hash);
                v.insert(i);
                (i, true)
            }
        }
    }

    /// The index of `(group, text)` if it was interned.
    pub fn find(&self, group: u32, text: &str) -> Option<u32> {
        self.table
            .find(hash_of((group, text)), |&i| {
                self.group(i) == group && self.text(i) == text
            })
            .copied()
    }

    /// Drops the hash table (lookups are over; the texts stay).
    pub fn freeze(&mut self) {
        self.table = HashTable::new();
        self.hashes = Vec::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interns_by_group_and_text() {
        let mut i = Interner::default();
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
}
