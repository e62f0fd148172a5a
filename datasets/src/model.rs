//! People: who they are, which accounts they have, how those accounts can be
//! linked, and the mutable state their behaviour needs from day to day.
//!
//! A chunk's population is built from `(seed, chunk)` alone; households never
//! cross a chunk boundary, so chunks are independent.

use crate::calendar::{DAY_MS, MINUTE_MS};
use crate::catalog::{AccountKind, BRANDS, CATEGORIES, Channel, PROVINCES, Platform, SLOT_WEIGHTS};
use crate::ids::{Alphabet, push_token, push_uuid, scramble};
use crate::rng::{Rng, hash2, hash3, mix64};
use crate::world::World;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt::Write;

/// Share of persons who start a household (households have 2–4 people, so
/// about 8% of persons live in one).
const HOUSEHOLD_START: f64 = 0.0336;
/// Weights of 1, 2, 3, 4 accounts per person.
const ACCOUNT_COUNT_WEIGHTS: [u32; 4] = [45, 30, 17, 8];
/// Popularity of platforms (Douyin, Kuaishou, WeChat, Taobao) when a person
/// starts using a new one.
const PLATFORM_WEIGHTS: [u32; 4] = [40, 15, 20, 25];
/// Popularity of platforms for a person's second, third... platform: people
/// whose first platform is elsewhere rarely add WeChat Channels.
const EXTRA_PLATFORM_WEIGHTS: [u32; 4] = [45, 18, 8, 29];
/// Probability that an extra account is the second account on a platform the
/// person already uses (Douyin live + 抖店, WeChat shop + service account).
const DEEPEN_RATE: f64 = 0.45;
/// Share of Douyin people with a union id.
const DOUYIN_UNION_RATE: f64 = 0.70;
/// Share of WeChat people with a unionid.
const WECHAT_UNION_RATE: f64 = 0.85;
/// Membership rate of people whose accounts are already linkable without it.
const MEMBER_RATE_FREE: f64 = 0.155;
/// Membership rate of people whose accounts could not be linked otherwise.
const MEMBER_RATE_NEEDED: f64 = 0.993;
/// Probability a member binds each of their accounts.
const BIND_RATE: f64 = 0.8;
/// Probability a member binds one account of a group that nothing else links.
const BIND_REPAIR_RATE: f64 = 0.997;
/// Probability a person active on two or more platforms churns from one of them.
const CHURN_RATE_MULTI: f64 = 0.34;
/// Popularity of categories when drawing preferences.
const CATEGORY_WEIGHTS: [u32; 12] = [14, 16, 14, 8, 10, 7, 7, 3, 9, 4, 3, 5];
/// Mobile prefixes used for members' phones.
const PHONE_PREFIXES: [u32; 30] = [
    130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 150, 151, 152, 153, 155, 156, 157, 158, 159,
    166, 173, 176, 177, 178, 180, 181, 182, 183, 186, 188,
];
/// Activity tiers: multiplier and weight.
const ACTIVITY_TIERS: [(f64, u32); 7] = [
    (0.1, 15),
    (0.3, 18),
    (0.6, 20),
    (1.0, 18),
    (1.6, 14),
    (2.6, 10),
    (4.0, 5),
];
/// Expected live sessions per day of an average person (all platforms).
pub const BASE_SESSIONS_PER_DAY: f64 = 0.585;

/// A member of the brand's loyalty programme.
#[derive(Clone, Debug)]
pub struct Member {
    /// `member_id`.
    pub id: String,
    /// Hex HMAC-SHA256 of the E.164 phone.
    pub phone_key: String,
    /// When the member signed up (epoch ms).
    pub since_ms: i64,
    /// `bound_at` per account kind, for the accounts the member bound.
    pub bound: [Option<i64>; 6],
    /// The first bound account (SMS touches are logged against it).
    pub primary: AccountKind,
}

