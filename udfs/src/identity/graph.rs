//! The identity graph: interned accounts and identifiers, guarded union-find in a
//! canonical order, stable person ids. Pure Rust, no DataFusion: the table functions feed
//! it rows and read its answers.

use datafusion::common::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

use sha2::{Digest, Sha256};

use super::IdentityRules;
use super::evidence::{self, EvidenceList, Grouped};
use super::interner::{Interner, hash_of, prefetch};
use super::load::Batch;
use super::{order, parallel};

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
#[derive(Debug, Clone, Copy)]
pub struct Account {
    /// Platform and scope: indices of [`Graph::str`].
    pub platform: u32,
    pub scope: u32,
    pub first_seen: i64,
    pub last_seen: i64,
}

/// An identifier's type and, for union ids, its platform (`u32::MAX` otherwise); its
/// value is [`Graph::identifier_value`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Identifier {
    pub kind: IdType,
    pub scope: u32,
}

/// One piece of evidence: `account` was seen with `identifier`, first at `ts`.
#[derive(Debug, Clone, Copy)]
pub struct Evidence {
    pub account: u32,
    pub identifier: u32,
    pub ts: i64,
}

impl Evidence {
    pub fn new(account: u32, identifier: u32, ts: i64) -> Self {
        Self {
            account,
            identifier,
            ts,
        }
    }
}

/// The few distinct short strings (platforms, scopes), interned.
#[derive(Debug, Default)]
struct Names {
    strings: Vec<Box<str>>,
    ids: HashMap<Box<str>, u32>,
}

impl Names {
    fn id(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = self.strings.len() as u32;
        self.strings.push(s.into());
        self.ids.insert(s.into(), id);
        id
    }

    fn find(&self, s: &str) -> Option<u32> {
        self.ids.get(s).copied()
    }

    fn get(&self, id: u32) -> &str {
        &self.strings[id as usize]
    }
}

/// The value of a skipped row, and of a missing account or identifier.
pub const NONE: u32 = u32::MAX;

/// Accounts interned per platform scope, with when they were active.
#[derive(Debug, Default)]
pub(super) struct AccountTable {
    ids: Interner,
    list: Vec<Account>,
}

impl AccountTable {
    /// Records account `id` of scope group `group` (platform and scope names `key`),
    /// active between `first` and `last`.
    fn record(&mut self, group: u32, key: (u32, u32), id: &str, first: i64, last: i64) -> u32 {
        let (a, _) = self.ids.intern(group, id);
        self.seen(a, key, first, last);
        a
    }

    /// Account `a`, just interned (new when it is the next index), was active between
    /// `first` and `last`.
    fn seen(&mut self, a: u32, (platform, scope): (u32, u32), first: i64, last: i64) {
        if a as usize == self.list.len() {
            self.list.push(Account {
                platform,
                scope,
                first_seen: first,
                last_seen: last,
            });
        } else {
            let acc = &mut self.list[a as usize];
            acc.first_seen = acc.first_seen.min(first);
            acc.last_seen = acc.last_seen.max(last);
        }
    }

    /// The account of each row of `batch` (`NONE`: skipped or, for link rows, unknown)
    /// and the time its evidence counts from.
    pub(super) fn add_batch(
        &mut self,
        batch: &Batch,
        scopes: &[(u32, u32)],
    ) -> (Vec<u32>, Vec<i64>) {
        let n = batch.groups.len();
        let times: Vec<Option<i64>> = (0..n).map(|row| batch.ts.get(row)).collect();
        let rows: Vec<usize> = (0..n).filter(|&r| batch.groups[r] != NONE).collect();
        let keys: Vec<(u32, &str)> = rows
            .iter()
            .map(|&r| (batch.groups[r], batch.account.get(r).unwrap_or_default()))
            .collect();
        let mut accounts = vec![NONE; n];
        if batch.new_accounts {
            let ids = self.ids.intern_all(&keys);
            for (k, (&row, &a)) in rows.iter().zip(&ids).enumerate() {
                prefetch(ids.get(k + 8).and_then(|&a| self.list.get(a as usize)));
                let ts = times[row];
                let (first, last) = (ts.unwrap_or(i64::MAX), ts.unwrap_or(i64::MIN));
                self.seen(a, scopes[keys[k].0 as usize], first, last);
                accounts[row] = a;
            }
        } else {
            for (&row, a) in rows.iter().zip(self.ids.find_all(&keys)) {
                accounts[row] = a;
            }
        }
        let times = times.into_iter().map(|t| t.unwrap_or(i64::MAX)).collect();
        (accounts, times)
    }
}

/// A batch as indices: per row its account and time, per row and identifier column the
/// identifier (`NONE`: no value).
#[derive(Debug)]
pub(super) struct Interned {
    pub accounts: Vec<u32>,
    pub times: Vec<i64>,
    pub identifiers: Vec<u32>,
    pub width: usize,
}

