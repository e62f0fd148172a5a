//! Output feeds.
//!
//! The behaviour simulation emits platform-neutral rows ([`LiveRow`],
//! [`OrderRow`], [`TouchRow`], [`FeedbackRow`]); each platform module turns them
//! into that platform's export shape (field names, units, id formats, quirks).
//! Rows are collected per Beijing date in a [`DayPartition`], which becomes one
//! parquet file per feed when the day is complete.

pub mod douyin;
pub mod firstparty;
pub mod kuaishou;
pub mod taobao;
pub mod wechat;

use crate::catalog::{AccountKind, Channel, EVENT_TYPES, EventType, Platform, Product};
use crate::rng::{hash2, unit};
use crate::world::Show;
use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use arrow::error::ArrowError;

/// A live-room interaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LiveKind {
    Enter,
    Leave,
    Like,
    Comment,
    Share,
    Gift,
    Follow,
    Unfollow,
    ProductClick,
    AddCart,
}

impl LiveKind {
    /// The unified event type.
    pub fn event_type(self) -> EventType {
        match self {
            LiveKind::Enter => EventType::LiveEnter,
            LiveKind::Leave => EventType::LiveLeave,
            LiveKind::Like => EventType::LiveLike,
            LiveKind::Comment => EventType::LiveComment,
            LiveKind::Share => EventType::LiveShare,
            LiveKind::Gift => EventType::LiveGift,
            LiveKind::Follow => EventType::Follow,
            LiveKind::Unfollow => EventType::Unfollow,
            LiveKind::ProductClick => EventType::ProductClick,
            LiveKind::AddCart => EventType::AddToCart,
        }
    }
}

/// One live interaction of one account.
#[derive(Clone, Copy, Debug)]
pub struct LiveRow<'a> {
    /// What happened.
    pub kind: LiveKind,
    /// Unique row code: source of the message id and of per-row quirks.
    pub code: u64,
    /// Account id.
    pub account_id: &'a str,
    /// Union id carried by this row, if any.
    pub union_id: Option<&'a str>,
    /// The show watched.
    pub show: &'a Show,
    /// Event time, epoch ms.
    pub t_ms: i64,
    /// Likes merged into a like message.
    pub likes: u32,
    /// Gift value in fen.
    pub gift_fen: i64,
    /// Watch time in ms (leave).
    pub watch_ms: i64,
    /// Product (click, add to cart).
    pub product: Option<&'a Product>,
    /// Device id carried by this row.
    pub device: Option<&'a str>,
}

/// The status change an order row reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderStatus {
    /// Created, not paid yet.
    Created,
    /// Paid.
    Paid,
    /// Refunded after payment.
    Refunded,
}

impl OrderStatus {
    /// The unified event type.
    pub fn event_type(self) -> EventType {
        match self {
            OrderStatus::Created => EventType::OrderCreated,
            OrderStatus::Paid => EventType::OrderPaid,
            OrderStatus::Refunded => EventType::OrderRefunded,
        }
    }
}

/// One order status message.
#[derive(Clone, Copy, Debug)]
pub struct OrderRow<'a> {
    /// The status this row reports.
    pub status: OrderStatus,
    /// Unique order code (source of the order id).
    pub order_code: u64,
    /// Account id.
    pub account_id: &'a str,
    /// Union id carried by this row, if any.
    pub union_id: Option<&'a str>,
    /// Creation time, epoch ms.
    pub create_ms: i64,
    /// Payment time (None while unpaid).
    pub pay_ms: Option<i64>,
    /// Last update time (= the event time of this row).
    pub update_ms: i64,
    /// Amount paid (due), fen.
    pub amount_fen: i64,
    /// Discount, fen.
    pub discount_fen: i64,
    /// The product.
    pub product: &'a Product,
    /// The show the order came from.
    pub show: Option<&'a Show>,
    /// Receiver province.
    pub province: &'a str,
}

impl OrderRow<'_> {
    /// The event time of the row.
    pub fn event_ms(&self) -> i64 {
        match self.status {
            OrderStatus::Created => self.create_ms,
            OrderStatus::Paid => self.pay_ms.unwrap_or(self.update_ms),
            OrderStatus::Refunded => self.update_ms,
        }
    }
}

/// One outbound message of the brand.
#[derive(Clone, Copy, Debug)]
pub struct TouchRow<'a> {
    /// Unique code (source of the touch id).
    pub code: u64,
    /// Channel.
    pub channel: Channel,
    /// The account messaged.
    pub account: AccountKind,
    /// Its id.
    pub account_id: &'a str,
    /// WeChat unionid, for WeChat accounts.
    pub union_id: Option<&'a str>,
    /// Campaign name.
    pub campaign: &'a str,
    /// Send time.
    pub sent_ms: i64,
    /// Open time.
    pub opened_ms: Option<i64>,
    /// Click time.
    pub clicked_ms: Option<i64>,
}

/// Kind of negative feedback.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FeedbackKind {
    Unsubscribe,
    Block,
    Report,
}

