//! Static reference data: provinces, categories, brands, the product catalog,
//! platforms, account kinds, touch channels and the unified event vocabulary.

use crate::ids::scramble;
use crate::rng::{Rng, hash2};

/// Provinces (official names as receivers write them) with relative weights.
pub const PROVINCES: [(&str, u32); 31] = [
    ("广东省", 120),
    ("江苏省", 80),
    ("浙江省", 75),
    ("山东省", 70),
    ("河南省", 60),
    ("四川省", 58),
    ("河北省", 48),
    ("湖北省", 45),
    ("湖南省", 44),
    ("福建省", 40),
    ("安徽省", 40),
    ("上海市", 36),
    ("北京市", 35),
    ("陕西省", 30),
    ("江西省", 30),
    ("广西壮族自治区", 30),
    ("云南省", 28),
    ("辽宁省", 28),
    ("重庆市", 25),
    ("山西省", 24),
    ("贵州省", 24),
    ("黑龙江省", 20),
    ("吉林省", 15),
    ("内蒙古自治区", 15),
    ("天津市", 15),
    ("新疆维吾尔自治区", 15),
    ("甘肃省", 14),
    ("海南省", 10),
    ("宁夏回族自治区", 5),
    ("青海省", 5),
    ("西藏自治区", 3),
];

/// Product categories with their list-price range in fen.
pub const CATEGORIES: [(&str, i64, i64); 12] = [
    ("美妆", 5_900, 69_900),
    ("服饰", 4_900, 89_900),
    ("食品", 1_000, 19_900),
    ("母婴", 2_900, 79_900),
    ("家居", 1_900, 99_900),
    ("数码", 19_900, 200_000),
    ("运动", 7_900, 149_900),
    ("珠宝", 29_900, 200_000),
    ("个护", 1_900, 29_900),
    ("酒水", 4_900, 200_000),
    ("图书", 1_000, 14_900),
    ("宠物", 1_900, 39_900),
];

/// Brands and the categories (indices into [`CATEGORIES`]) each one sells.
pub const BRANDS: [(&str, &[u8]); 16] = [
    ("花漾", &[0, 8, 1]),
    ("素研", &[0, 8]),
    ("拾光", &[1, 4, 7]),
    ("森屿", &[4, 1, 11]),
    ("小鹿当家", &[3, 2, 4]),
    ("暖岛", &[3, 1, 8]),
    ("极客派", &[5, 6]),
    ("跃动", &[6, 1, 5]),
    ("金缕", &[7, 1]),
    ("醇田", &[9, 2]),
    ("山野食记", &[2, 9, 11]),
    ("书香门第", &[10, 3, 4]),
    ("毛孩星球", &[11, 2, 4]),
    ("轻氧", &[8, 0, 6]),
    ("云朵", &[1, 3, 4, 8]),
    ("知物", &[5, 10, 4]),
];

/// Products per (brand, category).
const PRODUCTS_PER_LINE: usize = 4;

/// Hours of a Beijing day by slot: `late 0-6, am 7-11, noon 12-13, pm 14-17,
/// prime 18-21, night 22-23`.
pub const SLOTS: [(&str, u32, u32); 6] = [
    ("late", 0, 6),
    ("am", 7, 11),
    ("noon", 12, 13),
    ("pm", 14, 17),
    ("prime", 18, 21),
    ("night", 22, 23),
];

/// How likely a person's active slot is each slot.
pub const SLOT_WEIGHTS: [u32; 6] = [5, 15, 12, 18, 38, 12];

/// Relative audience by hour of day, used for the activity outside a person's slot.
pub const HOUR_WEIGHTS: [u32; 24] = [
    6, 4, 2, 1, 1, 1, 2, 4, 6, 8, 9, 10, 12, 12, 9, 9, 10, 11, 14, 18, 22, 22, 18, 12,
];

/// Slot index of a Beijing hour.
pub fn slot_of_hour(h: u32) -> usize {
    SLOTS
        .iter()
        .position(|&(_, lo, hi)| h >= lo && h <= hi)
        .unwrap_or(5)
}

/// The four platforms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Platform {
    /// Douyin (live push + 抖店 orders).
    Douyin = 0,
    /// Kuaishou.
    Kuaishou = 1,
    /// WeChat Channels.
    WechatChannels = 2,
    /// Taobao Live.
    TaobaoLive = 3,
}

impl Platform {
    /// All platforms in output order.
    pub const ALL: [Platform; 4] = [
        Platform::Douyin,
        Platform::Kuaishou,
        Platform::WechatChannels,
        Platform::TaobaoLive,
    ];

    /// The name used in `platform` columns.
    pub fn name(self) -> &'static str {
        match self {
            Platform::Douyin => "douyin",
            Platform::Kuaishou => "kuaishou",
            Platform::WechatChannels => "wechat_channels",
            Platform::TaobaoLive => "taobao_live",
        }
    }

    /// The account a person watches lives with on this platform.
    pub fn live_account(self) -> AccountKind {
        match self {
            Platform::Douyin => AccountKind::DouyinLive,
            Platform::Kuaishou => AccountKind::Kuaishou,
            Platform::WechatChannels => AccountKind::WechatShop,
            Platform::TaobaoLive => AccountKind::Taobao,
        }
    }

    /// The account that places orders on this platform.
    pub fn order_account(self) -> AccountKind {
        match self {
            Platform::Douyin => AccountKind::Doudian,
            p => p.live_account(),
        }
    }
}

