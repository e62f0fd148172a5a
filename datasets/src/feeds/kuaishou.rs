//! Kuaishou: `raw/kuaishou/live_event` and `raw/kuaishou/order`.

use super::{LiveKind, LiveRow, OrderRow, OrderStatus, field};
use crate::catalog::KUAISHOU_APP_KEY;
use crate::ids::{Alphabet, push_token, scramble};
use crate::rng::mix64;
use arrow::array::{ArrayRef, Int32Builder, Int64Builder, RecordBatch, StringBuilder};
use arrow::datatypes::{DataType, Schema, SchemaRef};
use arrow::error::ArrowError;
use std::sync::{Arc, OnceLock};

const SALT_EVENT: u64 = 0x45_0001;
const SALT_ORDER: u64 = 0x45_0003;

/// Fen per 快币.
pub const FEN_PER_COIN: i64 = 10;

/// Schema of `raw/kuaishou/live_event`.
pub fn live_schema() -> SchemaRef {
    static S: OnceLock<SchemaRef> = OnceLock::new();
    S.get_or_init(|| {
        Arc::new(Schema::new(vec![
            field("eventId", DataType::Utf8, false),
            field("eventType", DataType::Utf8, false),
            field("appKey", DataType::Utf8, false),
            field("userOpenId", DataType::Utf8, false),
            field("liveStreamId", DataType::Int64, false),
            field("eventTime", DataType::Int64, false),
            field("likeCount", DataType::Int32, true),
            field("giftDou", DataType::Int64, true),
            field("watchTimeMs", DataType::Int64, true),
            field("itemId", DataType::Int64, true),
            field("categoryName", DataType::Utf8, true),
            field("brandName", DataType::Utf8, true),
            field("deviceId", DataType::Utf8, true),
        ]))
    })
    .clone()
}

/// The `eventType` of a live interaction.
pub fn event_type(k: LiveKind) -> &'static str {
    match k {
        LiveKind::Enter => "Enter",
        LiveKind::Leave => "Leave",
        LiveKind::Like => "Like",
        LiveKind::Comment => "Comment",
        LiveKind::Gift => "Gift",
        LiveKind::Share => "Share",
        LiveKind::Follow => "Follow",
        LiveKind::Unfollow => "Unfollow",
        LiveKind::ProductClick => "ItemClick",
        LiveKind::AddCart => "AddCart",
    }
}

/// Builder of `raw/kuaishou/live_event`.
#[derive(Default)]
pub struct LiveBuilder {
    event_id: StringBuilder,
    event_type: StringBuilder,
    app_key: StringBuilder,
    user_open_id: StringBuilder,
    live_stream_id: Int64Builder,
    event_time: Int64Builder,
    like_count: Int32Builder,
    gift_dou: Int64Builder,
    watch_time_ms: Int64Builder,
    item_id: Int64Builder,
    category_name: StringBuilder,
    brand_name: StringBuilder,
    device_id: StringBuilder,
    buf: String,
}

impl LiveBuilder {
    /// Appends one event.
    pub fn push(&mut self, r: &LiveRow) {
        self.buf.clear();
        push_token(&mut self.buf, mix64(r.code ^ SALT_EVENT), 24, Alphabet::Hex);
        self.event_id.append_value(&self.buf);
        self.event_type.append_value(event_type(r.kind));
        self.app_key.append_value(KUAISHOU_APP_KEY);
        self.user_open_id.append_value(r.account_id);
        self.live_stream_id.append_value(r.show.num);
        self.event_time.append_value(r.t_ms);
        self.like_count
            .append_option((r.kind == LiveKind::Like).then_some(r.likes as i32));
        self.gift_dou
            .append_option((r.kind == LiveKind::Gift).then_some(r.gift_fen / FEN_PER_COIN));
        self.watch_time_ms
            .append_option((r.kind == LiveKind::Leave).then_some(r.watch_ms));
        self.item_id.append_option(r.product.map(|p| p.kuaishou_id));
        self.category_name
            .append_option(r.product.map(|p| p.category_name()));
        self.brand_name
            .append_option(r.product.map(|p| p.brand_name()));
        self.device_id.append_option(r.device);
    }