/// The identifier of each row and identifier column of `batch` (row-major; `NONE`: no
/// value, or no account: `accounts` is the batch's [`AccountTable::add_batch`]), interned
/// into `values`. `groups` is each column's identifier group, `NONE` for union ids, whose
/// group is their row's platform's (`union_groups`, per account group).
pub(super) fn intern_identifiers(
    values: &mut Interner,
    batch: &Batch,
    accounts: &[u32],
    groups: &[u32],
    union_groups: &[u32],
) -> Vec<u32> {
    let width = batch.identifiers.len();
    let mut ids = vec![NONE; batch.groups.len() * width];
    let (mut cells, mut keys) = (Vec::new(), Vec::new());
    for (row, (&g, &a)) in batch.groups.iter().zip(accounts).enumerate() {
        if a == NONE {
            continue;
        }
        for (k, (_, column)) in batch.identifiers.iter().enumerate() {
            if let Some(value) = column.get(row) {
                let group = match groups[k] {
                    NONE => union_groups[g as usize],
                    group => group,
                };
                cells.push(row * width + k);
                keys.push((group, value));
            }
        }
    }
    for (cell, id) in cells.into_iter().zip(values.intern_all(&keys)) {
        ids[cell] = id;
    }
    ids
}

/// The large tables of a [`GraphBuilder`]: the accounts are filled by one thread while
/// loading, the values and the evidence by another ([`super::load`]).
#[derive(Debug, Default)]
pub(super) struct Tables {
    pub accounts: AccountTable,
    pub values: Interner,
    pub evidence: EvidenceList,
}

/// Collects accounts and evidence (in any order: the result does not depend on it).
///
/// Accounts are interned per platform scope, identifier values per [`Identifier`] group;
/// evidence is kept as loaded, repeats included (see [`super::evidence`]).
/// Batches of rows are added through a [`super::load::Loader`].
#[derive(Debug, Default)]
pub struct GraphBuilder {
    names: Names,
    /// Account groups: `(platform, scope)` name ids.
    pub(super) scopes: Vec<(u32, u32)>,
    scope_ids: HashMap<(u32, u32), u32>,
    /// Per account group: the identifier group of its platform's union ids.
    pub(super) union_groups: Vec<u32>,
    /// Identifier groups.
    kinds: Vec<Identifier>,
    kind_ids: HashMap<Identifier, u32>,
    pub(super) tables: Tables,
    pub(super) threads: usize,
}

impl GraphBuilder {
    /// A builder that uses up to `threads` threads (the answer does not depend on it).
    pub fn new(threads: usize) -> Self {
        Self {
            threads: threads.max(1),
            ..Self::default()
        }
    }

    /// The group of the accounts of one platform scope, for [`Self::account`].
    pub fn scope(&mut self, platform: &str, scope: &str) -> u32 {
        let key = (self.names.id(platform), self.names.id(scope));
        if let Some(&g) = self.scope_ids.get(&key) {
            return g;
        }
        let g = self.scopes.len() as u32;
        self.scopes.push(key);
        self.scope_ids.insert(key, g);
        let union_ids = self.kind_group(IdType::UnionId, key.0);
        self.union_groups.push(union_ids);
        g
    }

    /// The group of identifiers of `kind`; `scope` is the platform for union ids.
    pub(super) fn kind_group(&mut self, kind: IdType, scope: u32) -> u32 {
        let key = Identifier { kind, scope };
        if let Some(&g) = self.kind_ids.get(&key) {
            return g;
        }
        let g = self.kinds.len() as u32;
        self.kinds.push(key);
        self.kind_ids.insert(key, g);
        g
    }

    /// Records that account `id` of a [`Self::scope`] was active between `first` and
    /// `last` (epoch ms).
    pub fn account(&mut self, scope: u32, id: &str, first: i64, last: i64) -> u32 {
        let key = self.scopes[scope as usize];
        self.tables.accounts.record(scope, key, id, first, last)
    }

    /// The group of a platform scope, if an account of it was recorded.
    pub fn find_scope(&self, platform: &str, scope: &str) -> Option<u32> {
        let key = (self.names.find(platform)?, self.names.find(scope)?);
        self.scope_ids.get(&key).copied()
    }

    /// Records that `account` carried identifier `value` of `kind`, first at `ts`.
    /// Union ids are scoped by the account's platform.
    pub fn evidence(&mut self, account: u32, kind: IdType, value: &str, ts: i64) {
        let group = match kind {
            IdType::UnionId => self.union_groups[self.tables.accounts.ids.group(account) as usize],
            _ => self.kind_group(kind, NONE),
        };
        let (identifier, _) = self.tables.values.intern(group, value);
        self.tables.evidence.add(account, identifier, ts);
    }

