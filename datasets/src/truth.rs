//! Ground truth (`truth/`) and the per-chunk first-party tables that are not
//! partitioned by date (`firstparty/members`, `firstparty/consents`).

use crate::catalog::{
    AccountKind, BRANDS, CATEGORIES, Channel, EVENT_TYPE_NAMES, EVENT_TYPES, PROVINCES, Platform,
    SLOTS,
};
use crate::feeds::firstparty::{ConsentBuilder, MemberBuilder};
use crate::feeds::{Sink, field};
use crate::model::Population;
use crate::sim::JUNK_DEVICE_IDS;
use crate::world::World;
use arrow::array::{
    ArrayRef, BooleanBuilder, Date32Builder, Float64Builder, Int32Builder, Int64Builder,
    RecordBatch, StringBuilder,
};
use arrow::datatypes::{DataType, Schema, SchemaRef};
use arrow::error::ArrowError;
use std::sync::{Arc, OnceLock};

/// Schema of `truth/persons.parquet`.
pub fn persons_schema() -> SchemaRef {
    static S: OnceLock<SchemaRef> = OnceLock::new();
    S.get_or_init(|| {
        Arc::new(Schema::new(vec![
            field("person_id", DataType::Utf8, false),
            field("province", DataType::Utf8, false),
            field("n_accounts", DataType::Int32, false),
            field("is_member", DataType::Boolean, false),
            field("price_sensitivity", DataType::Float64, false),
            field("price_sensitive", DataType::Boolean, false),
            field("brand_loyalty", DataType::Float64, false),
            field("brand_loyal", DataType::Boolean, false),
            field("preferred_brand", DataType::Utf8, false),
            field("top_category", DataType::Utf8, false),
            field("categories", DataType::Utf8, false),
            field("active_slot", DataType::Utf8, false),
            field("tolerance", DataType::Float64, false),
            field("intolerant", DataType::Boolean, false),
            field("churn_platform", DataType::Utf8, true),
            field("churn_date", DataType::Date32, true),
        ]))
    })
    .clone()
}

/// Schema of `truth/accounts.parquet`.
pub fn accounts_schema() -> SchemaRef {
    static S: OnceLock<SchemaRef> = OnceLock::new();
    S.get_or_init(|| {
        Arc::new(Schema::new(vec![
            field("platform", DataType::Utf8, false),
            field("account_scope", DataType::Utf8, false),
            field("account_id", DataType::Utf8, false),
            field("person_id", DataType::Utf8, false),
            field("account_type", DataType::Utf8, false),
            field("events", DataType::Int64, false),
        ]))
    })
    .clone()
}

/// Schema of `truth/devices.parquet`.
pub fn devices_schema() -> SchemaRef {
    static S: OnceLock<SchemaRef> = OnceLock::new();
    S.get_or_init(|| {
        Arc::new(Schema::new(vec![
            field("device_id", DataType::Utf8, false),
            field("kind", DataType::Utf8, false),
            field("n_persons", DataType::Int64, false),
        ]))
    })
    .clone()
}

/// Schema of `truth/event_counts.parquet`.
pub fn event_counts_schema() -> SchemaRef {
    static S: OnceLock<SchemaRef> = OnceLock::new();
    S.get_or_init(|| {
        Arc::new(Schema::new(vec![
            field("platform", DataType::Utf8, false),
            field("event_type", DataType::Utf8, false),
            field("events", DataType::Int64, false),
        ]))
    })
    .clone()
}

/// The single-file tables contributed by one chunk.
pub struct ChunkTables {
    /// Rows of `truth/persons.parquet`.
    pub persons: RecordBatch,
    /// Rows of `truth/accounts.parquet`.
    pub accounts: RecordBatch,
    /// Personal and family rows of `truth/devices.parquet`.
    pub devices: RecordBatch,
    /// Rows of `firstparty/members`.
    pub members: RecordBatch,
    /// Rows of `firstparty/consents`.
    pub consents: RecordBatch,
    /// Distinct persons of the chunk whose rows carried each junk device id.
    pub junk_persons: [u64; 5],
}

