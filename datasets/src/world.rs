//! Everything shared by all chunks: the calendar of the window, the catalog, the
//! brand's live shows and its touch campaigns. All of it is derived from the
//! configuration alone, so chunks can be generated independently.

use crate::GenConfig;
use crate::calendar::{
    DAY_MS, HOUR_MS, MINUTE_MS, beijing_midnight_ms, civil_from_days, days_from_civil, weekday,
};
use crate::catalog::{Catalog, Channel, SLOTS};
use crate::ids::scramble;
use crate::rng::{Rng, hash2, hash3};

/// One live show of the brand on one platform: its id as a number and as text
/// (which of the two a feed uses depends on the platform).
#[derive(Clone, Debug)]
pub struct Show {
    /// Numeric id (Douyin room id, Kuaishou liveStreamId).
    pub num: i64,
    /// Text id (Douyin `roomid`, WeChat / Taobao `live_id`).
    pub text: String,
}

/// A touch campaign sent on one channel on one day.
#[derive(Clone, Debug)]
pub struct Campaign {
    /// Send time (epoch ms) of the first message; recipients get theirs within 30 minutes.
    pub send_ms: i64,
    /// Campaign name.
    pub name: String,
}

/// Campaign themes.
const THEMES: [&str; 10] = [
    "国庆焕新",
    "秋季上新",
    "会员日",
    "直播预告",
    "限时秒杀",
    "新品试用",
    "双11预售",
    "积分兑换",
    "老客回馈",
    "满减券",
];

/// Probability that a channel runs a campaign on a given day, and its hour.
const CAMPAIGN_RATE: [(f64, i64); 4] = [
    (3.0 / 7.0, 20),
    (2.0 / 7.0, 11),
    (2.0 / 7.0, 19),
    (1.0 / 7.0, 10),
];

/// Shared, read-only generation context.
#[derive(Debug)]
pub struct World {
    /// Master seed.
    pub seed: u64,
    /// Number of days.
    pub days: u32,
    /// Day number (since 1970-01-01) of the first day.
    pub start_day: i64,
    /// Epoch ms of Beijing midnight of each day, plus one extra entry for the end.
    pub day_start_ms: Vec<i64>,
    /// Activity multiplier of each day (weekends, shopping festivals).
    pub day_factor: Vec<f64>,
    /// The product catalog.
    pub catalog: Catalog,
    /// `shows[day][platform][slot]`.
    pub shows: Vec<[[Show; 6]; 4]>,
    /// `campaigns[day][channel]`.
    pub campaigns: Vec<[Option<Campaign>; 4]>,
    /// Key of the phone HMAC.
    pub phone_key: Vec<u8>,
    /// [`GenConfig::identity_noise`].
    pub identity_noise: f64,
}

impl World {
    /// Derives the world of a configuration (which must be valid).
    pub fn new(cfg: &GenConfig) -> World {
        let (y, m, d) = cfg.start_date;
        let start_day = days_from_civil(y, m, d);
        let days = cfg.days;
        let day_start_ms = (0..=days as i64)
            .map(|i| beijing_midnight_ms(start_day + i))
            .collect();
        let day_factor = (0..days as i64)
            .map(|i| day_factor(start_day + i))
            .collect();
        let shows = (0..days as u64)
            .map(|day| {
                std::array::from_fn(|p| {
                    std::array::from_fn(|s| make_show(cfg.seed, day, p as u64, s as u64))
                })
            })
            .collect();
        let campaigns = (0..days as i64)
            .map(|day| {
                std::array::from_fn(|c| {
                    let (rate, hour) = CAMPAIGN_RATE[c];
                    let mut rng = Rng::new(hash3(cfg.seed, 0xca3b, (day as u64) << 2 | c as u64));
                    if !rng.chance(rate) {
                        return None;
                    }
                    let send_ms = beijing_midnight_ms(start_day + day)
                        + hour * HOUR_MS
                        + rng.range(0, 3) * 15 * MINUTE_MS;
                    let (_, mo, dd) = civil_from_days(start_day + day);
                    let theme = THEMES[rng.below(THEMES.len() as u64) as usize];
                    let name = format!("{}-{:02}{:02}-{}", Channel::ALL[c].code(), mo, dd, theme);
                    Some(Campaign { send_ms, name })
                })
            })
            .collect();
        World {
            seed: cfg.seed,
            days,
            start_day,
            day_start_ms,
            day_factor,
            catalog: Catalog::new(cfg.seed),
            shows,
            campaigns,
            phone_key: cfg.phone_key.clone(),
            identity_noise: cfg.identity_noise,
        }
    }

    /// Epoch ms of the end of the window (exclusive).
    pub fn end_ms(&self) -> i64 {
        self.day_start_ms[self.days as usize]
    }

    /// Epoch ms of the start of the window.
    pub fn start_ms(&self) -> i64 {
        self.day_start_ms[0]
    }

    /// Window length in ms.
    pub fn window_ms(&self) -> i64 {
        self.days as i64 * DAY_MS
    }
}

/// Activity multiplier of a calendar day.
fn day_factor(day: i64) -> f64 {
    let (_, m, d) = civil_from_days(day);
    let festival: f64 = match (m, d) {
        (11, 11) => 1.8,
        (11, 10) | (6, 18) => 1.5,
        (12, 12) | (1, 1) => 1.3,
        (10, 1..=7) => 1.2,
        (11, 1..=9) => 1.1,
        _ => 1.0,
    };
    let weekend: f64 = if weekday(day) >= 5 { 1.15 } else { 1.0 };
    festival.max(weekend)
}

/// The show of `platform` (0..4) in `slot` (0..6) on window day `day`.
fn make_show(seed: u64, day: u64, platform: u64, slot: u64) -> Show {
    debug_assert!(slot < SLOTS.len() as u64);
    let code = day << 5 | platform << 3 | slot;
    let salt = hash2(seed, 0x5e0 + platform);
    match platform {
        // Douyin: 19-digit room id starting with 72.
        0 => {
            let num = 7_200_000_000_000_000_000 + scramble(code, 56, salt) as i64;
            Show {
                num,
                text: num.to_string(),
            }
        }
        // Kuaishou: 16-digit numeric liveStreamId.
        1 => {
            let num = 5_100_000_000_000_000 + scramble(code, 48, salt) as i64;
            Show {
                num,
                text: num.to_string(),
            }
        }
        // WeChat Channels: 19-digit live id text.
        2 => {
            let num = 2_050_000_000_000_000_000 + scramble(code, 56, salt) as i64;
            Show {
                num,
                text: num.to_string(),
            }
        }
        // Taobao Live: 12-digit live id text.
        _ => {
            let num = 500_000_000_000 + scramble(code, 36, salt) as i64;
            Show {
                num,
                text: num.to_string(),
            }
        }
    }
}