    /// Runs the guarded union-find and names the persons.
    pub fn resolve(self, rules: &IdentityRules) -> Graph {
        Graph::resolve(self, rules)
    }
}

/// One node of the union-find: its parent and, at a root, what the component holds.
#[derive(Debug, Clone, Copy)]
struct Node {
    parent: u32,
    size: u32,
    /// The component's union ids: a list threaded through `Components::union_next`
    /// (short: the guards keep one union id per platform in a component).
    union_head: u32,
    /// The platforms of the component's union ids, one bit per platform name id modulo
    /// 16: components whose masks do not meet hold no platform twice, without walking
    /// their lists.
    union_platforms: u16,
    /// The component's number of phones (`max_phones` is below `u16::MAX`).
    phones: u16,
}

/// Union-find over accounts (`0..A`) and identifiers (`A..`), union by size and path
/// halving, with what the merge guards need to know of each component. One 16-byte node
/// per item (four to a cache line), so a find and a guard check read one line per root.
struct Components {
    nodes: Vec<Node>,
    union_next: Vec<u32>,
}

impl Components {
    /// Every item in a component of its own, the nodes written on up to `threads`
    /// threads.
    fn new(n_acc: usize, identifiers: &[Identifier], threads: usize) -> Self {
        let nodes = parallel::map(threads, n_acc + identifiers.len(), |x| {
            let mut node = Node {
                parent: x as u32,
                size: 1,
                union_head: NONE,
                union_platforms: 0,
                phones: 0,
            };
            if let Some(i) = x.checked_sub(n_acc) {
                let ident = identifiers[i];
                match ident.kind {
                    IdType::UnionId => {
                        node.union_head = i as u32;
                        node.union_platforms = 1 << (ident.scope % 16);
                    }
                    IdType::Phone => node.phones = 1,
                    _ => {}
                }
            }
            node
        });
        Self {
            nodes,
            union_next: vec![NONE; identifiers.len()],
        }
    }

    fn find(&mut self, mut x: u32) -> u32 {
        loop {
            let parent = self.nodes[x as usize].parent;
            if parent == x {
                return x;
            }
            let grand = self.nodes[parent as usize].parent;
            self.nodes[x as usize].parent = grand;
            x = grand;
        }
    }

    /// The root of `x`, without shortening paths (for reads from several threads).
    fn root(&self, mut x: u32) -> u32 {
        loop {
            let parent = self.nodes[x as usize].parent;
            if parent == x {
                return x;
            }
            x = parent;
        }
    }

    fn unions(&self, root: u32) -> impl Iterator<Item = u32> + '_ {
        std::iter::successors(
            Some(self.nodes[root as usize].union_head).filter(|&u| u != NONE),
            |&u| Some(self.union_next[u as usize]).filter(|&u| u != NONE),
        )
    }

    /// The guard a merge of the components of roots `a` and `b` would break, if any.
    fn conflict(
        &self,
        a: u32,
        b: u32,
        identifiers: &[Identifier],
        max_phones: usize,
    ) -> Option<LinkStatus> {
        // Union ids of different components are different ids: one platform twice is a
        // conflict.
        let (na, nb) = (&self.nodes[a as usize], &self.nodes[b as usize]);
        let clash = na.union_platforms & nb.union_platforms != 0
            && self.unions(a).any(|u| {
                self.unions(b)
                    .any(|v| identifiers[u as usize].scope == identifiers[v as usize].scope)
            });
        let phones = u32::from(na.phones) + u32::from(nb.phones);
        if clash {
            Some(LinkStatus::UniqueUnionId)
        } else if phones as usize > max_phones {
            Some(LinkStatus::MaxPhones)
        } else {
            None
        }
    }

    /// Joins the components of roots `a` and `b`.
    fn union(&mut self, a: u32, b: u32) {
        let (na, nb) = (self.nodes[a as usize], self.nodes[b as usize]);
        let (root, gone, r, g) = if na.size >= nb.size {
            (a, b, na, nb)
        } else {
            (b, a, nb, na)
        };
        self.nodes[gone as usize].parent = root;
        let mut merged = Node {
            size: r.size + g.size,
            phones: r.phones.saturating_add(g.phones),
            union_platforms: r.union_platforms | g.union_platforms,
            ..r
        };
        if g.union_head != NONE {
            // The gone component's list goes first, ahead of the root's.
            let mut tail = g.union_head;
            while self.union_next[tail as usize] != NONE {
                tail = self.union_next[tail as usize];
            }
            self.union_next[tail as usize] = r.union_head;
            merged.union_head = g.union_head;
        }
        self.nodes[root as usize] = merged;
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
    names: Names,
    scope_ids: HashMap<(u32, u32), u32>,
    account_ids: Interner,
    identifier_values: Interner,
    pub accounts: Vec<Account>,
    pub identifiers: Vec<Identifier>,
    /// Evidence in canonical order.
    pub evidence: Vec<Evidence>,
    /// What became of each piece of evidence.
    pub statuses: Vec<LinkStatus>,
    /// Distinct accounts per identifier.
    pub degree: Vec<u32>,
    /// Person (index into `persons`) of each account.
    pub person_of: Vec<u32>,
    /// Person ids, one per component with accounts.
    pub persons: PersonIds,
    /// Accounts of all persons, person after person (see [`Self::members`]).
    member_list: Vec<u32>,
    member_starts: Vec<u32>,
    /// Person of the component each identifier ended in (`None`: no account).
    pub identifier_person: Vec<Option<u32>>,
    /// Older person ids that a merge retired: (retired, surviving).
    pub redirects: Vec<(String, String)>,
    /// Threads the graph may use to render its answers.
    pub threads: usize,
}

