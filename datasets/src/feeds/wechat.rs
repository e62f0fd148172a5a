//! WeChat Channels: `raw/wechat_channels/order` and
//! `raw/wechat_channels/live_event`.

use super::{LiveKind, LiveRow, OrderRow, OrderStatus, field};
use crate::catalog::{WECHAT_FINDER_ID, WECHAT_SHOP_APPID};
use crate::ids::{Alphabet, push_token, scramble};
use crate::rng::mix64;
use arrow::array::{ArrayRef, Int32Builder, Int64Builder, RecordBatch, StringBuilder};
use arrow::datatypes::{DataType, Schema, SchemaRef};
use arrow::error::ArrowError;
use std::fmt::Write;
use std::sync::{Arc, OnceLock};

const SALT_MSG: u64 = 0x3c_0001;
const SALT_ORDER: u64 = 0x3c_0003;

/// Schema of `raw/wechat_channels/order`.
pub fn order_schema() -> SchemaRef {
    static S: OnceLock<SchemaRef> = OnceLock::new();
    S.get_or_init(|| {
        Arc::new(Schema::new(vec![
            field("order_id", DataType::Utf8, false),
            field("status", DataType::Int32, false),
            field("appid", DataType::Utf8, false),
            field("openid", DataType::Utf8, false),
            field("unionid", DataType::Utf8, true),
            field("create_time", DataType::Int64, false),
            field("pay_time", DataType::Int64, false),
            field("update_time", DataType::Int64, false),
            field("order_price", DataType::Int64, false),
            field("discounted_price", DataType::Int64, false),
            field("product_id", DataType::Utf8, false),
            field("cat_name", DataType::Utf8, false),
            field("brand_name", DataType::Utf8, false),
            field("finder_id", DataType::Utf8, false),
            field("live_id", DataType::Utf8, true),
            field("province", DataType::Utf8, false),
        ]))
    })
    .clone()
}

/// WeChat Channels order `status` code.
pub fn status_code(s: OrderStatus) -> i32 {
    match s {
        OrderStatus::Created => 10,
        OrderStatus::Paid => 20,
        OrderStatus::Refunded => 200,
    }
}

/// Builder of `raw/wechat_channels/order`.
#[derive(Default)]
pub struct OrderBuilder {
    order_id: StringBuilder,
    status: Int32Builder,
    appid: StringBuilder,
    openid: StringBuilder,
    unionid: StringBuilder,
    create_time: Int64Builder,
    pay_time: Int64Builder,
    update_time: Int64Builder,
    order_price: Int64Builder,
    discounted_price: Int64Builder,
    product_id: StringBuilder,
    cat_name: StringBuilder,
    brand_name: StringBuilder,
    finder_id: StringBuilder,
    live_id: StringBuilder,
    province: StringBuilder,
    buf: String,
}

impl OrderBuilder {
    /// Appends one order status row.
    pub fn push(&mut self, r: &OrderRow) {
        self.buf.clear();
        let id = 3_700_000_000_000_000_000u64 + scramble(r.order_code, 56, SALT_ORDER);
        let _ = write!(self.buf, "{id}");
        self.order_id.append_value(&self.buf);
        self.status.append_value(status_code(r.status));
        self.appid.append_value(WECHAT_SHOP_APPID);
        self.openid.append_value(r.account_id);
        self.unionid.append_option(r.union_id);
        self.create_time.append_value(r.create_ms.div_euclid(1000));
        self.pay_time
            .append_value(r.pay_ms.map_or(0, |t| t.div_euclid(1000)));
        self.update_time.append_value(r.update_ms.div_euclid(1000));
        self.order_price.append_value(r.amount_fen);
        self.discounted_price.append_value(r.discount_fen);
        self.product_id.append_value(&r.product.wechat_id);
        self.cat_name.append_value(r.product.category_name());
        self.brand_name.append_value(r.product.brand_name());
        self.finder_id.append_value(WECHAT_FINDER_ID);
        self.live_id.append_option(r.show.map(|s| s.text.as_str()));
        self.province.append_value(r.province);
    }