/// A household sharing a family tablet.
#[derive(Clone, Debug)]
pub struct Household {
    /// The tablet's device id.
    pub device: String,
    /// Number of persons.
    pub size: u32,
    /// The live account kind used on the tablet.
    pub tablet: AccountKind,
}

/// Consent and suppression state of one touch channel of a person.
#[derive(Clone, Debug)]
pub struct ChannelState {
    /// The account messaged on the channel (`None`: no consent, never touched).
    pub account: Option<AccountKind>,
    /// Consent grant time.
    pub granted_ms: i64,
    /// Consent withdrawal time (`i64::MAX`: never).
    pub withdrawn_ms: i64,
    /// Time of negative feedback after which the brand stops sending.
    pub suppressed_ms: i64,
    /// Send times of the last touches (ring buffer; `i64::MIN` = empty).
    pub recent: [i64; 4],
    /// Next write position in `recent`.
    pub recent_pos: u8,
}

impl ChannelState {
    fn none() -> Self {
        ChannelState {
            account: None,
            granted_ms: i64::MAX,
            withdrawn_ms: i64::MAX,
            suppressed_ms: i64::MAX,
            recent: [i64::MIN; 4],
            recent_pos: 0,
        }
    }
}

/// Who a person is: fixed for the whole window.
#[derive(Clone, Debug)]
pub struct Profile {
    /// Global person index (across chunks).
    pub gidx: u64,
    /// `person_id`.
    pub person_id: String,
    /// Index into [`PROVINCES`].
    pub province: u8,
    /// Preferred categories (indices into [`CATEGORIES`]), best first.
    pub categories: [u8; 3],
    /// Number of preferred categories (2 or 3).
    pub n_categories: u8,
    /// Index into [`BRANDS`].
    pub preferred_brand: u8,
    /// 0..1; loyal when >= 0.7.
    pub brand_loyalty: f64,
    /// 0..1; price sensitive when >= 0.6.
    pub price_sensitivity: f64,
    /// Active slot index into `SLOTS`.
    pub slot: u8,
    /// 0..1; intolerant when < 0.3.
    pub tolerance: f64,
    /// Expected live sessions per day over all platforms.
    pub activity: f64,
    /// Share of sessions per platform (sums to 1 over the live accounts).
    pub plat_weight: [f64; 4],
    /// Multiplier of click / cart probabilities.
    pub propensity: f64,
    /// Probability that an order goes to another platform than the one watched.
    pub cross_buy: f64,
    /// Account ids by [`AccountKind`].
    pub accounts: [Option<String>; 6],
    /// Day on which an account that has not shown up yet is used for sure.
    pub anchor: [u32; 6],
    /// Douyin union id.
    pub dy_union: Option<String>,
    /// WeChat unionid.
    pub wx_union: Option<String>,
    /// Personal device id (for people with a device-carrying account).
    pub device: Option<String>,
    /// Index of the person's household in the chunk.
    pub household: Option<u32>,
    /// Membership.
    pub member: Option<Member>,
    /// Platform the person stops using, and the first window day without activity.
    pub churn: Option<(Platform, u32)>,
}

impl Profile {
    /// Whether the person is brand loyal.
    pub fn loyal(&self) -> bool {
        self.brand_loyalty >= 0.7
    }

    /// Number of accounts.
    pub fn n_accounts(&self) -> usize {
        self.accounts.iter().filter(|a| a.is_some()).count()
    }

    /// Whether the person has an account of this kind.
    pub fn has(&self, k: AccountKind) -> bool {
        self.accounts[k as usize].is_some()
    }

    /// Whether the person still uses `platform` on window day `day`.
    pub fn active_on(&self, platform: Platform, day: u32) -> bool {
        !matches!(self.churn, Some((p, d)) if p == platform && day >= d)
    }
}