/// `p` + 16 hex digits of SHA-256 over the anchor account's key.
pub fn person_id_of(platform: &str, scope: &str, id: &str) -> String {
    let mut s = String::with_capacity(17);
    push_person_id(&mut s, platform, scope, id);
    s
}

/// Appends [`person_id_of`] to `out`.
fn push_person_id(out: &mut String, platform: &str, scope: &str, id: &str) {
    push_person_digest(out, person_digest(platform, scope, id));
}

/// The first 8 bytes of SHA-256 over an account's key, the part a person id shows.
fn person_digest(platform: &str, scope: &str, id: &str) -> u64 {
    let mut h = Sha256::new();
    for part in [platform, scope, id] {
        h.update(part.as_bytes());
        h.update([0x1f]);
    }
    let digest = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first)
}

/// Persons numbered in anchor order.
struct Numbered {
    /// Per union-find root: its person (`NONE`: a root without accounts).
    person_of_root: Vec<u32>,
    /// Per account: its person.
    person_of: Vec<u32>,
    /// Per person: its anchor account, and where that is in the anchor order.
    anchors: Vec<u32>,
    anchor_at: Vec<u32>,
    /// The accounts of person `p` are `member_list[member_starts[p]..member_starts[p + 1]]`,
    /// in anchor order.
    member_starts: Vec<u32>,
    member_list: Vec<u32>,
}

/// Numbers the persons: walking the accounts in anchor order, the first account of each
/// component (`roots`, per account, of a union-find of `nodes` items) is its anchor, and
/// its person the next number.
fn number_persons(by_anchor: &[u32], roots: Vec<u32>, nodes: usize) -> Numbered {
    let n_acc = by_anchor.len();
    let mut person_of_root = vec![NONE; nodes];
    let mut person_of = vec![0u32; n_acc];
    let (mut anchors, mut anchor_at, mut sizes) = (Vec::new(), Vec::new(), Vec::<u32>::new());
    // The person of each account in anchor order, for the member lists below (read in
    // order there, where `person_of` would be read at random).
    let mut person_in_order: Vec<u32> = Vec::with_capacity(n_acc);
    for (k, &a) in by_anchor.iter().enumerate() {
        prefetch(by_anchor.get(k + 16).map(|&f| &roots[f as usize]));
        let ahead = by_anchor.get(k + 8).map(|&f| roots[f as usize] as usize);
        prefetch(ahead.map(|root| &person_of_root[root]));
        let root = roots[a as usize] as usize;
        if person_of_root[root] == NONE {
            person_of_root[root] = anchors.len() as u32;
            anchors.push(a);
            anchor_at.push(k as u32);
            sizes.push(0);
        }
        let p = person_of_root[root];
        person_of[a as usize] = p;
        person_in_order.push(p);
        sizes[p as usize] += 1;
    }
    drop(roots);
    let mut member_starts = Vec::with_capacity(anchors.len() + 1);
    let mut next = Vec::with_capacity(anchors.len());
    let mut total = 0u32;
    for s in sizes {
        member_starts.push(total);
        next.push(total);
        total += s;
    }
    member_starts.push(total);
    let mut member_list = vec![0u32; n_acc];
    for (&a, &p) in by_anchor.iter().zip(&person_in_order) {
        let slot = &mut next[p as usize];
        member_list[*slot as usize] = a;
        *slot += 1;
    }
    Numbered {
        person_of_root,
        person_of,
        anchors,
        anchor_at,
        member_starts,
        member_list,
    }
}

