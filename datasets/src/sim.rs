//! The behaviour model: what a person does on a day.
//!
//! Per day and platform a person attends a few live sessions (mostly in their
//! active slot). A session is `enter → likes / comments / shares / gifts /
//! follows → product clicks → add to cart → orders → leave`. Orders go to the
//! platform watched or, for some people, to another platform they buy on. The
//! brand sends touches on its campaign days to the accounts that consented;
//! intolerant people who get too many react with negative feedback.

use crate::calendar::{DAY_MS, HOUR_MS, MINUTE_MS};
use crate::catalog::{
    AccountKind, CATEGORIES, Channel, HOUR_WEIGHTS, PROVINCES, Platform, SLOTS, slot_of_hour,
};
use crate::feeds::{
    FeedbackKind, FeedbackRow, LiveKind, LiveRow, OrderRow, OrderStatus, Sink, TouchRow,
};
use crate::model::{Household, Profile, State};
use crate::rng::Rng;
use crate::world::{Show, World};

/// Junk device ids seen in the wild (index = bit in `State::junk_seen`).
pub const JUNK_DEVICE_IDS: [&str; 5] = [
    "00000000-0000-0000-0000-000000000000",
    "unknown",
    "null",
    "",
    "-1",
];

/// Share of sessions that start in the person's active slot.
const SLOT_SHARE: f64 = 0.75;
/// Share of a household member's sessions (on the tablet's app) watched on the family tablet.
const TABLET_SHARE: f64 = 0.3;
/// Share of device-carrying rows with a junk device id.
const JUNK_ROW_RATE: f64 = 0.03;
/// Share of device-carrying rows without a device id.
const NULL_DEVICE_RATE: f64 = 0.04;
/// Share of a Douyin person's live rows that carry their union id.
const DOUYIN_UNION_ROW_RATE: f64 = 0.92;
/// Share of a Douyin person's 抖店 order rows that carry their union id.
const DOUDIAN_UNION_ROW_RATE: f64 = 0.98;
/// Share of a WeChat person's rows that carry their unionid.
const WECHAT_UNION_ROW_RATE: f64 = 0.97;
/// Duplicate deliveries of Douyin live_push rows.
const DUP_RATE_DOUYIN_LIVE: f64 = 0.01;
/// Duplicate deliveries of the other raw feeds' rows.
const DUP_RATE_OTHER: f64 = 0.003;
/// Share of sessions with product clicks (times the person's propensity).
const CLICK_RATE: f64 = 0.35;
/// Probability a clicked product is added to the cart (before price / brand effects).
const CART_RATE: f64 = 0.34;
/// Probability a cart item is ordered.
const ORDER_RATE: f64 = 0.55;
/// Probability an order is paid.
const PAY_RATE: f64 = 0.85;
/// Probability a paid order is refunded 1–7 days later.
const REFUND_RATE: f64 = 0.05;
/// Daily probability of an order outside lives, per order account.
const DIRECT_ORDER_RATE: f64 = 0.008;
/// Share of consenting accounts a campaign targets.
const TOUCH_TARGET_RATE: f64 = 0.75;
/// Touches in a rolling week on one channel above which intolerant people react.
const TOUCH_WEEKLY_LIMIT: usize = 2;
/// Probability an intolerant person reacts to a touch above the limit.
const INTOLERANT_REACTION: f64 = 0.7;

/// Reusable buffers.
#[derive(Default)]
pub struct Scratch {
    events: Vec<SessionEvent>,
    orders: Vec<PendingOrder>,
}

#[derive(Clone, Copy)]
struct SessionEvent {
    t: i64,
    seq: u16,
    kind: LiveKind,
    likes: u32,
    gift_fen: i64,
    product: Option<u16>,
}

#[derive(Clone, Copy)]
struct PendingOrder {
    product: u16,
    discount_pct: i64,
    t: i64,
}

/// Simulates one day of a chunk.
pub struct DaySim<'a> {
    /// Shared context.
    pub world: &'a World,
    /// Households of the chunk.
    pub households: &'a [Household],
    /// Output.
    pub sink: &'a mut Sink,
    /// Buffers.
    pub scratch: &'a mut Scratch,
    /// Window day index.
    pub day: u32,
}

