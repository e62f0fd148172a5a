//! Taobao Live: `raw/taobao_live/trade` (times as Beijing wall-clock strings,
//! money in yuan strings) and `raw/taobao_live/live_event`.

use super::{LiveKind, LiveRow, OrderRow, OrderStatus, field};
use crate::calendar::push_beijing_datetime;
use crate::catalog::TAOBAO_APP_KEY;
use crate::ids::{Alphabet, push_token, scramble};
use crate::rng::mix64;
use arrow::array::{ArrayRef, Int64Builder, RecordBatch, StringBuilder};
use arrow::datatypes::{DataType, Schema, SchemaRef};
use arrow::error::ArrowError;
use std::fmt::Write;
use std::sync::{Arc, OnceLock};

const SALT_EVENT: u64 = 0x7b_0001;
const SALT_TRADE: u64 = 0x7b_0003;

/// Schema of `raw/taobao_live/trade`.
pub fn trade_schema() -> SchemaRef {
    static S: OnceLock<SchemaRef> = OnceLock::new();
    S.get_or_init(|| {
        Arc::new(Schema::new(vec![
            field("tid", DataType::Utf8, false),
            field("status", DataType::Utf8, false),
            field("appkey", DataType::Utf8, false),
            field("buyer_open_uid", DataType::Utf8, false),
            field("created", DataType::Utf8, false),
            field("pay_time", DataType::Utf8, true),
            field("modified", DataType::Utf8, false),
            field("payment", DataType::Utf8, false),
            field("discount_fee", DataType::Utf8, false),
            field("num_iid", DataType::Int64, false),
            field("cat_name", DataType::Utf8, false),
            field("brand", DataType::Utf8, false),
            field("receiver_state", DataType::Utf8, false),
        ]))
    })
    .clone()
}

/// Taobao trade `status`.
pub fn status_name(s: OrderStatus) -> &'static str {
    match s {
        OrderStatus::Created => "WAIT_BUYER_PAY",
        OrderStatus::Paid => "WAIT_SELLER_SEND_GOODS",
        OrderStatus::Refunded => "TRADE_CLOSED",
    }
}

/// Appends fen as yuan with two decimals (`12345` -> `"123.45"`).
pub fn push_yuan(buf: &mut String, fen: i64) {
    let sign = if fen < 0 { "-" } else { "" };
    let f = fen.abs();
    let _ = write!(buf, "{sign}{}.{:02}", f / 100, f % 100);
}

/// Builder of `raw/taobao_live/trade`.
#[derive(Default)]
pub struct TradeBuilder {
    tid: StringBuilder,
    status: StringBuilder,
    appkey: StringBuilder,
    buyer_open_uid: StringBuilder,
    created: StringBuilder,
    pay_time: StringBuilder,
    modified: StringBuilder,
    payment: StringBuilder,
    discount_fee: StringBuilder,
    num_iid: Int64Builder,
    cat_name: StringBuilder,
    brand: StringBuilder,
    receiver_state: StringBuilder,
    buf: String,
}

impl TradeBuilder {
    /// Appends one trade status row.
    pub fn push(&mut self, r: &OrderRow) {
        self.buf.clear();
        let id = 4_100_000_000_000_000_000u64 + scramble(r.order_code, 56, SALT_TRADE);
        let _ = write!(self.buf, "{id}");
        self.tid.append_value(&self.buf);
        self.status.append_value(status_name(r.status));
        self.appkey.append_value(TAOBAO_APP_KEY);
        self.buyer_open_uid.append_value(r.account_id);
        self.buf.clear();
        push_beijing_datetime(&mut self.buf, r.create_ms);
        self.created.append_value(&self.buf);
        match r.pay_ms {
            Some(t) => {
                self.buf.clear();
                push_beijing_datetime(&mut self.buf, t);
                self.pay_time.append_value(&self.buf);
            }
            None => self.pay_time.append_null(),
        }
        self.buf.clear();
        push_beijing_datetime(&mut self.buf, r.update_ms);
        self.modified.append_value(&self.buf);
        self.buf.clear();
        push_yuan(&mut self.buf, r.amount_fen);
        self.payment.append_value(&self.buf);
        self.buf.clear();
        push_yuan(&mut self.buf, r.discount_fen);
        self.discount_fee.append_value(&self.buf);
        self.num_iid.append_value(r.product.taobao_id);
        self.cat_name.append_value(r.product.category_name());
        self.brand.append_value(r.product.brand_name());
        self.receiver_state.append_value(r.province);
    }