/// What changes from day to day.
#[derive(Clone, Debug)]
pub struct State {
    /// The person's own random stream.
    pub rng: Rng,
    /// Rows emitted so far (source of unique row codes).
    pub row_seq: u32,
    /// Orders placed so far (source of unique order ids).
    pub order_seq: u32,
    /// Whether the person follows the brand, per platform (bit mask).
    pub following: u8,
    /// Touch channels.
    pub channels: [ChannelState; 4],
    /// Junk device ids this person's rows carried (bit mask).
    pub junk_seen: u8,
    /// Accounts that have shown up with linking evidence (bit mask by
    /// [`AccountKind`]): a row with the personal device for device-carrying
    /// accounts, any row for the others.
    pub seen: u8,
}

/// A person.
#[derive(Clone, Debug)]
pub struct Person {
    /// Fixed traits and accounts.
    pub profile: Profile,
    /// Mutable state.
    pub state: State,
}

/// The persons of one chunk.
#[derive(Debug)]
pub struct Population {
    /// Persons in global-index order.
    pub persons: Vec<Person>,
    /// Households of the chunk.
    pub households: Vec<Household>,
}

/// Builds the population of chunk `chunk`, persons `first..first + count`.
pub fn build_population(w: &World, chunk: u64, first: u64, count: u64) -> Population {
    let mut hrng = Rng::new(hash3(w.seed, 0x4005e, chunk));
    // Households: runs of consecutive persons inside the chunk.
    let mut household_of: Vec<Option<u32>> = vec![None; count as usize];
    let mut households = Vec::new();
    let mut i = 0u64;
    while i < count {
        if hrng.chance((HOUSEHOLD_START * w.identity_noise).min(0.5)) {
            let size = [2u64, 3, 4][hrng.weighted(&[60, 30, 10])].min(count - i);
            if size >= 2 {
                let h = households.len() as u32;
                let mut device = String::with_capacity(36);
                push_uuid(
                    &mut device,
                    mix64((((first + i) << 2) | 1) ^ hash2(w.seed, 0xde1)),
                );
                let tablet = [
                    AccountKind::DouyinLive,
                    AccountKind::Kuaishou,
                    AccountKind::Taobao,
                ][hrng.weighted(&[70, 15, 15])];
                households.push(Household {
                    device,
                    size: size as u32,
                    tablet,
                });
                for j in 0..size {
                    household_of[(i + j) as usize] = Some(h);
                }
                i += size;
                continue;
            }
        }
        i += 1;
    }
    let mut persons = Vec::with_capacity(count as usize);
    let mut household_province: Vec<Option<u8>> = vec![None; households.len()];
    for (local, hh) in household_of.iter().enumerate() {
        let gidx = first + local as u64;
        let hh_info = hh.map(|h| {
            (
                h,
                households[h as usize].tablet,
                household_province[h as usize],
            )
        });
        let person = make_person(w, gidx, hh_info);
        if let Some(h) = hh {
            household_province[*h as usize] = Some(person.profile.province);
        }
        persons.push(person);
    }
    Population {
        persons,
        households,
    }
}

