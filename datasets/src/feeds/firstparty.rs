//! The brand's own tables: `firstparty/touches`, `firstparty/feedback`
//! (partitioned by date), `firstparty/members` and `firstparty/consents`.

use super::{FeedbackRow, TouchRow, field, ts_type};
use crate::catalog::AccountKind;
use crate::ids::{Alphabet, push_token};
use crate::rng::mix64;
use arrow::array::{ArrayRef, RecordBatch, StringBuilder, TimestampMillisecondBuilder};
use arrow::datatypes::{DataType, Schema, SchemaRef};
use arrow::error::ArrowError;
use std::sync::{Arc, OnceLock};

const SALT_TOUCH: u64 = 0xf1_0001;
const SALT_FEEDBACK: u64 = 0xf1_0002;

/// Schema of `firstparty/touches`.
pub fn touches_schema() -> SchemaRef {
    static S: OnceLock<SchemaRef> = OnceLock::new();
    S.get_or_init(|| {
        Arc::new(Schema::new(vec![
            field("touch_id", DataType::Utf8, false),
            field("channel", DataType::Utf8, false),
            field("platform", DataType::Utf8, false),
            field("account_scope", DataType::Utf8, false),
            field("account_id", DataType::Utf8, false),
            field("union_id", DataType::Utf8, true),
            field("campaign", DataType::Utf8, false),
            field("sent_at", ts_type(), false),
            field("opened_at", ts_type(), true),
            field("clicked_at", ts_type(), true),
        ]))
    })
    .clone()
}

/// Builder of `firstparty/touches`.
#[derive(Default)]
pub struct TouchBuilder {
    touch_id: StringBuilder,
    channel: StringBuilder,
    platform: StringBuilder,
    account_scope: StringBuilder,
    account_id: StringBuilder,
    union_id: StringBuilder,
    campaign: StringBuilder,
    sent_at: TimestampMillisecondBuilder,
    opened_at: TimestampMillisecondBuilder,
    clicked_at: TimestampMillisecondBuilder,
    buf: String,
}

impl TouchBuilder {
    /// Appends one touch.
    pub fn push(&mut self, r: &TouchRow) {
        self.buf.clear();
        self.buf.push_str("tch_");
        push_token(&mut self.buf, mix64(r.code ^ SALT_TOUCH), 20, Alphabet::Hex);
        self.touch_id.append_value(&self.buf);
        self.channel.append_value(r.channel.name());
        self.platform.append_value(r.account.platform().name());
        self.account_scope.append_value(r.account.scope());
        self.account_id.append_value(r.account_id);
        self.union_id.append_option(r.union_id);
        self.campaign.append_value(r.campaign);
        self.sent_at.append_value(r.sent_ms);
        self.opened_at.append_option(r.opened_ms);
        self.clicked_at.append_option(r.clicked_ms);
    }

    /// Finishes the batch.
    pub fn finish(mut self) -> Result<RecordBatch, ArrowError> {
        let cols: Vec<ArrayRef> = vec![
            Arc::new(self.touch_id.finish()),
            Arc::new(self.channel.finish()),
            Arc::new(self.platform.finish()),
            Arc::new(self.account_scope.finish()),
            Arc::new(self.account_id.finish()),
            Arc::new(self.union_id.finish()),
            Arc::new(self.campaign.finish()),
            Arc::new(self.sent_at.finish().with_timezone("UTC")),
            Arc::new(self.opened_at.finish().with_timezone("UTC")),
            Arc::new(self.clicked_at.finish().with_timezone("UTC")),
        ];
        RecordBatch::try_new(touches_schema(), cols)
    }
}

/// Schema of `firstparty/feedback`.
pub fn feedback_schema() -> SchemaRef {
    static S: OnceLock<SchemaRef> = OnceLock::new();
    S.get_or_init(|| {
        Arc::new(Schema::new(vec![
            field("feedback_id", DataType::Utf8, false),
            field("kind", DataType::Utf8, false),
            field("channel", DataType::Utf8, false),
            field("platform", DataType::Utf8, false),
            field("account_scope", DataType::Utf8, false),
            field("account_id", DataType::Utf8, false),
            field("ts", ts_type(), false),
        ]))
    })
    .clone()
}

/// Builder of `firstparty/feedback`.
#[derive(Default)]
pub struct FeedbackBuilder {
    feedback_id: StringBuilder,
    kind: StringBuilder,
    channel: StringBuilder,
    platform: StringBuilder,
    account_scope: StringBuilder,
    account_id: StringBuilder,
    ts: TimestampMillisecondBuilder,
    buf: String,
}

impl FeedbackBuilder {
    /// Appends one feedback.
    pub fn push(&mut self, r: &FeedbackRow) {
        self.buf.clear();
        self.buf.push_str("fb_");
        push_token(
            &mut self.buf,
            mix64(r.code ^ SALT_FEEDBACK),
            20,
            Alphabet::Hex,
        );
        self.feedback_id.append_value(&self.buf);
        self.kind.append_value(r.kind.name());
        self.channel.append_value(r.channel.name());
        self.platform.append_value(r.account.platform().name());
        self.account_scope.append_value(r.account.scope());
        self.account_id.append_value(r.account_id);
        self.ts.append_value(r.ts_ms);
    }

