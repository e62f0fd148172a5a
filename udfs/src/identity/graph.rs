//! The identity graph: interned accounts and identifiers, guarded union-find in a
//! canonical order, stable person ids. Pure Rust, no DataFusion: the table functions feed
//! it rows and read its answers.

use datafusion::common::HashMap;
use std::fmt::Write;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::IdentityRules;

/// Identifier types, in link priority order (lower first on equal timestamps).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IdType {
    /// WeChat unionid / Douyin union_id, scoped by platform; unique per person and platform.
    UnionId = 0,
    /// Keyed hash of a phone (events or `members`); capped per person.
    Phone = 1,
    /// `members.member_id`.
    Member = 2,
    /// Device fingerprint: weak, never bridges accounts of one platform scope.
    Device = 3,
}

impl IdType {
    pub fn name(self) -> &'static str {
        match self {
            Self::UnionId => "union_id",
            Self::Phone => "phone_key",
            Self::Member => "member_id",
            Self::Device => "device_id",
        }
    }
}

/// What became of one piece of evidence (an account seen with an identifier).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkStatus {
    /// Joined the account to the identifier's person.
    Linked,
    /// The value matches a blocked pattern: ignored.
    Blocked,
    /// The value is shared by more accounts than the hub threshold: quarantined.
    Hub,
    /// A device seen on two accounts of one platform scope: attached, never bridges.
    SharedDevice,
    /// The merge would put two union ids of one platform into one person.
    UniqueUnionId,
    /// The merge would give one person more phones than allowed.
    MaxPhones,
}

impl LinkStatus {
    pub fn name(self) -> &'static str {
        match self {
            Self::Linked => "linked",
            Self::Blocked => "blocked_value",
            Self::Hub => "hub_quarantined",
            Self::SharedDevice => "shared_device",
            Self::UniqueUnionId => "unique_union_id",
            Self::MaxPhones => "max_phones",
        }
    }

    /// Every status, in report order.
    pub const ALL: [LinkStatus; 6] = [
        Self::Linked,
        Self::Blocked,
        Self::Hub,
        Self::SharedDevice,
        Self::UniqueUnionId,
        Self::MaxPhones,
    ];
}

/// A platform account.
#[derive(Debug, Clone)]
pub struct Account {
    pub platform: u32,
    pub scope: u32,
    pub id: Arc<str>,
    pub first_seen: i64,
    pub last_seen: i64,
}

/// An identifier value.
#[derive(Debug, Clone)]
pub struct Identifier {
    pub kind: IdType,
    /// Platform for union ids, 0 otherwise.
    pub scope: u32,
    pub value: Arc<str>,
}

/// One piece of evidence: `account` was seen with `identifier`, first at `ts`.
#[derive(Debug, Clone, Copy)]
pub struct Evidence {
    pub account: u32,
    pub identifier: u32,
    pub ts: i64,
}

/// Collects accounts and evidence (in any order: the result does not depend on it).
#[derive(Debug, Default)]
pub struct GraphBuilder {
    strings: Vec<Box<str>>,
    string_ids: HashMap<Box<str>, u32>,
    accounts: Vec<Account>,
    account_ids: HashMap<(u32, u32), HashMap<Arc<str>, u32>>,
    identifiers: Vec<Identifier>,
    identifier_ids: HashMap<(IdType, u32), HashMap<Arc<str>, u32>>,
    evidence: HashMap<(u32, u32), i64>,
}

impl GraphBuilder {
    fn string(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.string_ids.get(s) {
            return id;
        }
        let id = self.strings.len() as u32;
        self.strings.push(s.into());
        self.string_ids.insert(s.into(), id);
        id
    }

    /// Records that the account was active between `first` and `last` (epoch ms).
    pub fn account(&mut self, platform: &str, scope: &str, id: &str, first: i64, last: i64) -> u32 {
        let platform = self.string(platform);
        let scope = self.string(scope);
        let ids = self.account_ids.entry((platform, scope)).or_default();
        if let Some(&a) = ids.get(id) {
            let acc = &mut self.accounts[a as usize];
            acc.first_seen = acc.first_seen.min(first);
            acc.last_seen = acc.last_seen.max(last);
            return a;
        }
        let a = self.accounts.len() as u32;
        let shared = Arc::<str>::from(id);
        ids.insert(Arc::clone(&shared), a);
        self.accounts.push(Account {
            platform,
            scope,
            id: shared,
            first_seen: first,
            last_seen: last,
        });
        a
    }