    /// Finishes the batch.
    pub fn finish(mut self) -> Result<RecordBatch, ArrowError> {
        let cols: Vec<ArrayRef> = vec![
            Arc::new(self.tid.finish()),
            Arc::new(self.status.finish()),
            Arc::new(self.appkey.finish()),
            Arc::new(self.buyer_open_uid.finish()),
            Arc::new(self.created.finish()),
            Arc::new(self.pay_time.finish()),
            Arc::new(self.modified.finish()),
            Arc::new(self.payment.finish()),
            Arc::new(self.discount_fee.finish()),
            Arc::new(self.num_iid.finish()),
            Arc::new(self.cat_name.finish()),
            Arc::new(self.brand.finish()),
            Arc::new(self.receiver_state.finish()),
        ];
        RecordBatch::try_new(trade_schema(), cols)
    }
}

/// Schema of `raw/taobao_live/live_event`.
pub fn live_schema() -> SchemaRef {
    static S: OnceLock<SchemaRef> = OnceLock::new();
    S.get_or_init(|| {
        Arc::new(Schema::new(vec![
            field("event_id", DataType::Utf8, false),
            field("action", DataType::Utf8, false),
            field("appkey", DataType::Utf8, false),
            field("buyer_open_uid", DataType::Utf8, false),
            field("live_id", DataType::Utf8, false),
            field("event_time", DataType::Utf8, false),
            field("stay_time", DataType::Int64, true),
            field("num_iid", DataType::Int64, true),
            field("cat_name", DataType::Utf8, true),
            field("brand", DataType::Utf8, true),
            field("utdid", DataType::Utf8, true),
        ]))
    })
    .clone()
}

/// The `action` of a live interaction (Taobao has no gifts).
pub fn action(k: LiveKind) -> &'static str {
    match k {
        LiveKind::Enter => "enter",
        LiveKind::Leave => "leave",
        LiveKind::Like => "like",
        LiveKind::Comment => "comment",
        LiveKind::Share => "share",
        LiveKind::Follow => "follow",
        LiveKind::Unfollow => "unfollow",
        LiveKind::ProductClick => "item_click",
        LiveKind::AddCart => "add_cart",
        LiveKind::Gift => "gift",
    }
}

/// Builder of `raw/taobao_live/live_event`.
#[derive(Default)]
pub struct LiveBuilder {
    event_id: StringBuilder,
    action: StringBuilder,
    appkey: StringBuilder,
    buyer_open_uid: StringBuilder,
    live_id: StringBuilder,
    event_time: StringBuilder,
    stay_time: Int64Builder,
    num_iid: Int64Builder,
    cat_name: StringBuilder,
    brand: StringBuilder,
    utdid: StringBuilder,
    buf: String,
}

impl LiveBuilder {
    /// Appends one event.
    pub fn push(&mut self, r: &LiveRow) {
        debug_assert!(r.kind != LiveKind::Gift, "Taobao live events have no gifts");
        self.buf.clear();
        push_token(&mut self.buf, mix64(r.code ^ SALT_EVENT), 32, Alphabet::Hex);
        self.event_id.append_value(&self.buf);
        self.action.append_value(action(r.kind));
        self.appkey.append_value(TAOBAO_APP_KEY);
        self.buyer_open_uid.append_value(r.account_id);
        self.live_id.append_value(&r.show.text);
        self.buf.clear();
        push_beijing_datetime(&mut self.buf, r.t_ms);
        self.event_time.append_value(&self.buf);
        self.stay_time
            .append_option((r.kind == LiveKind::Leave).then_some(r.watch_ms / 1000));
        self.num_iid.append_option(r.product.map(|p| p.taobao_id));
        self.cat_name
            .append_option(r.product.map(|p| p.category_name()));
        self.brand.append_option(r.product.map(|p| p.brand_name()));
        self.utdid.append_option(r.device);
    }

    /// Finishes the batch.
    pub fn finish(mut self) -> Result<RecordBatch, ArrowError> {
        let cols: Vec<ArrayRef> = vec![
            Arc::new(self.event_id.finish()),
            Arc::new(self.action.finish()),
            Arc::new(self.appkey.finish()),
            Arc::new(self.buyer_open_uid.finish()),
            Arc::new(self.live_id.finish()),
            Arc::new(self.event_time.finish()),
            Arc::new(self.stay_time.finish()),
            Arc::new(self.num_iid.finish()),
            Arc::new(self.cat_name.finish()),
            Arc::new(self.brand.finish()),
            Arc::new(self.utdid.finish()),
        ];
        RecordBatch::try_new(live_schema(), cols)
    }
}

#[cfg(test)]
mod tests {
    use super::push_yuan;

    #[test]
    fn yuan() {
        let mut s = String::new();
        push_yuan(&mut s, 20_007);
        assert_eq!(s, "200.07");
        s.clear();
        push_yuan(&mut s, 5);
        assert_eq!(s, "0.05");
    }
}