impl FeedbackKind {
    /// The `kind` column value.
    pub fn name(self) -> &'static str {
        match self {
            FeedbackKind::Unsubscribe => "unsubscribe",
            FeedbackKind::Block => "block",
            FeedbackKind::Report => "report",
        }
    }

    /// The unified event type.
    pub fn event_type(self) -> EventType {
        match self {
            FeedbackKind::Unsubscribe => EventType::Unsubscribe,
            FeedbackKind::Block => EventType::Block,
            FeedbackKind::Report => EventType::Report,
        }
    }
}

/// One negative feedback.
#[derive(Clone, Copy, Debug)]
pub struct FeedbackRow<'a> {
    /// Unique code (source of the feedback id).
    pub code: u64,
    /// Kind.
    pub kind: FeedbackKind,
    /// Channel it is about.
    pub channel: Channel,
    /// The account.
    pub account: AccountKind,
    /// Its id.
    pub account_id: &'a str,
    /// Time.
    pub ts_ms: i64,
}

/// The date-partitioned feeds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Feed {
    DouyinLive,
    DoudianOrder,
    KuaishouLive,
    KuaishouOrder,
    WechatOrder,
    WechatLive,
    TaobaoTrade,
    TaobaoLive,
    Touches,
    Feedback,
}

impl Feed {
    /// All date-partitioned feeds.
    pub const ALL: [Feed; 10] = [
        Feed::DouyinLive,
        Feed::DoudianOrder,
        Feed::KuaishouLive,
        Feed::KuaishouOrder,
        Feed::WechatOrder,
        Feed::WechatLive,
        Feed::TaobaoTrade,
        Feed::TaobaoLive,
        Feed::Touches,
        Feed::Feedback,
    ];

    /// Directory of the feed under the output root.
    pub fn dir(self) -> &'static str {
        match self {
            Feed::DouyinLive => "raw/douyin/live_push",
            Feed::DoudianOrder => "raw/douyin/doudian_order",
            Feed::KuaishouLive => "raw/kuaishou/live_event",
            Feed::KuaishouOrder => "raw/kuaishou/order",
            Feed::WechatOrder => "raw/wechat_channels/order",
            Feed::WechatLive => "raw/wechat_channels/live_event",
            Feed::TaobaoTrade => "raw/taobao_live/trade",
            Feed::TaobaoLive => "raw/taobao_live/live_event",
            Feed::Touches => "firstparty/touches",
            Feed::Feedback => "firstparty/feedback",
        }
    }

    /// Arrow schema of the feed.
    pub fn schema(self) -> SchemaRef {
        match self {
            Feed::DouyinLive => douyin::live_schema(),
            Feed::DoudianOrder => douyin::order_schema(),
            Feed::KuaishouLive => kuaishou::live_schema(),
            Feed::KuaishouOrder => kuaishou::order_schema(),
            Feed::WechatOrder => wechat::order_schema(),
            Feed::WechatLive => wechat::live_schema(),
            Feed::TaobaoTrade => taobao::trade_schema(),
            Feed::TaobaoLive => taobao::live_schema(),
            Feed::Touches => firstparty::touches_schema(),
            Feed::Feedback => firstparty::feedback_schema(),
        }
    }
}

/// All rows of one Beijing date of one chunk.
#[derive(Default)]
pub struct DayPartition {
    dy_live: douyin::LiveBuilder,
    dy_order: douyin::OrderBuilder,
    ks_live: kuaishou::LiveBuilder,
    ks_order: kuaishou::OrderBuilder,
    wx_order: wechat::OrderBuilder,
    wx_live: wechat::LiveBuilder,
    tb_trade: taobao::TradeBuilder,
    tb_live: taobao::LiveBuilder,
    touches: firstparty::TouchBuilder,
    feedback: firstparty::FeedbackBuilder,
}

impl DayPartition {
    /// Appends a live row to its platform's feed.
    pub fn push_live(&mut self, platform: Platform, row: &LiveRow) {
        match platform {
            Platform::Douyin => self.dy_live.push(row),
            Platform::Kuaishou => self.ks_live.push(row),
            Platform::WechatChannels => self.wx_live.push(row),
            Platform::TaobaoLive => self.tb_live.push(row),
        }
    }

    /// Appends an order row to its platform's feed.
    pub fn push_order(&mut self, platform: Platform, row: &OrderRow) {
        match platform {
            Platform::Douyin => self.dy_order.push(row),
            Platform::Kuaishou => self.ks_order.push(row),
            Platform::WechatChannels => self.wx_order.push(row),
            Platform::TaobaoLive => self.tb_trade.push(row),
        }
    }

    /// Finishes every feed into a record batch (in [`Feed::ALL`] order).
    pub fn finish(self) -> Result<Vec<(Feed, RecordBatch)>, ArrowError> {
        Ok(vec![
            (Feed::DouyinLive, self.dy_live.finish()?),
            (Feed::DoudianOrder, self.dy_order.finish()?),
            (Feed::KuaishouLive, self.ks_live.finish()?),
            (Feed::KuaishouOrder, self.ks_order.finish()?),
            (Feed::WechatOrder, self.wx_order.finish()?),
            (Feed::WechatLive, self.wx_live.finish()?),
            (Feed::TaobaoTrade, self.tb_trade.finish()?),
            (Feed::TaobaoLive, self.tb_live.finish()?),
            (Feed::Touches, self.touches.finish()?),
            (Feed::Feedback, self.feedback.finish()?),
        ])
    }
}