    /// Finishes the batch.
    pub fn finish(mut self) -> Result<RecordBatch, ArrowError> {
        let cols: Vec<ArrayRef> = vec![
            Arc::new(self.order_id.finish()),
            Arc::new(self.status.finish()),
            Arc::new(self.appid.finish()),
            Arc::new(self.openid.finish()),
            Arc::new(self.unionid.finish()),
            Arc::new(self.create_time.finish()),
            Arc::new(self.pay_time.finish()),
            Arc::new(self.update_time.finish()),
            Arc::new(self.order_price.finish()),
            Arc::new(self.discounted_price.finish()),
            Arc::new(self.product_id.finish()),
            Arc::new(self.cat_name.finish()),
            Arc::new(self.brand_name.finish()),
            Arc::new(self.finder_id.finish()),
            Arc::new(self.live_id.finish()),
            Arc::new(self.province.finish()),
        ];
        RecordBatch::try_new(order_schema(), cols)
    }
}

/// Schema of `raw/wechat_channels/live_event`.
pub fn live_schema() -> SchemaRef {
    static S: OnceLock<SchemaRef> = OnceLock::new();
    S.get_or_init(|| {
        Arc::new(Schema::new(vec![
            field("msg_id", DataType::Utf8, false),
            field("event", DataType::Utf8, false),
            field("appid", DataType::Utf8, false),
            field("openid", DataType::Utf8, false),
            field("unionid", DataType::Utf8, true),
            field("live_id", DataType::Utf8, false),
            field("create_time", DataType::Int64, false),
            field("stay_seconds", DataType::Int64, true),
            field("product_id", DataType::Utf8, true),
            field("cat_name", DataType::Utf8, true),
            field("brand_name", DataType::Utf8, true),
        ]))
    })
    .clone()
}

/// The `event` of a live interaction (WeChat has no gifts).
pub fn event_name(k: LiveKind) -> &'static str {
    match k {
        LiveKind::Enter => "enter",
        LiveKind::Leave => "leave",
        LiveKind::Like => "like",
        LiveKind::Comment => "comment",
        LiveKind::Share => "share",
        LiveKind::Follow => "follow",
        LiveKind::Unfollow => "unfollow",
        LiveKind::ProductClick => "product_click",
        LiveKind::AddCart => "add_cart",
        LiveKind::Gift => "gift",
    }
}

/// Builder of `raw/wechat_channels/live_event`.
#[derive(Default)]
pub struct LiveBuilder {
    msg_id: StringBuilder,
    event: StringBuilder,
    appid: StringBuilder,
    openid: StringBuilder,
    unionid: StringBuilder,
    live_id: StringBuilder,
    create_time: Int64Builder,
    stay_seconds: Int64Builder,
    product_id: StringBuilder,
    cat_name: StringBuilder,
    brand_name: StringBuilder,
    buf: String,
}

impl LiveBuilder {
    /// Appends one event.
    pub fn push(&mut self, r: &LiveRow) {
        debug_assert!(r.kind != LiveKind::Gift, "WeChat live events have no gifts");
        self.buf.clear();
        push_token(
            &mut self.buf,
            mix64(r.code ^ SALT_MSG),
            22,
            Alphabet::Base64,
        );
        self.msg_id.append_value(&self.buf);
        self.event.append_value(event_name(r.kind));
        self.appid.append_value(WECHAT_SHOP_APPID);
        self.openid.append_value(r.account_id);
        self.unionid.append_option(r.union_id);
        self.live_id.append_value(&r.show.text);
        self.create_time.append_value(r.t_ms.div_euclid(1000));
        self.stay_seconds
            .append_option((r.kind == LiveKind::Leave).then_some(r.watch_ms / 1000));
        self.product_id
            .append_option(r.product.map(|p| p.wechat_id.as_str()));
        self.cat_name
            .append_option(r.product.map(|p| p.category_name()));
        self.brand_name
            .append_option(r.product.map(|p| p.brand_name()));
    }

    /// Finishes the batch.
    pub fn finish(mut self) -> Result<RecordBatch, ArrowError> {
        let cols: Vec<ArrayRef> = vec![
            Arc::new(self.msg_id.finish()),
            Arc::new(self.event.finish()),
            Arc::new(self.appid.finish()),
            Arc::new(self.openid.finish()),
            Arc::new(self.unionid.finish()),
            Arc::new(self.live_id.finish()),
            Arc::new(self.create_time.finish()),
            Arc::new(self.stay_seconds.finish()),
            Arc::new(self.product_id.finish()),
            Arc::new(self.cat_name.finish()),
            Arc::new(self.brand_name.finish()),
        ];
        RecordBatch::try_new(live_schema(), cols)
    }
}