    /// The account, if it was recorded with [`Self::account`].
    pub fn existing_account(&self, platform: &str, scope: &str, id: &str) -> Option<u32> {
        let platform = *self.string_ids.get(platform)?;
        let scope = *self.string_ids.get(scope)?;
        self.account_ids.get(&(platform, scope))?.get(id).copied()
    }

    /// Records that `account` carried identifier `value` of `kind`, first at `ts`.
    /// Union ids are scoped by the account's platform.
    pub fn evidence(&mut self, account: u32, kind: IdType, value: &str, ts: i64) {
        let scope = match kind {
            IdType::UnionId => self.accounts[account as usize].platform,
            _ => u32::MAX,
        };
        let values = self.identifier_ids.entry((kind, scope)).or_default();
        let identifier = match values.get(value) {
            Some(&i) => i,
            None => {
                let i = self.identifiers.len() as u32;
                let shared = Arc::<str>::from(value);
                values.insert(Arc::clone(&shared), i);
                self.identifiers.push(Identifier {
                    kind,
                    scope,
                    value: shared,
                });
                i
            }
        };
        self.evidence
            .entry((account, identifier))
            .and_modify(|t| *t = (*t).min(ts))
            .or_insert(ts);
    }

    /// Runs the guarded union-find and names the persons.
    pub fn resolve(self, rules: &IdentityRules) -> Graph {
        Graph::resolve(self, rules)
    }
}

/// Per-component facts the guards need.
#[derive(Debug, Clone, Default)]
struct ComponentFacts {
    /// (platform, union id) pairs in the component.
    unions: Vec<(u32, u32)>,
    phones: u32,
}

/// Union-find with union by size and path halving.
#[derive(Debug)]
struct UnionFind {
    parent: Vec<u32>,
    size: Vec<u32>,
}

impl UnionFind {
    fn new(n: usize) -> Self {
        Self {
            parent: (0..n as u32).collect(),
            size: vec![1; n],
        }
    }

    fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let grand = self.parent[self.parent[x as usize] as usize];
            self.parent[x as usize] = grand;
            x = grand;
        }
        x
    }

    /// Joins two roots; returns (new root, absorbed root).
    fn union_roots(&mut self, a: u32, b: u32) -> (u32, u32) {
        let (big, small) = if self.size[a as usize] >= self.size[b as usize] {
            (a, b)
        } else {
            (b, a)
        };
        self.parent[small as usize] = big;
        self.size[big as usize] += self.size[small as usize];
        (big, small)
    }
}

/// A previous mapping: account -> (person_id, first_seen).
#[derive(Debug, Default)]
pub struct PreviousMap {
    rows: Vec<(String, String, String, String, i64)>,
}