/// Draws one person.
fn make_person(w: &World, gidx: u64, hh: Option<(u32, AccountKind, Option<u8>)>) -> Person {
    let mut rng = Rng::new(hash3(w.seed, 0x9e50, gidx));
    let r = &mut rng;
    let province = match hh {
        Some((_, _, Some(p))) => p,
        _ => r.weighted(&PROVINCES.map(|p| p.1)) as u8,
    };
    // Preferences.
    let n_categories = if r.chance(0.5) { 2 } else { 3 };
    let mut categories = [0u8; 3];
    let mut cw = CATEGORY_WEIGHTS;
    for c in categories.iter_mut().take(n_categories) {
        let i = r.weighted(&cw);
        *c = i as u8;
        cw[i] = 0;
    }
    let top = categories[0] as usize;
    let candidates = &w.catalog.brands_of[top];
    let second = categories[1];
    let covering: Vec<u8> = candidates
        .iter()
        .copied()
        .filter(|&b| BRANDS[b as usize].1.contains(&second))
        .collect();
    let preferred_brand = if !covering.is_empty() && r.chance(0.5) {
        covering[r.below(covering.len() as u64) as usize]
    } else {
        candidates[r.below(candidates.len() as u64) as usize]
    };
    let brand_loyalty = if r.chance(0.26) {
        0.7 + 0.3 * r.f64()
    } else {
        0.7 * r.f64()
    };
    let price_sensitivity = (r.f64() + r.f64()) / 2.0;
    let tolerance = if r.chance(0.2) {
        0.3 * r.f64()
    } else {
        0.3 + 0.7 * (r.f64() + r.f64()) / 2.0
    };
    let slot = r.weighted(&SLOT_WEIGHTS) as u8;
    let tier = ACTIVITY_TIERS[r.weighted(&ACTIVITY_TIERS.map(|t| t.1))].0;
    let propensity = 0.4 + 1.2 * r.f64();
    let cross_buy = if r.chance(0.25) { 0.5 } else { 0.04 };

    // Accounts.
    let n = r.weighted(&ACCOUNT_COUNT_WEIGHTS) + 1;
    let kinds = draw_accounts(r, n, hh.map(|h| h.1));
    let mut accounts: [Option<String>; 6] = Default::default();
    for k in AccountKind::ALL {
        if kinds[k as usize] {
            accounts[k as usize] = Some(account_id(w.seed, gidx, k));
        }
    }
    let has = |k: AccountKind| kinds[k as usize];
    let has_douyin = has(AccountKind::DouyinLive) || has(AccountKind::Doudian);
    let has_wechat = has(AccountKind::WechatShop) || has(AccountKind::WechatService);
    let dy_union = (has_douyin && r.chance(DOUYIN_UNION_RATE)).then(|| {
        let mut s = String::with_capacity(36);
        push_uuid(&mut s, mix64((gidx << 1) ^ hash2(w.seed, 0x0d1)));
        s
    });
    let wx_union = (has_wechat && r.chance(WECHAT_UNION_RATE)).then(|| {
        let mut s = String::with_capacity(28);
        s.push_str("oU");
        push_token(
            &mut s,
            mix64(((gidx << 1) | 1) ^ hash2(w.seed, 0x0d2)),
            26,
            Alphabet::Base64,
        );
        s
    });
    let carries_device = AccountKind::ALL
        .iter()
        .any(|&k| has(k) && k.carries_device());
    let device = carries_device.then(|| {
        let mut s = String::with_capacity(36);
        push_uuid(&mut s, mix64((gidx << 2) ^ hash2(w.seed, 0xde1)));
        s
    });

    // Platform shares of live sessions.
    let base = [1.0, 0.9, 0.6, 0.8];
    let mut plat_weight = [0.0; 4];
    for p in Platform::ALL {
        if has(p.live_account()) {
            plat_weight[p as usize] = base[p as usize] * r.uniform(0.5, 1.5);
        }
    }
    let total: f64 = plat_weight.iter().sum();
    let n_live = plat_weight.iter().filter(|&&x| x > 0.0).count();
    if total > 0.0 {
        for x in plat_weight.iter_mut() {
            *x /= total;
        }
    }
    let activity = BASE_SESSIONS_PER_DAY
        * tier
        * r.uniform(0.8, 1.2)
        * (1.0 + 0.15 * n_live.saturating_sub(1) as f64);

    // Linkability: which accounts are connected without membership?
    let comp = components(&kinds, dy_union.is_some(), wx_union.is_some());
    let n_comp = {
        let mut seen = [false; 6];
        for k in 0..6 {
            if kinds[k] {
                seen[comp[k]] = true;
            }
        }
        seen.iter().filter(|&&s| s).count()
    };
    let is_member = if n_comp > 1 {
        r.chance(MEMBER_RATE_NEEDED)
    } else {
        r.chance(MEMBER_RATE_FREE)
    };
    let member = is_member.then(|| make_member(w, r, gidx, &kinds, &comp));

    // Churn from one of the platforms the person is active on.
    let active: Vec<Platform> = Platform::ALL
        .into_iter()
        .filter(|&p| has(p.live_account()) || has(p.order_account()))
        .collect();
    let churn = (active.len() >= 2 && w.days >= 2 && r.chance(CHURN_RATE_MULTI)).then(|| {
        let p = active[r.below(active.len() as u64) as usize];
        (p, 1 + r.below(w.days as u64 - 1) as u32)
    });

    // Anchor days: an account not seen by then is used that day for sure.
    let mut anchor = [0u32; 6];
    for k in AccountKind::ALL {
        let limit = match churn {
            Some((p, d)) if p == k.platform() => d,
            _ => w.days,
        }
        .max(1);
        anchor[k as usize] = if k == AccountKind::Doudian {
            limit / 2 + r.below((limit - limit / 2).max(1) as u64) as u32
        } else {
            r.below(limit as u64) as u32
        };
    }

    // Follow state and touch channels.
    let mut following = 0u8;
    for p in Platform::ALL {
        if has(p.live_account()) && r.chance(0.3) {
            following |= 1 << p as u8;
        }
    }
    let channels = make_channels(w, r, &kinds, member.as_ref());

    let mut person_id = String::with_capacity(10);
    let _ = write!(person_id, "P{gidx:09}");
    let profile = Profile {
        gidx,
        person_id,
        province,
        categories,
        n_categories: n_categories as u8,
        preferred_brand,
        brand_loyalty,
        price_sensitivity,
        slot,
        tolerance,
        activity,
        plat_weight,
        propensity,
        cross_buy,
        accounts,
        anchor,
        dy_union,
        wx_union,
        device,
        household: hh.map(|h| h.0),
        member,
        churn,
    };
    let state = State {
        rng: Rng::new(hash3(w.seed, 0xac71, gidx)),
        row_seq: 0,
        order_seq: 0,
        following,
        channels,
        junk_seen: 0,
        seen: 0,
    };
    Person { profile, state }
}