    /// Finishes the batch.
    pub fn finish(mut self) -> Result<RecordBatch, ArrowError> {
        let cols: Vec<ArrayRef> = vec![
            Arc::new(self.feedback_id.finish()),
            Arc::new(self.kind.finish()),
            Arc::new(self.channel.finish()),
            Arc::new(self.platform.finish()),
            Arc::new(self.account_scope.finish()),
            Arc::new(self.account_id.finish()),
            Arc::new(self.ts.finish().with_timezone("UTC")),
        ];
        RecordBatch::try_new(feedback_schema(), cols)
    }
}

/// Schema of `firstparty/members`.
pub fn members_schema() -> SchemaRef {
    static S: OnceLock<SchemaRef> = OnceLock::new();
    S.get_or_init(|| {
        Arc::new(Schema::new(vec![
            field("member_id", DataType::Utf8, false),
            field("phone_key", DataType::Utf8, false),
            field("platform", DataType::Utf8, false),
            field("account_scope", DataType::Utf8, false),
            field("account_id", DataType::Utf8, false),
            field("bound_at", ts_type(), false),
        ]))
    })
    .clone()
}

/// Builder of `firstparty/members`.
#[derive(Default)]
pub struct MemberBuilder {
    member_id: StringBuilder,
    phone_key: StringBuilder,
    platform: StringBuilder,
    account_scope: StringBuilder,
    account_id: StringBuilder,
    bound_at: TimestampMillisecondBuilder,
}

impl MemberBuilder {
    /// Appends one bound account of a member.
    pub fn push(
        &mut self,
        member_id: &str,
        phone_key: &str,
        account: AccountKind,
        account_id: &str,
        bound_ms: i64,
    ) {
        self.member_id.append_value(member_id);
        self.phone_key.append_value(phone_key);
        self.platform.append_value(account.platform().name());
        self.account_scope.append_value(account.scope());
        self.account_id.append_value(account_id);
        self.bound_at.append_value(bound_ms);
    }

    /// Finishes the batch.
    pub fn finish(mut self) -> Result<RecordBatch, ArrowError> {
        let cols: Vec<ArrayRef> = vec![
            Arc::new(self.member_id.finish()),
            Arc::new(self.phone_key.finish()),
            Arc::new(self.platform.finish()),
            Arc::new(self.account_scope.finish()),
            Arc::new(self.account_id.finish()),
            Arc::new(self.bound_at.finish().with_timezone("UTC")),
        ];
        RecordBatch::try_new(members_schema(), cols)
    }
}

/// Schema of `firstparty/consents`.
pub fn consents_schema() -> SchemaRef {
    static S: OnceLock<SchemaRef> = OnceLock::new();
    S.get_or_init(|| {
        Arc::new(Schema::new(vec![
            field("member_id", DataType::Utf8, true),
            field("platform", DataType::Utf8, false),
            field("account_scope", DataType::Utf8, false),
            field("account_id", DataType::Utf8, false),
            field("purpose", DataType::Utf8, false),
            field("channel", DataType::Utf8, false),
            field("granted_at", ts_type(), false),
            field("withdrawn_at", ts_type(), true),
        ]))
    })
    .clone()
}

/// Builder of `firstparty/consents`.
#[derive(Default)]
pub struct ConsentBuilder {
    member_id: StringBuilder,
    platform: StringBuilder,
    account_scope: StringBuilder,
    account_id: StringBuilder,
    purpose: StringBuilder,
    channel: StringBuilder,
    granted_at: TimestampMillisecondBuilder,
    withdrawn_at: TimestampMillisecondBuilder,
}

impl ConsentBuilder {
    /// Appends one consent.
    #[allow(clippy::too_many_arguments)]
    pub fn push(
        &mut self,
        member_id: Option<&str>,
        account: AccountKind,
        account_id: &str,
        channel: &str,
        granted_ms: i64,
        withdrawn_ms: Option<i64>,
    ) {
        self.member_id.append_option(member_id);
        self.platform.append_value(account.platform().name());
        self.account_scope.append_value(account.scope());
        self.account_id.append_value(account_id);
        self.purpose.append_value("marketing");
        self.channel.append_value(channel);
        self.granted_at.append_value(granted_ms);
        self.withdrawn_at.append_option(withdrawn_ms);
    }

    /// Finishes the batch.
    pub fn finish(mut self) -> Result<RecordBatch, ArrowError> {
        let cols: Vec<ArrayRef> = vec![
            Arc::new(self.member_id.finish()),
            Arc::new(self.platform.finish()),
            Arc::new(self.account_scope.finish()),
            Arc::new(self.account_id.finish()),
            Arc::new(self.purpose.finish()),
            Arc::new(self.channel.finish()),
            Arc::new(self.granted_at.finish().with_timezone("UTC")),
            Arc::new(self.withdrawn_at.finish().with_timezone("UTC")),
        ];
        RecordBatch::try_new(consents_schema(), cols)
    }
}