/// The person id digests of the accounts `order[from..]`, in order, until `stop` is set:
/// work for a core that would otherwise wait, which the person ids need not do again.
fn digests_until<'a>(
    order: &[u32],
    from: usize,
    stop: &AtomicBool,
    account_ids: &Interner,
    account_key: impl Fn(u32) -> (&'a str, &'a str, &'a str),
) -> Vec<u64> {
    let mut digests = Vec::new();
    for k in from..order.len() {
        if stop.load(Relaxed) {
            break;
        }
        account_ids.prefetch(order.get(k + 16).copied(), false);
        account_ids.prefetch(order.get(k + 8).copied(), true);
        let (platform, scope, id) = account_key(order[k]);
        digests.push(person_digest(platform, scope, id));
    }
    digests
}

/// The digits of person ids.
const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends `p` and the 16 hex digits of `digest` to `out`.
fn push_person_digest(out: &mut String, digest: u64) {
    out.push('p');
    out.extend(
        (0..16)
            .rev()
            .map(|k| char::from(HEX[(digest >> (k * 4)) as usize & 15])),
    );
}

/// The digest a computed person id (`p` and 16 lower-case hex digits) shows, the
/// inverse of [`push_person_digest`]; `None` for other ids.
fn digest_of(id: &str) -> Option<u64> {
    const VALUE: [u8; 256] = {
        let mut v = [u8::MAX; 256];
        let mut d = 0;
        while d < 16 {
            v[HEX[d] as usize] = d as u8;
            d += 1;
        }
        v
    };
    let hex: &[u8; 16] = id.strip_prefix('p')?.as_bytes().try_into().ok()?;
    hex.iter()
        .try_fold(0u64, |acc, &b| match VALUE[b as usize] {
            u8::MAX => None,
            d => Some(acc << 4 | u64::from(d)),
        })
}

/// Person ids, one per person, in one buffer (no allocation per person).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PersonIds {
    text: String,
    /// Where each person's id ends in `text`.
    ends: Vec<usize>,
}

impl PersonIds {
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    fn start(&self, p: usize) -> usize {
        p.checked_sub(1).map_or(0, |q| self.ends[q])
    }

    /// The id of person `p`.
    pub fn get(&self, p: u32) -> &str {
        let p = p as usize;
        &self.text[self.start(p)..self.ends[p]]
    }

    /// The person whose id is `id`.
    pub fn position(&self, id: &str) -> Option<u32> {
        (0..self.len() as u32).find(|&p| self.get(p) == id)
    }

    /// Asks for where person `p`'s id is (`text == false`) or, once that is near, for
    /// its text, ahead of a [`Self::get`]. Only a hint ([`prefetch`]).
    pub fn prefetch(&self, p: Option<u32>, text: bool) {
        let Some(p) = p.map(|p| p as usize).filter(|&p| p < self.len()) else {
            return;
        };
        if text {
            prefetch(self.text.as_bytes().get(self.start(p)));
        } else {
            prefetch(self.ends.get(p.saturating_sub(1)));
        }
    }

    /// How many different ids there are. Computed ids (`p` and 16 lower-case hex digits)
    /// are compared as numbers, sorted; other ids (carried over from a previous map) are
    /// hashed.
    pub fn distinct(&self) -> usize {
        let mut digests = Vec::with_capacity(self.len());
        let mut others = HashSet::new();
        for p in 0..self.len() as u32 {
            let id = self.get(p);
            match digest_of(id) {
                Some(d) => digests.push(d),
                None => drop(others.insert(id)),
            }
        }
        digests.sort_unstable();
        digests.dedup();
        digests.len() + others.len()
    }

    /// Appends `other`'s ids.
    fn extend(&mut self, other: &PersonIds) {
        let base = self.text.len();
        self.text.push_str(&other.text);
        self.ends.extend(other.ends.iter().map(|e| e + base));
    }
}

impl<'a> FromIterator<&'a str> for PersonIds {
    fn from_iter<I: IntoIterator<Item = &'a str>>(ids: I) -> Self {
        let mut out = Self::default();
        for id in ids {
            out.text.push_str(id);
            out.ends.push(out.text.len());
        }
        out
    }
}

impl Graph {
    pub fn str(&self, id: u32) -> &str {
        self.names.get(id)
    }

    /// `(platform, scope, account_id)` of an account.
    pub fn account_key(&self, a: u32) -> (&str, &str, &str) {
        let acc = &self.accounts[a as usize];
        (
            self.str(acc.platform),
            self.str(acc.scope),
            self.account_ids.text(a),
        )
    }

    /// The accounts in key order `(platform, scope, account_id)`.
    pub fn accounts_by_key(&self) -> Vec<u32> {
        let mut order: Vec<u32> = (0..self.accounts.len() as u32).collect();
        order.sort_unstable_by(|&a, &b| self.account_key(a).cmp(&self.account_key(b)));
        order
    }

    /// The value of an identifier.
    pub fn identifier_value(&self, i: u32) -> &str {
        self.identifier_values.text(i)
    }