/// The next unique row code of a person.
fn next_code(p: &Profile, st: &mut State) -> u64 {
    let c = (p.gidx << 24) | st.row_seq as u64;
    st.row_seq += 1;
    c
}

fn smoothstep(lo: f64, hi: f64, x: f64) -> f64 {
    let t = ((x - lo) / (hi - lo)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

impl DaySim<'_> {
    /// Everything person `local` of the chunk does today.
    pub fn person_day(&mut self, p: &Profile, st: &mut State, local: usize) {
        self.sessions(p, st, local);
        self.direct_orders(p, st, local);
        self.touches(p, st, local);
    }

    fn sessions(&mut self, p: &Profile, st: &mut State, local: usize) {
        let day = self.day as usize;
        for plat in Platform::ALL {
            let acct = plat.live_account();
            if !p.has(acct) || !p.active_on(plat, self.day) {
                continue;
            }
            let lambda =
                (p.activity * p.plat_weight[plat as usize] * self.world.day_factor[day]).min(3.6);
            let n = st.rng.binomial(4, lambda / 4.0);
            let forced = self.day == p.anchor[acct as usize] && st.seen & (1 << acct as u8) == 0;
            for i in 0..n.max(forced as u32) {
                self.session(p, st, local, plat, forced && i == 0);
            }
        }
    }

    /// One live session on `plat`. A `forced` session (an account's anchor day)
    /// is watched on the personal device.
    fn session(&mut self, p: &Profile, st: &mut State, local: usize, plat: Platform, forced: bool) {
        let w = self.world;
        let day = self.day as usize;
        let acct = plat.live_account();
        let r = &mut st.rng;
        let hour = if forced || r.chance(SLOT_SHARE) {
            let (_, lo, hi) = SLOTS[p.slot as usize];
            r.range(lo as i64, hi as i64)
        } else {
            r.weighted(&HOUR_WEIGHTS) as i64
        };
        let t0 = w.day_start_ms[day] + hour * HOUR_MS + r.below(HOUR_MS as u64) as i64;
        let show = &w.shows[day][plat as usize][slot_of_hour(hour as u32)];
        let device: Option<&str> = if acct.carries_device() {
            match p.household.map(|h| &self.households[h as usize]) {
                Some(h)
                    if !forced
                        && h.tablet == acct
                        && r.chance((TABLET_SHARE * w.identity_noise).min(1.0)) =>
                {
                    Some(h.device.as_str())
                }
                _ => p.device.as_deref(),
            }
        } else {
            None
        };
        let personal = device.is_some() && device == p.device.as_deref();

        let mut dur = session_duration(r);
        let ev = &mut self.scratch.events;
        let orders = &mut self.scratch.orders;
        ev.clear();
        orders.clear();
        let mut seq = 0u16;
        let mut push = |ev: &mut Vec<SessionEvent>, t: i64, kind: LiveKind| {
            ev.push(SessionEvent {
                t,
                seq,
                kind,
                likes: 0,
                gift_fen: 0,
                product: None,
            });
            seq += 1;
            ev.len() - 1
        };
        push(ev, t0, LiveKind::Enter);
        let clicks = r.chance((CLICK_RATE * p.propensity).min(0.95));
        if clicks {
            dur = dur.max(2 * MINUTE_MS + r.below(5 * MINUTE_MS as u64) as i64);
        }
        for _ in 0..r.geometric(0.5, 30) {
            let i = push(ev, t0 + r.below(dur as u64) as i64, LiveKind::Like);
            ev[i].likes = 1 + r.geometric(0.85, 300);
        }
        for _ in 0..r.geometric(0.25, 20) {
            push(ev, t0 + r.below(dur as u64) as i64, LiveKind::Comment);
        }
        if r.chance(0.05) {
            push(ev, t0 + r.below(dur as u64) as i64, LiveKind::Share);
        }
        let gift_rate = match plat {
            Platform::Douyin => 0.04,
            Platform::Kuaishou => 0.07,
            _ => 0.0,
        };
        if gift_rate > 0.0 && r.chance(gift_rate) {
            let i = push(ev, t0 + r.below(dur as u64) as i64, LiveKind::Gift);
            const COINS: [(i64, u32); 8] = [
                (1, 40),
                (9, 20),
                (52, 14),
                (99, 10),
                (199, 8),
                (520, 4),
                (1314, 2),
                (3000, 2),
            ];
            ev[i].gift_fen = COINS[r.weighted(&COINS.map(|c| c.1))].0 * 10;
        }
        let bit = 1u8 << plat as u8;
        if st.following & bit == 0 {
            if r.chance(0.04) {
                push(ev, t0 + r.below(dur as u64) as i64, LiveKind::Follow);
                st.following |= bit;
            }
        } else if r.chance(0.004) {
            push(ev, t0 + r.below(dur as u64) as i64, LiveKind::Unfollow);
            st.following &= !bit;
        }
        if clicks {
            for _ in 0..1 + r.geometric(0.4, 8) {
                let product = choose_product(w, p, r);
                let discount_pct = draw_discount(p, r);
                let t_click = t0 + r.below(dur as u64) as i64;
                let i = push(ev, t_click, LiveKind::ProductClick);
                ev[i].product = Some(product);
                if r.chance(cart_probability(w, p, product, discount_pct)) {
                    let t_cart = t_click + r.below((t0 + dur - t_click).max(1) as u64) as i64;
                    let i = push(ev, t_cart, LiveKind::AddCart);
                    ev[i].product = Some(product);
                    if r.chance(ORDER_RATE) {
                        orders.push(PendingOrder {
                            product,
                            discount_pct,
                            t: t_cart + r.range(10_000, 10 * MINUTE_MS),
                        });
                    }
                }
            }
        }
        push(ev, t0 + dur, LiveKind::Leave);
        ev.sort_unstable_by_key(|e| (e.t, e.seq));

        let union = match plat {
            Platform::Douyin => p.dy_union.as_deref(),
            Platform::WechatChannels => p.wx_union.as_deref(),
            _ => None,
        };
        let union_rate = if plat == Platform::Douyin {
            DOUYIN_UNION_ROW_RATE
        } else {
            WECHAT_UNION_ROW_RATE
        };
        let dup_rate = if plat == Platform::Douyin {
            DUP_RATE_DOUYIN_LIVE
        } else {
            DUP_RATE_OTHER
        };
        let account_id = p.accounts[acct as usize].as_deref().unwrap_or_default();
        let junk_rate = (JUNK_ROW_RATE * w.identity_noise).min(1.0 - NULL_DEVICE_RATE);
        for i in 0..self.scratch.events.len() {
            let e = self.scratch.events[i];
            let code = next_code(p, st);
            let r = &mut st.rng;
            let row_union = union.filter(|_| r.chance(union_rate));
            let row_device = match device {
                Some(d) => {
                    let x = r.f64();
                    if x < junk_rate {
                        let j = r.below(JUNK_DEVICE_IDS.len() as u64) as usize;
                        st.junk_seen |= 1 << j;
                        Some(JUNK_DEVICE_IDS[j])
                    } else if x < junk_rate + NULL_DEVICE_RATE {
                        None
                    } else {
                        Some(d)
                    }
                }
                None => None,
            };
            let dup = st.rng.chance(dup_rate);
            let row = LiveRow {
                kind: e.kind,
                code,
                account_id,
                union_id: row_union,
                show,
                t_ms: e.t,
                likes: e.likes,
                gift_fen: e.gift_fen,
                watch_ms: dur,
                product: e.product.map(|i| &w.catalog.products[i as usize]),
                device: row_device,
            };
            let kept = self.sink.live(local, acct, &row, dup);
            let evidence = if acct.carries_device() {
                personal && row_device.is_some() && row_device == p.device.as_deref()
            } else {
                true
            };
            if kept && evidence {
                st.seen |= 1 << acct as u8;
            }
        }
        for i in 0..self.scratch.orders.len() {
            let o = self.scratch.orders[i];
            self.route_order(p, st, local, plat, o, show);
        }
    }

    /// Sends an order placed while watching `watched` to the platform it is
    /// bought on (or drops it when the person cannot buy anywhere).
    fn route_order(
        &mut self,
        p: &Profile,
        st: &mut State,
        local: usize,
        watched: Platform,
        o: PendingOrder,
        show: &Show,
    ) {
        let own_ok = p.has(watched.order_account()) && p.active_on(watched, self.day);
        let mut others = [Platform::Douyin; 4];
        let mut n_others = 0;
        for q in Platform::ALL {
            if q != watched && p.has(q.order_account()) && p.active_on(q, self.day) {
                others[n_others] = q;
                n_others += 1;
            }
        }
        let r = &mut st.rng;
        let cross = n_others > 0
            && if own_ok {
                r.chance(p.cross_buy)
            } else {
                r.chance(0.35)
            };
        if cross {
            let others = &others[..n_others];
            let target = if others.contains(&Platform::TaobaoLive) && r.chance(0.7) {
                Platform::TaobaoLive
            } else {
                others[r.below(n_others as u64) as usize]
            };
            let t = o.t + r.range(5 * MINUTE_MS, 6 * HOUR_MS);
            self.emit_order(
                p,
                st,
                local,
                target,
                o.product,
                o.discount_pct,
                t,
                None,
                false,
            );
        } else if own_ok {
            self.emit_order(
                p,
                st,
                local,
                watched,
                o.product,
                o.discount_pct,
                o.t,
                Some(show),
                false,
            );
        }
    }

    /// Orders outside lives (shop pages, short videos), and the anchor order of
    /// a 抖店 account that has not ordered yet.
    fn direct_orders(&mut self, p: &Profile, st: &mut State, local: usize) {
        let w = self.world;
        for plat in Platform::ALL {
            let acct = plat.order_account();
            if !p.has(acct) || !p.active_on(plat, self.day) {
                continue;
            }
            let forced = acct == AccountKind::Doudian
                && self.day == p.anchor[acct as usize]
                && st.seen & (1 << acct as u8) == 0;
            let rate = DIRECT_ORDER_RATE * p.propensity * w.day_factor[self.day as usize];
            if forced || st.rng.chance(rate) {
                let r = &mut st.rng;
                let product = choose_product(w, p, r);
                let discount_pct = draw_discount(p, r);
                let hour = if r.chance(SLOT_SHARE) {
                    let (_, lo, hi) = SLOTS[p.slot as usize];
                    r.range(lo as i64, hi as i64)
                } else {
                    r.weighted(&HOUR_WEIGHTS) as i64
                };
                let t = w.day_start_ms[self.day as usize]
                    + hour * HOUR_MS
                    + r.below(HOUR_MS as u64) as i64;
                self.emit_order(p, st, local, plat, product, discount_pct, t, None, forced);
            }
        }
    }

    /// Writes the status rows of one order: created, paid (85%), refunded (5% of paid).
    #[allow(clippy::too_many_arguments)]
    fn emit_order(
        &mut self,
        p: &Profile,
        st: &mut State,
        local: usize,
        plat: Platform,
        product: u16,
        discount_pct: i64,
        t: i64,
        show: Option<&Show>,
        must_pay: bool,
    ) {
        let w = self.world;
        let acct = plat.order_account();
        let Some(account_id) = p.accounts[acct as usize].as_deref() else {
            return;
        };
        let prod = &w.catalog.products[product as usize];
        // Rounded up to 10 fen, so a 15% promotion is never below 15% of list.
        let discount_fen = (prod.list_fen * discount_pct + 999) / 1000 * 10;
        let amount_fen = prod.list_fen - discount_fen;
        let order_code = (p.gidx << 20) | st.order_seq as u64;
        st.order_seq += 1;
        let r = &mut st.rng;
        let province = if r.chance(0.95) {
            PROVINCES[p.province as usize].0
        } else {
            PROVINCES[r.weighted(&PROVINCES.map(|x| x.1))].0
        };
        let paid = must_pay || r.chance(PAY_RATE);
        let t_pay = t + r.range(10_000, 15 * MINUTE_MS);
        let refunded = paid && r.chance(REFUND_RATE);
        let t_refund = t_pay + r.range(DAY_MS, 7 * DAY_MS);
        let (union, union_rate) = match plat {
            Platform::Douyin => (p.dy_union.as_deref(), DOUDIAN_UNION_ROW_RATE),
            Platform::WechatChannels => (p.wx_union.as_deref(), WECHAT_UNION_ROW_RATE),
            _ => (None, 0.0),
        };
        let mut row = OrderRow {
            status: OrderStatus::Created,
            order_code,
            account_id,
            union_id: None,
            create_ms: t,
            pay_ms: None,
            update_ms: t,
            amount_fen,
            discount_fen,
            product: prod,
            show,
            province,
        };
        let mut steps = [(OrderStatus::Created, None, t); 3];
        let mut n = 1;
        if paid {
            steps[n] = (OrderStatus::Paid, Some(t_pay), t_pay);
            n += 1;
        }
        if refunded {
            steps[n] = (OrderStatus::Refunded, Some(t_pay), t_refund);
            n += 1;
        }
        for &(status, pay_ms, update_ms) in &steps[..n] {
            let r = &mut st.rng;
            row.status = status;
            row.pay_ms = pay_ms;
            row.update_ms = update_ms;
            row.union_id = union.filter(|_| r.chance(union_rate));
            let dup = r.chance(DUP_RATE_OTHER);
            // Orders carry no device: they only count as evidence for accounts
            // that never carry one.
            if self.sink.order(local, acct, &row, dup) && !acct.carries_device() {
                st.seen |= 1 << acct as u8;
            }
        }
    }

    /// The brand's campaigns of the day reaching this person.
    fn touches(&mut self, p: &Profile, st: &mut State, local: usize) {
        let w = self.world;
        let end = w.end_ms();
        for c in Channel::ALL {
            let Some(camp) = &w.campaigns[self.day as usize][c as usize] else {
                continue;
            };
            let Some(acct) = st.channels[c as usize].account else {
                continue;
            };
            let t = camp.send_ms + st.rng.below(30 * MINUTE_MS as u64) as i64;
            {
                let cs = &st.channels[c as usize];
                if !(cs.granted_ms <= t && t < cs.withdrawn_ms && t < cs.suppressed_ms) {
                    continue;
                }
            }
            // A service-account follower not reached yet is targeted for sure from
            // their anchor day on (the service account only shows up in touches).
            let bit = 1u8 << acct as u8;
            let forced = acct == AccountKind::WechatService
                && st.seen & bit == 0
                && self.day >= p.anchor[acct as usize];
            if !st.rng.chance(TOUCH_TARGET_RATE) && !forced {
                continue;
            }
            let r = &mut st.rng;
            let open_factor = [1.0, 1.2, 0.9, 0.6][c as usize];
            let opened = r.chance((0.12 + 0.5 * p.tolerance) * open_factor).then(|| {
                t + if r.chance(0.6) {
                    r.range(MINUTE_MS, 20 * MINUTE_MS)
                } else {
                    r.range(20 * MINUTE_MS, 8 * HOUR_MS)
                }
            });
            let clicked = opened
                .filter(|_| r.chance(0.1 + 0.35 * p.tolerance))
                .map(|o| o + r.range(5_000, 5 * MINUTE_MS));
            let opened = opened.filter(|&x| x < end);
            let clicked = clicked.filter(|&x| x < end);
            let union_id = if acct.platform() == Platform::WechatChannels {
                p.wx_union.as_deref()
            } else {
                None
            };
            let account_id = p.accounts[acct as usize].as_deref().unwrap_or_default();
            let code = next_code(p, st);
            if acct == AccountKind::WechatService {
                st.seen |= bit;
            }
            self.sink.touch(
                local,
                &TouchRow {
                    code,
                    channel: c,
                    account: acct,
                    account_id,
                    union_id,
                    campaign: &camp.name,
                    sent_ms: t,
                    opened_ms: opened,
                    clicked_ms: clicked,
                },
            );
            // Rolling week on this channel, this touch included.
            let cs = &mut st.channels[c as usize];
            cs.recent[cs.recent_pos as usize] = t;
            cs.recent_pos = (cs.recent_pos + 1) % cs.recent.len() as u8;
            let in_week = cs.recent.iter().filter(|&&x| x > t - 7 * DAY_MS).count();
            let p_feedback = if in_week > TOUCH_WEEKLY_LIMIT {
                if p.tolerance < 0.3 {
                    INTOLERANT_REACTION
                } else {
                    0.02 * (1.0 - p.tolerance)
                }
            } else {
                0.001
            };
            let r = &mut st.rng;
            if r.chance(p_feedback) {
                let weights: [u32; 3] = match c {
                    Channel::WechatService => [60, 30, 10],
                    Channel::Wecom => [40, 45, 15],
                    Channel::DouyinDm => [20, 55, 25],
                    Channel::Sms => [75, 10, 15],
                };
                let kind = [
                    FeedbackKind::Unsubscribe,
                    FeedbackKind::Block,
                    FeedbackKind::Report,
                ][r.weighted(&weights)];
                let ts = opened.unwrap_or(t) + r.range(30_000, 3 * HOUR_MS);
                let code = next_code(p, st);
                let kept = self.sink.feedback(
                    local,
                    &FeedbackRow {
                        code,
                        kind,
                        channel: c,
                        account: acct,
                        account_id,
                        ts_ms: ts,
                    },
                );
                if kept {
                    let cs = &mut st.channels[c as usize];
                    cs.suppressed_ms = cs.suppressed_ms.min(ts);
                    if kind == FeedbackKind::Unsubscribe {
                        cs.withdrawn_ms = cs.withdrawn_ms.min(ts);
                    }
                }
            }
        }
    }
}

/// Session length in ms: many short visits, a long tail of long ones.
fn session_duration(r: &mut Rng) -> i64 {
    let x = r.f64();
    let (lo, hi) = if x < 0.40 {
        (20_000, 3 * MINUTE_MS)
    } else if x < 0.75 {
        (3 * MINUTE_MS, 15 * MINUTE_MS)
    } else if x < 0.93 {
        (15 * MINUTE_MS, 45 * MINUTE_MS)
    } else {
        (45 * MINUTE_MS, 150 * MINUTE_MS)
    };
    r.range(lo, hi)
}

/// Picks a product: categories follow preferences, the brand follows loyalty.
fn choose_product(w: &World, p: &Profile, r: &mut Rng) -> u16 {
    let cat_w = [60u32, 28, 12];
    let mut cat = if r.chance(0.88) {
        p.categories[r.weighted(&cat_w[..p.n_categories as usize])]
    } else {
        r.below(CATEGORIES.len() as u64) as u8
    } as usize;
    let pref = p.preferred_brand as usize;
    let lines = &w.catalog.lines;
    if p.loyal() && lines[pref][cat].is_empty() && r.chance(0.85) {
        // Loyal people mostly shop the categories their brand sells.
        if let Some(&c) = p.categories[..p.n_categories as usize]
            .iter()
            .find(|&&c| !lines[pref][c as usize].is_empty())
        {
            cat = c as usize;
        }
    }
    let p_pref = if p.loyal() {
        0.82 + 0.15 * (p.brand_loyalty - 0.7) / 0.3
    } else {
        0.1 + 0.5 * p.brand_loyalty
    };
    let brand = if !lines[pref][cat].is_empty() && r.chance(p_pref) {
        pref
    } else {
        let bs = &w.catalog.brands_of[cat];
        bs[r.below(bs.len() as u64) as usize] as usize
    };
    let line = &lines[brand][cat];
    line[r.below(line.len() as u64) as usize]
}

/// Discount (percent of list price) of the offer a person looks at: price-sensitive
/// people mostly look at promotions.
fn draw_discount(p: &Profile, r: &mut Rng) -> i64 {
    let q = 0.15 + 0.8 * smoothstep(0.45, 0.75, p.price_sensitivity);
    if r.chance(q) {
        15 + 5 * r.below(8) as i64
    } else {
        0
    }
}

/// Probability of adding a clicked product to the cart.
fn cart_probability(w: &World, p: &Profile, product: u16, discount_pct: i64) -> f64 {
    let price = if discount_pct > 0 {
        1.0
    } else {
        (1.8 - 2.5 * p.price_sensitivity).clamp(0.1, 1.0)
    };
    let brand = if p.loyal() {
        if w.catalog.products[product as usize].brand == p.preferred_brand {
            1.15
        } else {
            0.35
        }
    } else {
        1.0
    };
    (CART_RATE * price * brand).min(0.95)
}
