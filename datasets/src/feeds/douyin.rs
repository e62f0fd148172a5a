//! Douyin: `raw/douyin/live_push` (live-room data push) and
//! `raw/douyin/doudian_order` (抖店 order status messages).

use super::{LiveKind, LiveRow, OrderRow, OrderStatus, field, quirk};
use crate::catalog::{DOUDIAN_SHOP_ID, DOUYIN_APP_ID};
use crate::ids::{Alphabet, push_token, scramble};
use crate::rng::mix64;
use arrow::array::{ArrayRef, Int32Builder, Int64Builder, RecordBatch, StringBuilder};
use arrow::datatypes::{DataType, Schema, SchemaRef};
use arrow::error::ArrowError;
use std::fmt::Write;
use std::sync::{Arc, OnceLock};

/// Share of live_push rows whose `timestamp` is in epoch seconds.
pub const SECONDS_TIMESTAMP_RATE: f64 = 0.05;
const SALT_MSG: u64 = 0xd0_0001;
const SALT_SECONDS: u64 = 0xd0_0002;
const SALT_ORDER: u64 = 0xd0_0003;

/// Schema of `raw/douyin/live_push`.
pub fn live_schema() -> SchemaRef {
    static S: OnceLock<SchemaRef> = OnceLock::new();
    S.get_or_init(|| {
        Arc::new(Schema::new(vec![
            field("msg_id", DataType::Utf8, false),
            field("msg_type", DataType::Utf8, false),
            field("app_id", DataType::Utf8, false),
            field("sec_openid", DataType::Utf8, false),
            field("union_id", DataType::Utf8, true),
            field("roomid", DataType::Utf8, false),
            field("timestamp", DataType::Int64, false),
            field("like_num", DataType::Utf8, true),
            field("gift_value", DataType::Int64, true),
            field("watch_duration", DataType::Int64, true),
            field("product_id", DataType::Utf8, true),
            field("product_category", DataType::Utf8, true),
            field("product_brand", DataType::Utf8, true),
            field("device_id", DataType::Utf8, true),
        ]))
    })
    .clone()
}

/// The `msg_type` of a live interaction.
pub fn msg_type(k: LiveKind) -> &'static str {
    match k {
        LiveKind::Enter => "live_enter_room",
        LiveKind::Leave => "live_leave_room",
        LiveKind::Like => "live_like",
        LiveKind::Comment => "live_comment",
        LiveKind::Gift => "live_gift",
        LiveKind::Share => "live_share",
        LiveKind::Follow => "live_follow",
        LiveKind::Unfollow => "live_unfollow",
        LiveKind::ProductClick => "live_product_click",
        LiveKind::AddCart => "live_add_cart",
    }
}

/// Builder of `raw/douyin/live_push`.
#[derive(Default)]
pub struct LiveBuilder {
    msg_id: StringBuilder,
    msg_type: StringBuilder,
    app_id: StringBuilder,
    sec_openid: StringBuilder,
    union_id: StringBuilder,
    roomid: StringBuilder,
    timestamp: Int64Builder,
    like_num: StringBuilder,
    gift_value: Int64Builder,
    watch_duration: Int64Builder,
    product_id: StringBuilder,
    product_category: StringBuilder,
    product_brand: StringBuilder,
    device_id: StringBuilder,
    buf: String,
}

impl LiveBuilder {
    /// Appends one message.
    pub fn push(&mut self, r: &LiveRow) {
        self.buf.clear();
        push_token(&mut self.buf, mix64(r.code ^ SALT_MSG), 32, Alphabet::Hex);
        self.msg_id.append_value(&self.buf);
        self.msg_type.append_value(msg_type(r.kind));
        self.app_id.append_value(DOUYIN_APP_ID);
        self.sec_openid.append_value(r.account_id);
        self.union_id.append_option(r.union_id);
        self.roomid.append_value(&r.show.text);
        let ts = if quirk(r.code, SALT_SECONDS, SECONDS_TIMESTAMP_RATE) {
            r.t_ms.div_euclid(1000)
        } else {
            r.t_ms
        };
        self.timestamp.append_value(ts);
        if r.kind == LiveKind::Like {
            self.buf.clear();
            let _ = write!(self.buf, "{}", r.likes);
            self.like_num.append_value(&self.buf);
        } else {
            self.like_num.append_null();
        }
        self.gift_value
            .append_option((r.kind == LiveKind::Gift).then_some(r.gift_fen));
        self.watch_duration
            .append_option((r.kind == LiveKind::Leave).then_some(r.watch_ms / 1000));
        self.product_id
            .append_option(r.product.map(|p| p.douyin_id_str.as_str()));
        self.product_category
            .append_option(r.product.map(|p| p.category_name()));
        self.product_brand
            .append_option(r.product.map(|p| p.brand_name()));
        self.device_id.append_option(r.device);
    }