/// Collects a chunk's rows into day partitions and counts events.
pub struct Sink {
    start_day: i64,
    days: usize,
    parts: Vec<Option<Box<DayPartition>>>,
    /// Distinct events per (platform, event type).
    pub counts: [[u64; EVENT_TYPES]; 4],
    /// Distinct events per (person of the chunk, account kind).
    pub account_events: Vec<u32>,
    /// Rows written including duplicate deliveries.
    pub rows: u64,
}

impl Sink {
    /// A sink for `persons` persons over the window.
    pub fn new(start_day: i64, days: u32, persons: usize) -> Sink {
        Sink {
            start_day,
            days: days as usize,
            parts: (0..days).map(|_| None).collect(),
            counts: [[0; EVENT_TYPES]; 4],
            account_events: vec![0; persons * 6],
            rows: 0,
        }
    }

    /// Window day index of an instant, if it is inside the window.
    fn day_index(&self, ms: i64) -> Option<usize> {
        let d = crate::calendar::beijing_day(ms) - self.start_day;
        (d >= 0 && (d as usize) < self.days).then_some(d as usize)
    }

    fn part(&mut self, day: usize) -> &mut DayPartition {
        self.parts[day].get_or_insert_with(Default::default)
    }

    fn count(&mut self, platform: Platform, person: usize, account: AccountKind, et: EventType) {
        self.counts[platform as usize][et as usize] += 1;
        self.account_events[person * 6 + account as usize] += 1;
    }

    /// Number of events recorded so far for one account of one person.
    pub fn events_of(&self, person: usize, account: AccountKind) -> u32 {
        self.account_events[person * 6 + account as usize]
    }

    /// Emits a live row (twice if `dup`). Rows outside the window are dropped.
    /// Returns whether the row was kept.
    pub fn live(&mut self, person: usize, account: AccountKind, row: &LiveRow, dup: bool) -> bool {
        let Some(day) = self.day_index(row.t_ms) else {
            return false;
        };
        let platform = account.platform();
        let part = self.part(day);
        part.push_live(platform, row);
        if dup {
            part.push_live(platform, row);
        }
        self.rows += 1 + dup as u64;
        self.count(platform, person, account, row.kind.event_type());
        true
    }

    /// Emits an order row (twice if `dup`), partitioned by its event time.
    pub fn order(
        &mut self,
        person: usize,
        account: AccountKind,
        row: &OrderRow,
        dup: bool,
    ) -> bool {
        let Some(day) = self.day_index(row.event_ms()) else {
            return false;
        };
        let platform = account.platform();
        let part = self.part(day);
        part.push_order(platform, row);
        if dup {
            part.push_order(platform, row);
        }
        self.rows += 1 + dup as u64;
        self.count(platform, person, account, row.status.event_type());
        true
    }

    /// Emits a touch: one row, up to three events (sent, opened, clicked).
    pub fn touch(&mut self, person: usize, row: &TouchRow) -> bool {
        let Some(day) = self.day_index(row.sent_ms) else {
            return false;
        };
        self.part(day).touches.push(row);
        self.rows += 1;
        let platform = row.account.platform();
        self.count(platform, person, row.account, EventType::TouchSent);
        if row.opened_ms.is_some() {
            self.count(platform, person, row.account, EventType::TouchOpened);
        }
        if row.clicked_ms.is_some() {
            self.count(platform, person, row.account, EventType::TouchClicked);
        }
        true
    }

    /// Emits a feedback row.
    pub fn feedback(&mut self, person: usize, row: &FeedbackRow) -> bool {
        let Some(day) = self.day_index(row.ts_ms) else {
            return false;
        };
        self.part(day).feedback.push(row);
        self.rows += 1;
        self.count(
            row.account.platform(),
            person,
            row.account,
            row.kind.event_type(),
        );
        true
    }

    /// Takes the partition of a finished day (an empty one if nothing was emitted).
    pub fn take_day(&mut self, day: usize) -> Box<DayPartition> {
        self.parts[day].take().unwrap_or_default()
    }
}

/// A per-row quirk decision: `true` for a share `p` of row codes (deterministic,
/// so a duplicate delivery gets the same decision).
#[inline]
pub fn quirk(code: u64, salt: u64, p: f64) -> bool {
    unit(hash2(code, salt)) < p
}

/// Shorthand for a schema field.
pub(crate) fn field(
    name: &str,
    dt: arrow::datatypes::DataType,
    nullable: bool,
) -> arrow::datatypes::Field {
    arrow::datatypes::Field::new(name, dt, nullable)
}

/// The `Timestamp(ms, UTC)` type.
pub(crate) fn ts_type() -> arrow::datatypes::DataType {
    arrow::datatypes::DataType::Timestamp(
        arrow::datatypes::TimeUnit::Millisecond,
        Some("UTC".into()),
    )
}