/// Draws `n` account kinds. New platforms are picked by popularity; an extra
/// account may instead be the second account of a platform already used.
fn draw_accounts(r: &mut Rng, n: usize, tablet: Option<AccountKind>) -> [bool; 6] {
    use AccountKind as K;
    let mut kinds = [false; 6];
    if let Some(t) = tablet {
        kinds[t as usize] = true;
    }
    let on = |kinds: &[bool; 6], p: Platform| {
        AccountKind::ALL
            .iter()
            .any(|&k| kinds[k as usize] && k.platform() == p)
    };
    while kinds.iter().filter(|&&k| k).count() < n {
        let mut deepen = [K::DouyinLive; 2];
        let mut n_deepen = 0;
        for (a, b) in [
            (K::DouyinLive, K::Doudian),
            (K::WechatShop, K::WechatService),
        ] {
            if kinds[a as usize] != kinds[b as usize] {
                deepen[n_deepen] = if kinds[a as usize] { b } else { a };
                n_deepen += 1;
            }
        }
        let first = !kinds.iter().any(|&k| k);
        let mut pw = if first {
            PLATFORM_WEIGHTS
        } else {
            EXTRA_PLATFORM_WEIGHTS
        };
        for p in Platform::ALL {
            if on(&kinds, p) {
                pw[p as usize] = 0;
            }
        }
        let can_broaden = pw.iter().any(|&w| w > 0);
        let k = if n_deepen > 0 && (!can_broaden || r.chance(DEEPEN_RATE)) {
            deepen[r.below(n_deepen as u64) as usize]
        } else {
            match Platform::ALL[r.weighted(&pw)] {
                Platform::Douyin if r.chance(0.8) => K::DouyinLive,
                Platform::Douyin => K::Doudian,
                Platform::WechatChannels if r.chance(0.75) => K::WechatShop,
                Platform::WechatChannels => K::WechatService,
                p => p.live_account(),
            }
        };
        kinds[k as usize] = true;
    }
    kinds
}