    /// The accounts of a person, canonical order; the first is the anchor.
    pub fn members(&self, person: usize) -> &[u32] {
        self.members_of(person..person + 1)
    }

    /// The accounts of the persons in `persons`, person after person.
    pub fn members_of(&self, persons: std::ops::Range<usize>) -> &[u32] {
        let (from, to) = (
            self.member_starts[persons.start],
            self.member_starts[persons.end],
        );
        &self.member_list[from as usize..to as usize]
    }

    /// Asks for where account `a` and its id are (`text == false`) or, once that is
    /// near, for the id's text, ahead of an [`Self::account_key`]. Only a hint.
    pub fn prefetch_account(&self, a: Option<u32>, text: bool) {
        self.account_ids.prefetch(a, text);
        if !text {
            prefetch(a.and_then(|a| self.accounts.get(a as usize)));
        }
    }

    /// Asks for account `a`'s person (`text == false`) or, once that is near, for the
    /// person's id, ahead of a read of both. Only a hint.
    pub fn prefetch_person(&self, a: Option<u32>, text: bool) {
        if text {
            let p = a.and_then(|a| self.person_of.get(a as usize)).copied();
            self.persons.prefetch(p, true);
        } else {
            prefetch(a.and_then(|a| self.person_of.get(a as usize)));
        }
    }

    fn find_account(&self, platform: &str, scope: &str, id: &str) -> Option<u32> {
        let key = (self.names.find(platform)?, self.names.find(scope)?);
        self.account_ids.find(*self.scope_ids.get(&key)?, id)
    }