/// Account kinds. The brand's scope (app / appkey / shop) is fixed per kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AccountKind {
    /// Douyin live-room app account (`sec_openid`).
    DouyinLive = 0,
    /// 抖店 shop account (`doudian_open_id`).
    Doudian = 1,
    /// Kuaishou app account (`userOpenId` = `buyerOpenId`).
    Kuaishou = 2,
    /// WeChat Channels shop `openid`.
    WechatShop = 3,
    /// WeChat service account (公众号) follower `openid`.
    WechatService = 4,
    /// Taobao `buyer_open_uid`.
    Taobao = 5,
}

/// Douyin live app id.
pub const DOUYIN_APP_ID: &str = "tt2f8a6c1d9e4b7035";
/// 抖店 shop id.
pub const DOUDIAN_SHOP_ID: i64 = 48_217_593;
/// 抖店 shop id as the account scope string.
pub const DOUDIAN_SHOP_SCOPE: &str = "48217593";
/// Kuaishou appKey.
pub const KUAISHOU_APP_KEY: &str = "ks652093817462905138";
/// WeChat Channels shop appid.
pub const WECHAT_SHOP_APPID: &str = "wx6a3f9d2c81e4b057";
/// WeChat service account (公众号) appid.
pub const WECHAT_SERVICE_APPID: &str = "wx91c5e7a2d34f6b08";
/// Taobao appkey.
pub const TAOBAO_APP_KEY: &str = "34615072";
/// The brand's WeChat Channels account (`finder_id`).
pub const WECHAT_FINDER_ID: &str = "sphA7kQ2mX9e";

impl AccountKind {
    /// All kinds in output order.
    pub const ALL: [AccountKind; 6] = [
        AccountKind::DouyinLive,
        AccountKind::Doudian,
        AccountKind::Kuaishou,
        AccountKind::WechatShop,
        AccountKind::WechatService,
        AccountKind::Taobao,
    ];

    /// Platform of the account.
    pub fn platform(self) -> Platform {
        match self {
            AccountKind::DouyinLive | AccountKind::Doudian => Platform::Douyin,
            AccountKind::Kuaishou => Platform::Kuaishou,
            AccountKind::WechatShop | AccountKind::WechatService => Platform::WechatChannels,
            AccountKind::Taobao => Platform::TaobaoLive,
        }
    }

    /// The `account_scope` value.
    pub fn scope(self) -> &'static str {
        match self {
            AccountKind::DouyinLive => DOUYIN_APP_ID,
            AccountKind::Doudian => DOUDIAN_SHOP_SCOPE,
            AccountKind::Kuaishou => KUAISHOU_APP_KEY,
            AccountKind::WechatShop => WECHAT_SHOP_APPID,
            AccountKind::WechatService => WECHAT_SERVICE_APPID,
            AccountKind::Taobao => TAOBAO_APP_KEY,
        }
    }

    /// The `account_type` value in `truth/accounts`.
    pub fn type_name(self) -> &'static str {
        match self {
            AccountKind::DouyinLive => "douyin_live",
            AccountKind::Doudian => "doudian",
            AccountKind::Kuaishou => "kuaishou",
            AccountKind::WechatShop => "wechat_shop",
            AccountKind::WechatService => "wechat_service",
            AccountKind::Taobao => "taobao",
        }
    }

    /// Whether live events of this account carry a device id.
    pub fn carries_device(self) -> bool {
        matches!(
            self,
            AccountKind::DouyinLive | AccountKind::Kuaishou | AccountKind::Taobao
        )
    }

    /// Whether this account watches lives.
    pub fn is_live(self) -> bool {
        self.platform().live_account() == self
    }
}

/// Outbound touch channels of the brand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    /// Service-account (公众号) template messages, to the service openid.
    WechatService = 0,
    /// 企业微信 messages, to the WeChat shop openid.
    Wecom = 1,
    /// Douyin direct messages, to the live account.
    DouyinDm = 2,
    /// Text messages to the member's phone (logged against a bound account).
    Sms = 3,
}

impl Channel {
    /// All channels.
    pub const ALL: [Channel; 4] = [
        Channel::WechatService,
        Channel::Wecom,
        Channel::DouyinDm,
        Channel::Sms,
    ];

    /// The `channel` column value.
    pub fn name(self) -> &'static str {
        match self {
            Channel::WechatService => "wechat_service",
            Channel::Wecom => "wecom",
            Channel::DouyinDm => "douyin_dm",
            Channel::Sms => "sms",
        }
    }

    /// Short code used in campaign names.
    pub fn code(self) -> &'static str {
        match self {
            Channel::WechatService => "ws",
            Channel::Wecom => "wc",
            Channel::DouyinDm => "dm",
            Channel::Sms => "sms",
        }
    }
}