/// Connected components of a person's accounts using only non-member evidence:
/// a personal device links all device-carrying accounts, a Douyin union id links
/// the live and 抖店 accounts, a WeChat unionid links the two WeChat accounts.
/// Returns a representative per account kind.
fn components(kinds: &[bool; 6], dy_union: bool, wx_union: bool) -> [usize; 6] {
    let mut rep: [usize; 6] = [0, 1, 2, 3, 4, 5];
    fn find(rep: &mut [usize; 6], x: usize) -> usize {
        let mut x = x;
        while rep[x] != x {
            x = rep[x];
        }
        x
    }
    let mut union = |a: AccountKind, b: AccountKind| {
        if kinds[a as usize] && kinds[b as usize] {
            let ra = find(&mut rep, a as usize);
            let rb = find(&mut rep, b as usize);
            rep[ra.max(rb)] = ra.min(rb);
        }
    };
    union(AccountKind::DouyinLive, AccountKind::Kuaishou);
    union(AccountKind::DouyinLive, AccountKind::Taobao);
    union(AccountKind::Kuaishou, AccountKind::Taobao);
    if dy_union {
        union(AccountKind::DouyinLive, AccountKind::Doudian);
    }
    if wx_union {
        union(AccountKind::WechatShop, AccountKind::WechatService);
    }
    let mut out = [0usize; 6];
    for (i, o) in out.iter_mut().enumerate() {
        *o = find(&mut rep, i);
    }
    out
}

/// Draws a membership: the phone (hashed), sign-up time and bound accounts. Every
/// group of accounts that no other evidence links gets a bound account (with
/// probability [`BIND_REPAIR_RATE`]).
fn make_member(w: &World, r: &mut Rng, gidx: u64, kinds: &[bool; 6], comp: &[usize; 6]) -> Member {
    let mut id = String::with_capacity(13);
    let _ = write!(
        id,
        "M{}",
        100_000_000_000 + scramble(gidx, 36, hash2(w.seed, 0x3e3))
    );
    let phone = phone_of(w.seed, gidx);
    let phone_key = hmac_hex(&w.phone_key, phone.as_bytes());
    let since_ms = if r.chance(0.8) {
        w.start_ms() - r.range(DAY_MS, 720 * DAY_MS)
    } else {
        w.start_ms() + r.range(0, w.window_ms() - 1)
    };
    let mut bound = [false; 6];
    for k in 0..6 {
        bound[k] = kinds[k] && r.chance(BIND_RATE);
    }
    for k in 0..6 {
        if kinds[k] && comp[k] == k {
            let members: Vec<usize> = (0..6).filter(|&j| kinds[j] && comp[j] == k).collect();
            if !members.iter().any(|&j| bound[j]) && r.chance(BIND_REPAIR_RATE) {
                bound[members[r.below(members.len() as u64) as usize]] = true;
            }
        }
    }
    if !bound.iter().any(|&b| b) {
        let ks: Vec<usize> = (0..6).filter(|&j| kinds[j]).collect();
        bound[ks[r.below(ks.len() as u64) as usize]] = true;
    }
    // The first bound account (in random order) is bound at sign-up, the others later.
    let mut order: Vec<usize> = (0..6).filter(|&j| bound[j]).collect();
    for i in (1..order.len()).rev() {
        let j = r.below(i as u64 + 1) as usize;
        order.swap(i, j);
    }
    let primary = AccountKind::ALL[order[0]];
    let mut at = [None; 6];
    for (n, &k) in order.iter().enumerate() {
        let t = if n == 0 {
            since_ms
        } else {
            let latest = w.end_ms() - MINUTE_MS;
            let t = since_ms + r.range(MINUTE_MS, 90 * DAY_MS);
            if t < latest {
                t
            } else {
                since_ms + r.range(0, (latest - since_ms).max(0))
            }
        };
        at[k] = Some(t);
    }
    Member {
        id,
        phone_key,
        since_ms,
        bound: at,
        primary,
    }
}