/// Builds a chunk's single-file tables once its simulation is over.
pub fn chunk_tables(w: &World, pop: &Population, sink: &Sink) -> Result<ChunkTables, ArrowError> {
    let n = pop.persons.len();
    let mut person_id = StringBuilder::with_capacity(n, n * 10);
    let mut province = StringBuilder::new();
    let mut n_accounts = Int32Builder::with_capacity(n);
    let mut is_member = BooleanBuilder::with_capacity(n);
    let mut price_sensitivity = Float64Builder::with_capacity(n);
    let mut price_sensitive = BooleanBuilder::with_capacity(n);
    let mut brand_loyalty = Float64Builder::with_capacity(n);
    let mut brand_loyal = BooleanBuilder::with_capacity(n);
    let mut preferred_brand = StringBuilder::new();
    let mut top_category = StringBuilder::new();
    let mut categories = StringBuilder::new();
    let mut active_slot = StringBuilder::new();
    let mut tolerance = Float64Builder::with_capacity(n);
    let mut intolerant = BooleanBuilder::with_capacity(n);
    let mut churn_platform = StringBuilder::new();
    let mut churn_date = Date32Builder::with_capacity(n);

    let mut a_platform = StringBuilder::new();
    let mut a_scope = StringBuilder::new();
    let mut a_id = StringBuilder::new();
    let mut a_person = StringBuilder::new();
    let mut a_type = StringBuilder::new();
    let mut a_events = Int64Builder::new();

    let mut d_id = StringBuilder::new();
    let mut d_kind = StringBuilder::new();
    let mut d_n = Int64Builder::new();

    let mut members = MemberBuilder::default();
    let mut consents = ConsentBuilder::default();
    let mut junk_persons = [0u64; 5];
    let mut buf = String::new();

    for (local, person) in pop.persons.iter().enumerate() {
        let p = &person.profile;
        let st = &person.state;
        person_id.append_value(&p.person_id);
        province.append_value(PROVINCES[p.province as usize].0);
        n_accounts.append_value(p.n_accounts() as i32);
        is_member.append_value(p.member.is_some());
        price_sensitivity.append_value(p.price_sensitivity);
        price_sensitive.append_value(p.price_sensitivity >= 0.6);
        brand_loyalty.append_value(p.brand_loyalty);
        brand_loyal.append_value(p.loyal());
        preferred_brand.append_value(BRANDS[p.preferred_brand as usize].0);
        top_category.append_value(CATEGORIES[p.categories[0] as usize].0);
        buf.clear();
        for (i, &c) in p.categories[..p.n_categories as usize].iter().enumerate() {
            if i > 0 {
                buf.push(',');
            }
            buf.push_str(CATEGORIES[c as usize].0);
        }
        categories.append_value(&buf);
        active_slot.append_value(SLOTS[p.slot as usize].0);
        tolerance.append_value(p.tolerance);
        intolerant.append_value(p.tolerance < 0.3);
        match p.churn {
            Some((plat, day)) => {
                churn_platform.append_value(plat.name());
                churn_date.append_value((w.start_day + day as i64) as i32);
            }
            None => {
                churn_platform.append_null();
                churn_date.append_null();
            }
        }

        for k in AccountKind::ALL {
            if let Some(id) = &p.accounts[k as usize] {
                a_platform.append_value(k.platform().name());
                a_scope.append_value(k.scope());
                a_id.append_value(id);
                a_person.append_value(&p.person_id);
                a_type.append_value(k.type_name());
                a_events.append_value(sink.events_of(local, k) as i64);
            }
        }

        if let Some(dev) = &p.device {
            d_id.append_value(dev);
            d_kind.append_value("personal");
            d_n.append_value(1);
        }
        for (j, jp) in junk_persons.iter_mut().enumerate() {
            *jp += (st.junk_seen >> j & 1) as u64;
        }

        if let Some(m) = &p.member {
            for k in AccountKind::ALL {
                if let (Some(t), Some(id)) = (m.bound[k as usize], &p.accounts[k as usize]) {
                    members.push(&m.id, &m.phone_key, k, id, t);
                }
            }
        }
        for c in Channel::ALL {
            let cs = &st.channels[c as usize];
            if let Some(k) = cs.account
                && let Some(id) = &p.accounts[k as usize]
            {
                let withdrawn = (cs.withdrawn_ms != i64::MAX).then_some(cs.withdrawn_ms);
                consents.push(
                    p.member.as_ref().map(|m| m.id.as_str()),
                    k,
                    id,
                    c.name(),
                    cs.granted_ms,
                    withdrawn,
                );
            }
        }
    }
    for h in &pop.households {
        d_id.append_value(&h.device);
        d_kind.append_value("family");
        d_n.append_value(h.size as i64);
    }

    let persons = RecordBatch::try_new(
        persons_schema(),
        vec![
            Arc::new(person_id.finish()) as ArrayRef,
            Arc::new(province.finish()),
            Arc::new(n_accounts.finish()),
            Arc::new(is_member.finish()),
            Arc::new(price_sensitivity.finish()),
            Arc::new(price_sensitive.finish()),
            Arc::new(brand_loyalty.finish()),
            Arc::new(brand_loyal.finish()),
            Arc::new(preferred_brand.finish()),
            Arc::new(top_category.finish()),
            Arc::new(categories.finish()),
            Arc::new(active_slot.finish()),
            Arc::new(tolerance.finish()),
            Arc::new(intolerant.finish()),
            Arc::new(churn_platform.finish()),
            Arc::new(churn_date.finish()),
        ],
    )?;
    let accounts = RecordBatch::try_new(
        accounts_schema(),
        vec![
            Arc::new(a_platform.finish()) as ArrayRef,
            Arc::new(a_scope.finish()),
            Arc::new(a_id.finish()),
            Arc::new(a_person.finish()),
            Arc::new(a_type.finish()),
            Arc::new(a_events.finish()),
        ],
    )?;
    let devices = RecordBatch::try_new(
        devices_schema(),
        vec![
            Arc::new(d_id.finish()) as ArrayRef,
            Arc::new(d_kind.finish()),
            Arc::new(d_n.finish()),
        ],
    )?;
    Ok(ChunkTables {
        persons,
        accounts,
        devices,
        members: members.finish()?,
        consents: consents.finish()?,
        junk_persons,
    })
}