    /// Finishes the batch.
    pub fn finish(mut self) -> Result<RecordBatch, ArrowError> {
        let cols: Vec<ArrayRef> = vec![
            Arc::new(self.msg_id.finish()),
            Arc::new(self.msg_type.finish()),
            Arc::new(self.app_id.finish()),
            Arc::new(self.sec_openid.finish()),
            Arc::new(self.union_id.finish()),
            Arc::new(self.roomid.finish()),
            Arc::new(self.timestamp.finish()),
            Arc::new(self.like_num.finish()),
            Arc::new(self.gift_value.finish()),
            Arc::new(self.watch_duration.finish()),
            Arc::new(self.product_id.finish()),
            Arc::new(self.product_category.finish()),
            Arc::new(self.product_brand.finish()),
            Arc::new(self.device_id.finish()),
        ];
        RecordBatch::try_new(live_schema(), cols)
    }
}

/// Schema of `raw/douyin/doudian_order`.
pub fn order_schema() -> SchemaRef {
    static S: OnceLock<SchemaRef> = OnceLock::new();
    S.get_or_init(|| {
        Arc::new(Schema::new(vec![
            field("order_id", DataType::Utf8, false),
            field("main_status", DataType::Int32, false),
            field("shop_id", DataType::Int64, false),
            field("doudian_open_id", DataType::Utf8, false),
            field("union_id", DataType::Utf8, true),
            field("create_time", DataType::Int64, false),
            field("pay_time", DataType::Int64, false),
            field("update_time", DataType::Int64, false),
            field("order_amount", DataType::Int64, false),
            field("promotion_amount", DataType::Int64, false),
            field("room_id", DataType::Int64, false),
            field("room_id_str", DataType::Utf8, true),
            field("product_id", DataType::Int64, false),
            field("first_cname", DataType::Utf8, false),
            field("brand_name", DataType::Utf8, false),
            field("post_province", DataType::Utf8, false),
        ]))
    })
    .clone()
}

/// 抖店 `main_status` code.
pub fn main_status(s: OrderStatus) -> i32 {
    match s {
        OrderStatus::Created => 1,
        OrderStatus::Paid => 105,
        OrderStatus::Refunded => 21,
    }
}

/// Builder of `raw/douyin/doudian_order`.
#[derive(Default)]
pub struct OrderBuilder {
    order_id: StringBuilder,
    main_status: Int32Builder,
    shop_id: Int64Builder,
    doudian_open_id: StringBuilder,
    union_id: StringBuilder,
    create_time: Int64Builder,
    pay_time: Int64Builder,
    update_time: Int64Builder,
    order_amount: Int64Builder,
    promotion_amount: Int64Builder,
    room_id: Int64Builder,
    room_id_str: StringBuilder,
    product_id: Int64Builder,
    first_cname: StringBuilder,
    brand_name: StringBuilder,
    post_province: StringBuilder,
    buf: String,
}

impl OrderBuilder {
    /// Appends one status message.
    pub fn push(&mut self, r: &OrderRow) {
        self.buf.clear();
        let id = 6_900_000_000_000_000_000u64 + scramble(r.order_code, 56, SALT_ORDER);
        let _ = write!(self.buf, "{id}");
        self.order_id.append_value(&self.buf);
        self.main_status.append_value(main_status(r.status));
        self.shop_id.append_value(DOUDIAN_SHOP_ID);
        self.doudian_open_id.append_value(r.account_id);
        self.union_id.append_option(r.union_id);
        self.create_time.append_value(r.create_ms.div_euclid(1000));
        self.pay_time
            .append_value(r.pay_ms.map_or(0, |t| t.div_euclid(1000)));
        self.update_time.append_value(r.update_ms.div_euclid(1000));
        self.order_amount.append_value(r.amount_fen);
        self.promotion_amount.append_value(r.discount_fen);
        self.room_id.append_value(r.show.map_or(0, |s| s.num));
        self.room_id_str
            .append_option(r.show.map(|s| s.text.as_str()));
        self.product_id.append_value(r.product.douyin_id);
        self.first_cname.append_value(r.product.category_name());
        self.brand_name.append_value(r.product.brand_name());
        self.post_province.append_value(r.province);
    }

    /// Finishes the batch.
    pub fn finish(mut self) -> Result<RecordBatch, ArrowError> {
        let cols: Vec<ArrayRef> = vec![
            Arc::new(self.order_id.finish()),
            Arc::new(self.main_status.finish()),
            Arc::new(self.shop_id.finish()),
            Arc::new(self.doudian_open_id.finish()),
            Arc::new(self.union_id.finish()),
            Arc::new(self.create_time.finish()),
            Arc::new(self.pay_time.finish()),
            Arc::new(self.update_time.finish()),
            Arc::new(self.order_amount.finish()),
            Arc::new(self.promotion_amount.finish()),
            Arc::new(self.room_id.finish()),
            Arc::new(self.room_id_str.finish()),
            Arc::new(self.product_id.finish()),
            Arc::new(self.first_cname.finish()),
            Arc::new(self.brand_name.finish()),
            Arc::new(self.post_province.finish()),
        ];
        RecordBatch::try_new(order_schema(), cols)
    }
}