/// Consents per channel: members consent on the channels of the accounts they
/// bound (and SMS), service-account followers consent to service messages. About
/// 5% of consents are withdrawn during the window.
fn make_channels(
    w: &World,
    r: &mut Rng,
    kinds: &[bool; 6],
    member: Option<&Member>,
) -> [ChannelState; 4] {
    let mut ch: [ChannelState; 4] = std::array::from_fn(|_| ChannelState::none());
    let bound = |k: AccountKind| member.and_then(|m| m.bound[k as usize]);
    // Service-account followers: everyone who follows consents to service messages.
    if kinds[AccountKind::WechatService as usize] {
        let granted = match bound(AccountKind::WechatService) {
            Some(t) => t + r.range(MINUTE_MS, 30 * MINUTE_MS),
            None if r.chance(0.85) => w.start_ms() - r.range(DAY_MS, 1000 * DAY_MS),
            None => w.start_ms() + r.range(0, w.window_ms() - 1),
        };
        set(
            &mut ch[Channel::WechatService as usize],
            AccountKind::WechatService,
            granted,
        );
    }
    if let Some(m) = member {
        if let Some(t) = bound(AccountKind::WechatShop)
            && r.chance(0.85)
        {
            set(
                &mut ch[Channel::Wecom as usize],
                AccountKind::WechatShop,
                t + r.range(MINUTE_MS, 60 * MINUTE_MS),
            );
        }
        if let Some(t) = bound(AccountKind::DouyinLive)
            && r.chance(0.85)
        {
            set(
                &mut ch[Channel::DouyinDm as usize],
                AccountKind::DouyinLive,
                t + r.range(MINUTE_MS, 60 * MINUTE_MS),
            );
        }
        if r.chance(0.9) {
            set(
                &mut ch[Channel::Sms as usize],
                m.primary,
                m.since_ms + r.range(MINUTE_MS, 10 * MINUTE_MS),
            );
        }
    }
    for c in ch.iter_mut() {
        if c.account.is_some() && r.chance(0.05) {
            let from = c.granted_ms.max(w.start_ms());
            if from < w.end_ms() {
                c.withdrawn_ms = r.range(from, w.end_ms() - 1);
            }
        }
    }
    ch
}

fn set(c: &mut ChannelState, k: AccountKind, granted_ms: i64) {
    c.account = Some(k);
    c.granted_ms = granted_ms;
}

/// The account id of kind `k` of global person `gidx`, in the platform's format.
pub fn account_id(seed: u64, gidx: u64, k: AccountKind) -> String {
    let v = mix64(((gidx << 3) | k as u64) ^ hash2(seed, 0xacc));
    let mut s = String::with_capacity(40);
    match k {
        AccountKind::DouyinLive => {
            s.push_str("_000");
            push_token(&mut s, v, 32, Alphabet::Base64);
        }
        AccountKind::Doudian => {
            s.push_str("1@#");
            push_token(&mut s, v, 36, Alphabet::Base64);
        }
        AccountKind::Kuaishou => push_token(&mut s, v, 32, Alphabet::Hex),
        AccountKind::WechatShop | AccountKind::WechatService => {
            s.push('o');
            push_token(&mut s, v, 27, Alphabet::Base64);
        }
        AccountKind::Taobao => {
            s.push_str("AAH");
            push_token(&mut s, v, 21, Alphabet::Base64);
        }
    }
    s
}

/// The E.164 mobile number of global person `gidx` (a bijection, so no two
/// members share a phone). Never written anywhere: only its HMAC is.
pub fn phone_of(seed: u64, gidx: u64) -> String {
    const SPACE: u64 = PHONE_PREFIXES.len() as u64 * 100_000_000;
    // 1_000_000_007 is prime and does not divide SPACE, so this is a permutation.
    let y = ((gidx % SPACE) as u128 * 1_000_000_007u128 + (mix64(seed) % SPACE) as u128)
        % SPACE as u128;
    let y = y as u64;
    format!(
        "+86{}{:08}",
        PHONE_PREFIXES[(y / 100_000_000) as usize],
        y % 100_000_000
    )
}