/// The junk rows of `truth/devices.parquet` (ids seen on at least one row).
pub fn junk_devices(junk_persons: &[u64; 5]) -> Result<RecordBatch, ArrowError> {
    let mut id = StringBuilder::new();
    let mut kind = StringBuilder::new();
    let mut n = Int64Builder::new();
    for (j, &count) in junk_persons.iter().enumerate() {
        if count > 0 {
            id.append_value(JUNK_DEVICE_IDS[j]);
            kind.append_value("junk");
            n.append_value(count as i64);
        }
    }
    RecordBatch::try_new(
        devices_schema(),
        vec![
            Arc::new(id.finish()) as ArrayRef,
            Arc::new(kind.finish()),
            Arc::new(n.finish()),
        ],
    )
}

/// `truth/event_counts.parquet`: non-zero (platform, event_type) counts.
pub fn event_counts(counts: &[[u64; EVENT_TYPES]; 4]) -> Result<RecordBatch, ArrowError> {
    let mut platform = StringBuilder::new();
    let mut event_type = StringBuilder::new();
    let mut events = Int64Builder::new();
    for p in Platform::ALL {
        for (e, &c) in counts[p as usize].iter().enumerate() {
            if c > 0 {
                platform.append_value(p.name());
                event_type.append_value(EVENT_TYPE_NAMES[e]);
                events.append_value(c as i64);
            }
        }
    }
    RecordBatch::try_new(
        event_counts_schema(),
        vec![
            Arc::new(platform.finish()) as ArrayRef,
            Arc::new(event_type.finish()),
            Arc::new(events.finish()),
        ],
    )
}