impl PreviousMap {
    pub fn push(&mut self, platform: &str, scope: &str, id: &str, person: &str, first: i64) {
        self.rows.push((
            platform.into(),
            scope.into(),
            id.into(),
            person.into(),
            first,
        ));
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// The resolved graph.
#[derive(Debug)]
pub struct Graph {
    strings: Vec<Box<str>>,
    pub accounts: Vec<Account>,
    /// Accounts in key order `(platform, scope, account_id)`.
    pub account_order: Vec<u32>,
    pub identifiers: Vec<Identifier>,
    /// Evidence in canonical order, with what became of each.
    pub evidence: Vec<(Evidence, LinkStatus)>,
    /// Distinct accounts per identifier.
    pub degree: Vec<u32>,
    /// Person (index into `persons`) of each account.
    pub person_of: Vec<u32>,
    /// Person ids, one per component with accounts.
    pub persons: Vec<String>,
    /// Accounts of each person, canonical order; the first is the anchor.
    pub members: Vec<Vec<u32>>,
    /// Person of the component each identifier ended in (`None`: no account).
    pub identifier_person: Vec<Option<u32>>,
    /// Older person ids that a merge retired: (retired, surviving).
    pub redirects: Vec<(String, String)>,
}

/// `p` + 16 hex digits of SHA-256 over the anchor account's key.
pub fn person_id_of(platform: &str, scope: &str, id: &str) -> String {
    let mut h = Sha256::new();
    for part in [platform, scope, id] {
        h.update(part.as_bytes());
        h.update([0x1f]);
    }
    let digest = h.finalize();
    let mut s = String::with_capacity(17);
    s.push('p');
    for b in &digest[..8] {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// The rank of each of `n` items in the order of their keys `(group, text)`: `group` is
/// one of a few values (a platform and scope, say), `text` one of millions of ids.
/// Sorting compares a group ordinal and the text's first 8 bytes, held in the sorted
/// element itself, and reads whole strings only when those tie: the same order as
/// comparing the keys, without chasing a pointer per comparison.
fn canonical_ranks<'a, G: Ord + Copy + 'a>(
    n: usize,
    key: impl Fn(usize) -> (G, &'a str),
) -> Vec<u32> {
    let mut groups: Vec<G> = (0..n).map(|i| key(i).0).collect();
    groups.sort_unstable();
    groups.dedup();
    let group_rank = |g: &G| groups.binary_search(g).unwrap_or(0) as u32;
    let prefix = |text: &str| {
        let mut bytes = [0u8; 8];
        let len = text.len().min(8);
        bytes[..len].copy_from_slice(&text.as_bytes()[..len]);
        u64::from_be_bytes(bytes)
    };
    let mut order: Vec<(u32, u64, u32)> = (0..n)
        .map(|i| {
            let (g, text) = key(i);
            (group_rank(&g), prefix(text), i as u32)
        })
        .collect();
    order.sort_unstable_by(|x, y| {
        (x.0, x.1)
            .cmp(&(y.0, y.1))
            .then_with(|| key(x.2 as usize).1.cmp(key(y.2 as usize).1))
    });
    let mut rank = vec![0u32; n];
    for (r, &(_, _, i)) in order.iter().enumerate() {
        rank[i as usize] = r as u32;
    }
    rank
}

fn account_key<'a>(strings: &'a [Box<str>], a: &'a Account) -> (&'a str, &'a str, &'a str) {
    (
        &strings[a.platform as usize],
        &strings[a.scope as usize],
        &a.id,
    )
}

fn identifier_key<'a>(strings: &'a [Box<str>], i: &'a Identifier) -> (IdType, &'a str, &'a str) {
    let scope = if i.scope == u32::MAX {
        ""
    } else {
        &strings[i.scope as usize]
    };
    (i.kind, scope, &i.value)
}

impl Graph {
    pub fn str(&self, id: u32) -> &str {
        &self.strings[id as usize]
    }

    /// `(platform, scope, account_id)` of an account.
    pub fn account_key(&self, a: u32) -> (&str, &str, &str) {
        let acc = &self.accounts[a as usize];
        (self.str(acc.platform), self.str(acc.scope), &acc.id)
    }

    fn resolve(b: GraphBuilder, rules: &IdentityRules) -> Graph {
        let GraphBuilder {
            strings,
            accounts,
            identifiers,
            evidence: evidence_map,
            ..
        } = b;
        // Canonical ranks: the answer never depends on input order.
        let account_rank = canonical_ranks(accounts.len(), |a| {
            let acc = &accounts[a];
            let key = account_key(&strings, acc);
            ((key.0, key.1), &*acc.id)
        });
        let ident_rank = canonical_ranks(identifiers.len(), |i| {
            let key = identifier_key(&strings, &identifiers[i]);
            ((key.0, key.1), key.2)
        });

        let mut evidence: Vec<Evidence> = evidence_map
            .into_iter()
            .map(|((account, identifier), ts)| Evidence {
                account,
                identifier,
                ts,
            })
            .collect();
        evidence.sort_unstable_by_key(|e| {
            (
                e.ts,
                identifiers[e.identifier as usize].kind,
                ident_rank[e.identifier as usize],
                account_rank[e.account as usize],
            )
        });

        // Per-identifier facts: degree, blocked, shared device.
        let mut degree = vec![0u32; identifiers.len()];
        for e in &evidence {
            degree[e.identifier as usize] += 1;
        }
        let blocked: Vec<bool> = identifiers
            .iter()
            .map(|i| rules.is_blocked(&i.value))
            .collect();
        let mut shared = vec![false; identifiers.len()];
        if rules.shared_device_rule {
            let mut seen: HashMap<(u32, u32, u32), u32> = HashMap::new();
            for e in &evidence {
                let ident = &identifiers[e.identifier as usize];
                if ident.kind != IdType::Device {
                    continue;
                }
                let acc = &accounts[e.account as usize];
                let slot = seen
                    .entry((e.identifier, acc.platform, acc.scope))
                    .or_insert(e.account);
                if *slot != e.account {
                    shared[e.identifier as usize] = true;
                }
            }
        }

        // Guarded union-find over accounts (0..A) and identifiers (A..).
        let n_acc = accounts.len();
        let mut uf = UnionFind::new(n_acc + identifiers.len());
        let mut facts: HashMap<u32, ComponentFacts> = HashMap::new();
        for (i, ident) in identifiers.iter().enumerate() {
            let node = (n_acc + i) as u32;
            match ident.kind {
                IdType::UnionId => {
                    facts
                        .entry(node)
                        .or_default()
                        .unions
                        .push((ident.scope, i as u32));
                }
                IdType::Phone => facts.entry(node).or_default().phones = 1,
                _ => {}
            }
        }
        let mut statuses = Vec::with_capacity(evidence.len());
        for e in &evidence {
            let i = e.identifier as usize;
            let status = if blocked[i] {
                LinkStatus::Blocked
            } else if degree[i] as usize > rules.hub_threshold {
                LinkStatus::Hub
            } else if shared[i] {
                LinkStatus::SharedDevice
            } else {
                let ra = uf.find(e.account);
                let rb = uf.find((n_acc + i) as u32);
                if ra == rb {
                    LinkStatus::Linked
                } else {
                    let fa = facts.get(&ra);
                    let fb = facts.get(&rb);
                    let conflict = match (fa, fb) {
                        (Some(a), Some(b)) => {
                            if a.unions
                                .iter()
                                .any(|&(p, u)| b.unions.iter().any(|&(q, v)| p == q && u != v))
                            {
                                Some(LinkStatus::UniqueUnionId)
                            } else if (a.phones + b.phones) as usize > rules.max_phones {
                                Some(LinkStatus::MaxPhones)
                            } else {
                                None
                            }
                        }
                        _ => None,
                    };
                    match conflict {
                        Some(rule) => rule,
                        None => {
                            let (root, gone) = uf.union_roots(ra, rb);
                            if let Some(g) = facts.remove(&gone) {
                                let f = facts.entry(root).or_default();
                                f.phones += g.phones;
                                for u in g.unions {
                                    if !f.unions.contains(&u) {
                                        f.unions.push(u);
                                    }
                                }
                            }
                            LinkStatus::Linked
                        }
                    }
                }
            };
            statuses.push(status);
        }

        // Components of accounts, anchors first (earliest seen, ties by key).
        let mut by_anchor: Vec<u32> = (0..n_acc as u32).collect();
        by_anchor
            .sort_unstable_by_key(|&a| (accounts[a as usize].first_seen, account_rank[a as usize]));
        let mut person_of_root: HashMap<u32, u32> = HashMap::new();
        let mut members: Vec<Vec<u32>> = Vec::new();
        let mut person_of = vec![0u32; n_acc];
        for &a in &by_anchor {
            let root = uf.find(a);
            let p = *person_of_root.entry(root).or_insert_with(|| {
                members.push(Vec::new());
                (members.len() - 1) as u32
            });
            members[p as usize].push(a);
            person_of[a as usize] = p;
        }
        let identifier_person = (0..identifiers.len())
            .map(|i| person_of_root.get(&uf.find((n_acc + i) as u32)).copied())
            .collect();
        let persons = members
            .iter()
            .map(|m| {
                let acc = &accounts[m[0] as usize];
                let (p, s, id) = account_key(&strings, acc);
                person_id_of(p, s, id)
            })
            .collect();
        let mut account_order = vec![0u32; n_acc];
        for (a, &r) in account_rank.iter().enumerate() {
            account_order[r as usize] = a as u32;
        }
        Graph {
            strings,
            accounts,
            account_order,
            identifiers,
            evidence: evidence.into_iter().zip(statuses).collect(),
            degree,
            person_of,
            persons,
            members,
            identifier_person,
            redirects: Vec::new(),
        }
    }

    /// Carries person ids over from `previous`: a person containing an old person's
    /// anchor account keeps that old id (the oldest one when several merged); the other
    /// old ids are retired into [`Self::redirects`].
    pub fn carry_over(&mut self, previous: &PreviousMap) {
        if previous.is_empty() {
            return;
        }
        // Old anchor of each old id: earliest first_seen, ties by key.
        let mut anchors: HashMap<&str, (i64, (&str, &str, &str))> = HashMap::new();
        for (p, s, a, person, first) in &previous.rows {
            let cand = (*first, (p.as_str(), s.as_str(), a.as_str()));
            anchors
                .entry(person.as_str())
                .and_modify(|cur| {
                    if cand < *cur {
                        *cur = cand;
                    }
                })
                .or_insert(cand);
        }
        // Which new person holds each old anchor.
        let index: HashMap<(&str, &str, &str), u32> = (0..self.accounts.len() as u32)
            .map(|a| (self.account_key(a), a))
            .collect();
        let mut claims: HashMap<u32, Vec<(i64, &str)>> = HashMap::new();
        for (person, (first, key)) in &anchors {
            if let Some(&acc) = index.get(key) {
                claims
                    .entry(self.person_of[acc as usize])
                    .or_default()
                    .push((*first, person));
            }
        }
        drop(index);
        let mut claims: Vec<(u32, Vec<(i64, &str)>)> = claims.into_iter().collect();
        claims.sort_unstable_by_key(|c| c.0);
        for (person, mut old) in claims {
            old.sort_unstable();
            let keep = old[0].1.to_string();
            for (_, retired) in &old[1..] {
                self.redirects.push((retired.to_string(), keep.clone()));
            }
            self.persons[person as usize] = keep;
        }
        self.redirects.sort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Row<'a> = (&'a str, &'a str, &'a str, i64, IdType, &'a str);

    fn build(rows: &[Row]) -> Graph {
        let mut b = GraphBuilder::default();
        for &(p, s, a, ts, kind, value) in rows {
            let acc = b.account(p, s, a, ts, ts);
            b.evidence(acc, kind, value, ts);
        }
        b.resolve(&IdentityRules::default())
    }

    fn person(g: &Graph, a: &str) -> String {
        let i = (0..g.accounts.len() as u32)
            .find(|&i| g.account_key(i).2 == a)
            .expect("account");
        g.persons[g.person_of[i as usize] as usize].clone()
    }

    const ROWS: [Row<'static>; 7] = [
        ("douyin", "app", "a1", 10, IdType::Device, "d1"),
        ("kuaishou", "ks", "a2", 20, IdType::Device, "d1"),
        ("taobao_live", "tb", "a3", 30, IdType::Phone, "k1"),
        ("douyin", "shop", "a4", 40, IdType::Phone, "k1"),
        ("douyin", "shop", "a4", 41, IdType::UnionId, "u1"),
        ("douyin", "app", "a1", 42, IdType::UnionId, "u1"),
        ("wechat_channels", "wx", "a5", 50, IdType::UnionId, "u1"),
    ];

    #[test]
    fn canonical_ranks_follow_the_key_order() {
        let keys: Vec<(u8, String)> = [
            (1, "abcdefgh2"),
            (0, "zz"),
            (1, "abcdefgh1"),
            (1, "ab"),
            (1, "ab\0"),
            (0, ""),
            (1, "abcdefgh"),
            (1, "b"),
        ]
        .iter()
        .map(|(g, t)| (*g, t.to_string()))
        .collect();
        let ranks = canonical_ranks(keys.len(), |i| (keys[i].0, keys[i].1.as_str()));
        let mut expected: Vec<usize> = (0..keys.len()).collect();
        expected.sort_by(|&a, &b| keys[a].cmp(&keys[b]));
        for (r, &i) in expected.iter().enumerate() {
            assert_eq!(ranks[i] as usize, r, "key {:?}", keys[i]);
        }
    }

    #[test]
    fn input_order_does_not_matter() {
        let forward = build(&ROWS);
        let mut reversed = ROWS;
        reversed.reverse();
        let backward = build(&reversed);
        for a in ["a1", "a2", "a3", "a4", "a5"] {
            assert_eq!(person(&forward, a), person(&backward, a), "{a}");
        }
        // a1-a2 by device, a3-a4 by phone, a4-a1 by Douyin union id; WeChat's u1 is
        // another identifier.
        assert_eq!(person(&forward, "a3"), person(&forward, "a1"));
        assert_ne!(person(&forward, "a5"), person(&forward, "a1"));
        // The anchor is the earliest account.
        assert_eq!(person(&forward, "a4"), person_id_of("douyin", "app", "a1"));
    }

    #[test]
    fn previous_ids_survive_merges_and_splits() {
        let mut g = build(&ROWS);
        let mut prev = PreviousMap::default();
        // Yesterday a1/a2 were person OLD1 and a3/a4 were OLD2 (younger).
        prev.push("douyin", "app", "a1", "OLD1", 10);
        prev.push("kuaishou", "ks", "a2", "OLD1", 20);
        prev.push("taobao_live", "tb", "a3", "OLD2", 30);
        prev.push("douyin", "shop", "a4", "OLD2", 40);
        prev.push("wechat_channels", "wx", "a5", "OLD5", 50);
        g.carry_over(&prev);
        assert_eq!(person(&g, "a3"), "OLD1");
        assert_eq!(person(&g, "a5"), "OLD5");
        assert_eq!(g.redirects, vec![("OLD2".to_string(), "OLD1".to_string())]);
    }
}