/// Lower-case hex HMAC-SHA256 of `msg` under `key`.
pub fn hmac_hex(key: &[u8], msg: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    };
    mac.update(msg);
    let bytes = mac.finalize().into_bytes();
    let mut s = String::with_capacity(64);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Expected number of categories in [`CATEGORIES`] (compile-time check helper).
const _: () = assert!(CATEGORY_WEIGHTS.len() == CATEGORIES.len());

#[cfg(test)]
mod tests {
    use super::*;
    use crate::GenConfig;
    use crate::ids::longest_digit_run;
    use std::collections::HashSet;

    #[test]
    fn phones_are_unique_mobile_numbers() {
        let mut seen = HashSet::new();
        for g in 0..200_000u64 {
            let p = phone_of(7, g);
            let b = p.as_bytes();
            assert_eq!(b.len(), 14, "{p}");
            assert!(
                p.starts_with("+861") && (b'3'..=b'9').contains(&b[4]),
                "{p}"
            );
            assert!(b[3..].iter().all(u8::is_ascii_digit));
            assert!(seen.insert(p));
        }
    }

    #[test]
    fn account_ids_look_right_and_are_unique() {
        let mut seen = HashSet::new();
        for g in 0..20_000u64 {
            for k in AccountKind::ALL {
                let id = account_id(7, g, k);
                let ok = match k {
                    AccountKind::DouyinLive => id.starts_with("_000") && id.len() == 36,
                    AccountKind::Doudian => id.starts_with("1@#") && id.len() == 39,
                    AccountKind::Kuaishou => id.len() == 32,
                    AccountKind::WechatShop | AccountKind::WechatService => {
                        id.starts_with('o') && id.len() == 28
                    }
                    AccountKind::Taobao => id.starts_with("AAH") && id.len() == 24,
                };
                assert!(ok, "{k:?} {id}");
                assert!(longest_digit_run(&id) <= 10, "{id}");
                assert!(seen.insert(id));
            }
        }
    }

    #[test]
    fn account_draws_respect_count_and_tablet() {
        let mut r = Rng::new(5);
        for n in 1..=4 {
            for _ in 0..2_000 {
                let tablet = [None, Some(AccountKind::Kuaishou)][r.below(2) as usize];
                let kinds = draw_accounts(&mut r, n, tablet);
                assert_eq!(kinds.iter().filter(|&&k| k).count(), n);
                if let Some(t) = tablet {
                    assert!(kinds[t as usize]);
                }
            }
        }
    }

    #[test]
    fn members_bind_an_account_of_every_unlinked_group() {
        let cfg = GenConfig {
            persons: 5_000,
            ..GenConfig::default()
        };
        let w = World::new(&cfg);
        let pop = build_population(&w, 0, 0, 5_000);
        let (mut members, mut unlinked) = (0, 0);
        for person in &pop.persons {
            let p = &person.profile;
            let kinds: [bool; 6] = std::array::from_fn(|k| p.accounts[k].is_some());
            let comp = components(&kinds, p.dy_union.is_some(), p.wx_union.is_some());
            let groups: HashSet<usize> = (0..6).filter(|&k| kinds[k]).map(|k| comp[k]).collect();
            match &p.member {
                Some(m) => {
                    members += 1;
                    for g in &groups {
                        if !(0..6).any(|k| kinds[k] && comp[k] == *g && m.bound[k].is_some()) {
                            unlinked += 1;
                        }
                    }
                }
                None if groups.len() > 1 => unlinked += 1,
                None => {}
            }
        }
        let share = members as f64 / 5_000.0;
        assert!((0.31..0.39).contains(&share), "member share {share}");
        assert!(
            unlinked < 5_000 / 100,
            "{unlinked} persons with unlinkable accounts"
        );
        let in_households: u32 = pop.households.iter().map(|h| h.size).sum();
        assert!(
            (250..550).contains(&in_households),
            "{in_households} persons in households"
        );
    }
}