    /// Finishes the batch.
    pub fn finish(mut self) -> Result<RecordBatch, ArrowError> {
        let cols: Vec<ArrayRef> = vec![
            Arc::new(self.event_id.finish()),
            Arc::new(self.event_type.finish()),
            Arc::new(self.app_key.finish()),
            Arc::new(self.user_open_id.finish()),
            Arc::new(self.live_stream_id.finish()),
            Arc::new(self.event_time.finish()),
            Arc::new(self.like_count.finish()),
            Arc::new(self.gift_dou.finish()),
            Arc::new(self.watch_time_ms.finish()),
            Arc::new(self.item_id.finish()),
            Arc::new(self.category_name.finish()),
            Arc::new(self.brand_name.finish()),
            Arc::new(self.device_id.finish()),
        ];
        RecordBatch::try_new(live_schema(), cols)
    }
}

/// Schema of `raw/kuaishou/order`.
pub fn order_schema() -> SchemaRef {
    static S: OnceLock<SchemaRef> = OnceLock::new();
    S.get_or_init(|| {
        Arc::new(Schema::new(vec![
            field("oid", DataType::Int64, false),
            field("status", DataType::Int32, false),
            field("appKey", DataType::Utf8, false),
            field("buyerOpenId", DataType::Utf8, false),
            field("createTime", DataType::Int64, false),
            field("payTime", DataType::Int64, false),
            field("updateTime", DataType::Int64, false),
            field("totalFee", DataType::Int64, false),
            field("discountFee", DataType::Int64, false),
            field("itemId", DataType::Int64, false),
            field("categoryName", DataType::Utf8, false),
            field("brandName", DataType::Utf8, false),
            field("liveStreamId", DataType::Int64, true),
            field("receiverProvince", DataType::Utf8, false),
        ]))
    })
    .clone()
}

/// Kuaishou order `status` code.
pub fn status_code(s: OrderStatus) -> i32 {
    match s {
        OrderStatus::Created => 10,
        OrderStatus::Paid => 30,
        OrderStatus::Refunded => 80,
    }
}

/// Builder of `raw/kuaishou/order`.
#[derive(Default)]
pub struct OrderBuilder {
    oid: Int64Builder,
    status: Int32Builder,
    app_key: StringBuilder,
    buyer_open_id: StringBuilder,
    create_time: Int64Builder,
    pay_time: Int64Builder,
    update_time: Int64Builder,
    total_fee: Int64Builder,
    discount_fee: Int64Builder,
    item_id: Int64Builder,
    category_name: StringBuilder,
    brand_name: StringBuilder,
    live_stream_id: Int64Builder,
    receiver_province: StringBuilder,
}

impl OrderBuilder {
    /// Appends one order status row.
    pub fn push(&mut self, r: &OrderRow) {
        self.oid
            .append_value(2_400_000_000_000_000 + scramble(r.order_code, 50, SALT_ORDER) as i64);
        self.status.append_value(status_code(r.status));
        self.app_key.append_value(KUAISHOU_APP_KEY);
        self.buyer_open_id.append_value(r.account_id);
        self.create_time.append_value(r.create_ms);
        self.pay_time.append_value(r.pay_ms.unwrap_or(0));
        self.update_time.append_value(r.update_ms);
        self.total_fee.append_value(r.amount_fen);
        self.discount_fee.append_value(r.discount_fen);
        self.item_id.append_value(r.product.kuaishou_id);
        self.category_name.append_value(r.product.category_name());
        self.brand_name.append_value(r.product.brand_name());
        self.live_stream_id.append_option(r.show.map(|s| s.num));
        self.receiver_province.append_value(r.province);
    }

    /// Finishes the batch.
    pub fn finish(mut self) -> Result<RecordBatch, ArrowError> {
        let cols: Vec<ArrayRef> = vec![
            Arc::new(self.oid.finish()),
            Arc::new(self.status.finish()),
            Arc::new(self.app_key.finish()),
            Arc::new(self.buyer_open_id.finish()),
            Arc::new(self.create_time.finish()),
            Arc::new(self.pay_time.finish()),
            Arc::new(self.update_time.finish()),
            Arc::new(self.total_fee.finish()),
            Arc::new(self.discount_fee.finish()),
            Arc::new(self.item_id.finish()),
            Arc::new(self.category_name.finish()),
            Arc::new(self.brand_name.finish()),
            Arc::new(self.live_stream_id.finish()),
            Arc::new(self.receiver_province.finish()),
        ];
        RecordBatch::try_new(order_schema(), cols)
    }
}