/// The unified event vocabulary (`event_type` of the `events` view).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    LiveEnter = 0,
    LiveLeave,
    LiveLike,
    LiveComment,
    LiveShare,
    LiveGift,
    Follow,
    Unfollow,
    ProductClick,
    AddToCart,
    OrderCreated,
    OrderPaid,
    OrderRefunded,
    TouchSent,
    TouchOpened,
    TouchClicked,
    Unsubscribe,
    Block,
    Report,
}

/// Number of [`EventType`]s.
pub const EVENT_TYPES: usize = 19;

/// `event_type` names in enum order.
pub const EVENT_TYPE_NAMES: [&str; EVENT_TYPES] = [
    "live_enter",
    "live_leave",
    "live_like",
    "live_comment",
    "live_share",
    "live_gift",
    "follow",
    "unfollow",
    "product_click",
    "add_to_cart",
    "order_created",
    "order_paid",
    "order_refunded",
    "touch_sent",
    "touch_opened",
    "touch_clicked",
    "unsubscribe",
    "block",
    "report",
];

/// A product of the catalog with its per-platform ids.
#[derive(Clone, Debug)]
pub struct Product {
    /// Index into [`CATEGORIES`].
    pub category: u8,
    /// Index into [`BRANDS`].
    pub brand: u8,
    /// List price in fen.
    pub list_fen: i64,
    /// Douyin / 抖店 product id (19 digits).
    pub douyin_id: i64,
    /// The same as text.
    pub douyin_id_str: String,
    /// Kuaishou itemId.
    pub kuaishou_id: i64,
    /// WeChat Channels product id (digit string).
    pub wechat_id: String,
    /// Taobao num_iid.
    pub taobao_id: i64,
}

impl Product {
    /// Category name.
    pub fn category_name(&self) -> &'static str {
        CATEGORIES[self.category as usize].0
    }

    /// Brand name.
    pub fn brand_name(&self) -> &'static str {
        BRANDS[self.brand as usize].0
    }
}

/// The brand catalog: every (brand, category) line has a few products.
#[derive(Debug)]
pub struct Catalog {
    /// All products.
    pub products: Vec<Product>,
    /// `lines[brand][category]` = indices of that line's products (empty if the
    /// brand does not sell the category).
    pub lines: Vec<Vec<Vec<u16>>>,
    /// `brands_of[category]` = brands selling the category.
    pub brands_of: Vec<Vec<u8>>,
}

impl Catalog {
    /// Builds the catalog for a seed.
    pub fn new(seed: u64) -> Catalog {
        let mut rng = Rng::new(hash2(seed, 0xca7a_1065));
        let mut products = Vec::new();
        let mut lines = vec![vec![Vec::new(); CATEGORIES.len()]; BRANDS.len()];
        let mut brands_of = vec![Vec::new(); CATEGORIES.len()];
        for (b, &(_, cats)) in BRANDS.iter().enumerate() {
            for &c in cats {
                brands_of[c as usize].push(b as u8);
                let (_, lo, hi) = CATEGORIES[c as usize];
                for _ in 0..PRODUCTS_PER_LINE {
                    let idx = products.len() as u64;
                    // Prices end in 00 or 900 like real price tags.
                    let raw = rng.range(lo, hi);
                    let list_fen = if raw >= 10_000 {
                        (raw / 1_000) * 1_000 + 900
                    } else {
                        (raw / 100) * 100 + 90
                    }
                    .min(hi);
                    lines[b][c as usize].push(idx as u16);
                    let douyin_id =
                        3_600_000_000_000_000_000 + scramble(idx, 48, hash2(seed, 1)) as i64;
                    products.push(Product {
                        category: c,
                        brand: b as u8,
                        list_fen,
                        douyin_id,
                        douyin_id_str: douyin_id.to_string(),
                        kuaishou_id: 20_000_000_000_000 + scramble(idx, 40, hash2(seed, 2)) as i64,
                        wechat_id: (10_000_000_000_000 + scramble(idx, 40, hash2(seed, 3)))
                            .to_string(),
                        taobao_id: 600_000_000_000 + scramble(idx, 36, hash2(seed, 4)) as i64,
                    });
                }
            }
        }
        Catalog {
            products,
            lines,
            brands_of,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_category_has_brands() {
        let c = Catalog::new(7);
        for (i, b) in c.brands_of.iter().enumerate() {
            assert!(
                b.len() >= 2,
                "category {} has {} brands",
                CATEGORIES[i].0,
                b.len()
            );
        }
        for p in &c.products {
            let (_, lo, hi) = CATEGORIES[p.category as usize];
            assert!(p.list_fen >= lo.min(1_000) && p.list_fen <= hi);
            assert_eq!(p.douyin_id_str.len(), 19);
        }
    }

    #[test]
    fn slots_cover_the_day() {
        for h in 0..24 {
            let s = slot_of_hour(h);
            assert!(h >= SLOTS[s].1 && h <= SLOTS[s].2);
        }
    }
}