    fn resolve(b: GraphBuilder, rules: &IdentityRules) -> Graph {
        let GraphBuilder {
            names,
            scopes,
            scope_ids,
            union_groups: _,
            kinds,
            kind_ids: _,
            tables:
                Tables {
                    accounts:
                        AccountTable {
                            ids: account_ids,
                            list: accounts,
                        },
                    values: mut identifier_values,
                    evidence: EvidenceList { list: evidence },
                },
            threads,
        } = b;
        identifier_values.freeze();
        let n_acc = accounts.len();
        let n_ident = identifier_values.len();

        // Canonical order (`super::order`): the answer never depends on input order.
        let scope_hash: Vec<u64> = scopes
            .iter()
            .map(|&(p, s)| hash_of((names.get(p), names.get(s))))
            .collect();
        let kind_name = |k: &Identifier| match k.scope {
            NONE => "",
            scope => names.get(scope),
        };
        let kind_hash: Vec<u64> = kinds
            .iter()
            .map(|k| hash_of((k.kind, kind_name(k))))
            .collect();
        let (account_hash, ident_hash) = parallel::both(
            threads,
            || order::key_hashes(&account_ids, &scope_hash, threads),
            || order::key_hashes(&identifier_values, &kind_hash, threads),
        );
        let identifiers: Vec<Identifier> = (0..n_ident as u32)
            .map(|i| kinds[identifier_values.group(i) as usize])
            .collect();
        // One evidence per (account, identifier), and the identifiers' degrees and
        // shared devices.
        let Grouped {
            evidence,
            degree,
            shared,
        } = evidence::group(
            evidence,
            n_ident,
            |a| account_ids.group(a),
            |i| rules.shared_device_rule && identifiers[i as usize].kind == IdType::Device,
            threads,
        );
        let account_key = |a: u32| {
            let (p, s) = scopes[account_ids.group(a) as usize];
            (names.get(p), names.get(s), account_ids.text(a))
        };
        // An account key's first byte for its scope's place in key order, then the first
        // 7 bytes of its id: a smaller prefix is a smaller key. (Past 255 scopes, only
        // the full keys tell.)
        let mut scope_rank = vec![u8::MAX; scopes.len()];
        let mut by_name: Vec<usize> = (0..scopes.len()).collect();
        by_name.sort_by_key(|&g| (names.get(scopes[g].0), names.get(scopes[g].1)));
        for (rank, g) in by_name.into_iter().enumerate().take(usize::from(u8::MAX)) {
            scope_rank[g] = rank as u8;
        }
        let key_prefix = |a: u32| {
            let mut prefix = [0u8; 8];
            prefix[0] = scope_rank[account_ids.group(a) as usize];
            if prefix[0] != u8::MAX {
                let id = account_ids.text(a).as_bytes();
                let n = id.len().min(7);
                prefix[1..=n].copy_from_slice(&id[..n]);
            }
            u64::from_be_bytes(prefix)
        };
        // Identifier types first (2 bits), then the identifier's and the account's hashes.
        let ident_key: Vec<u32> = parallel::map(threads, n_ident, |i| {
            (identifiers[i].kind as u32) << 30 | ident_hash[i] >> 2
        });
        drop(ident_hash);
        let evidence = order::sort_evidence(
            evidence,
            &ident_key,
            &account_hash,
            |x, y| {
                let ident = |e: &Evidence| {
                    let i = e.identifier;
                    (
                        identifiers[i as usize].kind,
                        kind_name(&identifiers[i as usize]),
                        identifier_values.text(i),
                    )
                };
                ident(x)
                    .cmp(&ident(y))
                    .then_with(|| account_key(x.account).cmp(&account_key(y.account)))
            },
            threads,
        );
        // Blocked values.
        let blocked: Vec<bool> = parallel::chunks(threads, n_ident, |range| {
            // A copy of the rules per thread: each copy of a regex has its own match cache.
            let rules = rules.clone();
            range
                .map(|i| rules.is_blocked(identifier_values.text(i as u32)))
                .collect::<Vec<bool>>()
        })
        .concat();

        // Guarded union-find over accounts (0..A) and identifiers (A..).
        // The value guards' verdict on each identifier (`Linked`: none applies), one
        // array read per evidence in the loop below.
        let verdict: Vec<LinkStatus> = parallel::map(threads, n_ident, |i| {
            if blocked[i] {
                LinkStatus::Blocked
            } else if degree[i] as usize > rules.hub_threshold {
                LinkStatus::Hub
            } else if shared[i] {
                LinkStatus::SharedDevice
            } else {
                LinkStatus::Linked
            }
        });
        drop((blocked, shared));
        // The accounts in anchor order (earliest seen, ties by key) are sorted on a
        // second thread while the union-find is set up and runs: neither needs the other.
        // The sort is done first; that thread then computes the person id digests of
        // the accounts in anchor order until the union-find is done (the first accounts
        // are mostly anchors), which the person ids below need not compute again.
        let union_find_done = AtomicBool::new(false);
        let ((statuses, uf), (by_anchor, mut early_digests)) = parallel::both(
            threads,
            || {
                let mut uf = Components::new(n_acc, &identifiers, threads);
                // The nodes of an evidence are read a few rows ahead.
                let statuses = (0..evidence.len())
                    .map(|k| {
                        if let Some(f) = evidence.get(k + 16) {
                            prefetch(uf.nodes.get(f.account as usize));
                            prefetch(uf.nodes.get(n_acc + f.identifier as usize));
                            prefetch(verdict.get(f.identifier as usize));
                        }
                        if let Some(f) = evidence.get(k + 8) {
                            // The parents, now that the nodes are near.
                            let parent = |x: usize| uf.nodes[x].parent as usize;
                            prefetch(uf.nodes.get(parent(f.account as usize)));
                            prefetch(uf.nodes.get(parent(n_acc + f.identifier as usize)));
                        }
                        let e = &evidence[k];
                        let i = e.identifier as usize;
                        if verdict[i] != LinkStatus::Linked {
                            return verdict[i];
                        }
                        let ra = uf.find(e.account);
                        let rb = uf.find((n_acc + i) as u32);
                        if ra == rb {
                            return LinkStatus::Linked;
                        }
                        if let Some(rule) = uf.conflict(ra, rb, &identifiers, rules.max_phones) {
                            return rule;
                        }
                        uf.union(ra, rb);
                        LinkStatus::Linked
                    })
                    .collect::<Vec<LinkStatus>>();
                union_find_done.store(true, Relaxed);
                (statuses, uf)
            },
            || {
                let by_anchor = order::anchor_order(&accounts, key_prefix, |a, b| {
                    account_key(a).cmp(&account_key(b))
                });
                let digests =
                    digests_until(&by_anchor, 0, &union_find_done, &account_ids, account_key);
                (by_anchor, digests)
            },
        );

        // Persons: components of accounts, anchors first.
        let root_of = |x: usize| uf.root(x as u32);
        let roots = parallel::map(threads, n_acc, root_of);
        // The persons are numbered on one thread (each account's person depends on the
        // accounts before it); the other computes more person id digests meanwhile.
        let persons_done = AtomicBool::new(false);
        let (numbered, more) = parallel::both(
            threads,
            || {
                let persons = number_persons(&by_anchor, roots, n_acc + n_ident);
                persons_done.store(true, Relaxed);
                persons
            },
            || {
                let from = early_digests.len();
                digests_until(&by_anchor, from, &persons_done, &account_ids, account_key)
            },
        );
        early_digests.extend(more);
        let identifier_person = parallel::map(threads, n_ident, |i| {
            let p = numbered.person_of_root[root_of(n_acc + i) as usize];
            (p != NONE).then_some(p)
        });
        // Person ids, in person order, each part of the persons on a thread; the anchor
        // accounts' keys are read a few persons ahead (unless their digests are known).
        let (anchors, anchor_at) = (&numbered.anchors, &numbered.anchor_at);
        let early = |p: usize| early_digests.get(anchor_at[p] as usize).copied();
        let parts = parallel::chunks(threads, anchors.len(), |range| {
            let mut ids = PersonIds {
                text: String::with_capacity(range.len() * 17),
                ends: Vec::with_capacity(range.len()),
            };
            let unknown = |p: usize| Some(anchors[p]).filter(|_| early(p).is_none());
            for p in range.clone() {
                let ahead = |d: usize| Some(p + d).filter(|q| range.contains(q));
                account_ids.prefetch(ahead(16).and_then(unknown), false);
                account_ids.prefetch(ahead(8).and_then(unknown), true);
                let digest = early(p).unwrap_or_else(|| {
                    let (platform, scope, id) = account_key(anchors[p]);
                    person_digest(platform, scope, id)
                });
                push_person_digest(&mut ids.text, digest);
                ids.ends.push(ids.text.len());
            }
            ids
        });
        let mut persons = PersonIds::default();
        for part in &parts {
            persons.extend(part);
        }
        drop(parts);
        Graph {
            names,
            scope_ids,
            account_ids,
            identifier_values,
            accounts,
            identifiers,
            evidence,
            statuses,
            degree,
            person_of: numbered.person_of,
            persons,
            member_list: numbered.member_list,
            member_starts: numbered.member_starts,
            identifier_person,
            redirects: Vec::new(),
            threads,
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
        let mut claims: HashMap<u32, Vec<(i64, &str)>> = HashMap::new();
        for (person, (first, (p, s, a))) in &anchors {
            if let Some(acc) = self.find_account(p, s, a) {
                claims
                    .entry(self.person_of[acc as usize])
                    .or_default()
                    .push((*first, person));
            }
        }
        let mut claims: Vec<(u32, Vec<(i64, &str)>)> = claims.into_iter().collect();
        claims.sort_unstable_by_key(|c| c.0);
        let mut kept: HashMap<u32, &str> = HashMap::with_capacity(claims.len());
        for (person, mut old) in claims {
            old.sort_unstable();
            let keep = old[0].1;
            for (_, retired) in &old[1..] {
                self.redirects.push((retired.to_string(), keep.to_string()));
            }
            kept.insert(person, keep);
        }
        let persons = (0..self.persons.len() as u32)
            .map(|p| kept.get(&p).copied().unwrap_or_else(|| self.persons.get(p)))
            .collect();
        self.persons = persons;
        self.redirects.sort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Row<'a> = (&'a str, &'a str, &'a str, i64, IdType, &'a str);

    fn build(rows: &[Row]) -> Graph {
        let mut b = GraphBuilder::new(2);
        for &(p, s, a, ts, kind, value) in rows {
            let scope = b.scope(p, s);
            let acc = b.account(scope, a, ts, ts);
            b.evidence(acc, kind, value, ts);
        }
        b.resolve(&IdentityRules::default())
    }

    #[test]
    fn person_ids_in_one_buffer() {
        let mut ids: PersonIds = ["p1", "", "carried-over id"].into_iter().collect();
        assert_eq!(
            (ids.len(), ids.get(0), ids.get(1), ids.get(2)),
            (3, "p1", "", "carried-over id")
        );
        ids.extend(&["p4"].into_iter().collect());
        assert_eq!(ids.get(3), "p4");
        assert_eq!(ids.position("carried-over id"), Some(2));
        assert_eq!(ids.position("p9"), None);
        ids.prefetch(Some(3), false);
        ids.prefetch(Some(3), true);
        ids.prefetch(Some(9), true);
        ids.prefetch(None, false);
        assert!(PersonIds::default().is_empty());
        assert_eq!(person_id_of("douyin", "app", "a1").len(), 17);
    }

    #[test]
    fn distinct_person_ids() {
        let ids: PersonIds = [
            "p00000000000000ff",
            "p00000000000000ff",
            "p00000000000000FF",
            "p0000000000000ff",
            "pffffffffffffffff",
            "carried",
            "carried",
            "",
        ]
        .into_iter()
        .collect();
        // Upper-case hex and a short id are other ids than the lower-case one.
        assert_eq!(ids.distinct(), 6);
        assert_eq!(
            digest_of(&person_id_of("douyin", "app", "a1")),
            Some(person_digest("douyin", "app", "a1"))
        );
        assert_eq!(digest_of("pffffffffffffffff"), Some(u64::MAX));
        assert_eq!(digest_of("p00000000000000fg"), None);
        assert_eq!(PersonIds::default().distinct(), 0);
    }

    fn person(g: &Graph, a: &str) -> String {
        let i = (0..g.accounts.len() as u32)
            .find(|&i| g.account_key(i).2 == a)
            .expect("account");
        g.persons.get(g.person_of[i as usize]).to_string()
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
