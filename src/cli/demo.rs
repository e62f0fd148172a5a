//! `plinkdb demo`: the story end to end on the sample, as a readable report. Each
//! section is plain SQL that an analyst could type; the report grows with the engine.

use std::time::Instant;

use clap::Args;
use datafusion::arrow::array::{Array, AsArray};

use super::Source;
use super::output::{OutputFormat, ResultWriter};
use crate::error::Result;

#[derive(Debug, Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub source: Source,
}

/// One section of the report: a heading, why it matters, the SQL.
struct Section {
    title: &'static str,
    note: &'static str,
    sql: &'static str,
}

const SECTIONS: &[Section] = &[
    Section {
        title: "1. What arrived: raw exports per platform",
        note: "Each platform exports its own shape: Douyin pushes ms (and sometimes s), \
               WeChat seconds, Taobao Beijing-time strings and yuan strings.",
        sql: "SELECT 'douyin' AS platform, 'live_push' AS feed, count(*) AS raw_rows FROM raw.douyin_live_push
              UNION ALL SELECT 'douyin', 'doudian_order', count(*) FROM raw.douyin_doudian_order
              UNION ALL SELECT 'kuaishou', 'live_event', count(*) FROM raw.kuaishou_live_event
              UNION ALL SELECT 'kuaishou', 'order', count(*) FROM raw.kuaishou_order
              UNION ALL SELECT 'wechat_channels', 'live_event', count(*) FROM raw.wechat_channels_live_event
              UNION ALL SELECT 'wechat_channels', 'order', count(*) FROM raw.wechat_channels_order
              UNION ALL SELECT 'taobao_live', 'live_event', count(*) FROM raw.taobao_live_live_event
              UNION ALL SELECT 'taobao_live', 'trade', count(*) FROM raw.taobao_live_trade
              ORDER BY 1, 2",
    },
    Section {
        title: "2. Normalised: one `events` table, UTC times, fen, text ids",
        note: "Duplicate deliveries are collapsed; the same instant whether it came as \
               seconds, milliseconds or a Beijing-time string.",
        sql: "SELECT platform, count(*) AS events, count(DISTINCT account_id) AS accounts,
                     min(event_ts) AS first_event, max(event_ts) AS last_event
              FROM events GROUP BY platform ORDER BY platform",
    },
    Section {
        title: "3. Taobao money and time, before and after",
        note: "yuan strings -> integer fen (never through floating point); Beijing time -> UTC.",
        sql: "SELECT t.tid, t.payment, e.amount_fen, t.pay_time AS beijing_time, e.event_ts AS utc
              FROM raw.taobao_live_trade t
              JOIN events e ON e.event_id = 'taobao_live:trade:' || t.tid || ':' || t.status
              WHERE t.status = 'WAIT_SELLER_SEND_GOODS'
              ORDER BY t.tid LIMIT 3",
    },
    Section {
        title: "4. The live-commerce funnel per platform (accounts)",
        note: "live enter -> product click -> add to cart -> paid, as plain SQL; \
               window_funnel() and cross-platform people come with ID mapping.",
        sql: "SELECT platform,
                     count(DISTINCT CASE WHEN event_type = 'live_enter' THEN account_id END) AS entered,
                     count(DISTINCT CASE WHEN event_type = 'product_click' THEN account_id END) AS clicked,
                     count(DISTINCT CASE WHEN event_type = 'add_to_cart' THEN account_id END) AS carted,
                     count(DISTINCT CASE WHEN event_type = 'order_paid' THEN account_id END) AS paid,
                     sum(CASE WHEN event_type = 'order_paid' THEN amount_fen END) / 100.0 AS gmv_yuan
              FROM events GROUP BY platform ORDER BY platform",
    },
    Section {
        title: "5. Outbound touches and how people answered",
        note: "Touches, opens, clicks and negative feedback per channel: the input of \
               tolerance scoring.",
        sql: "SELECT channel,
                     sum(CASE WHEN event_type = 'touch_sent' THEN 1 ELSE 0 END) AS sent,
                     sum(CASE WHEN event_type = 'touch_opened' THEN 1 ELSE 0 END) AS opened,
                     sum(CASE WHEN event_type = 'touch_clicked' THEN 1 ELSE 0 END) AS clicked,
                     sum(CASE WHEN event_type IN ('unsubscribe', 'block', 'report') THEN 1 ELSE 0 END) AS negative
              FROM events WHERE channel IS NOT NULL GROUP BY channel ORDER BY channel",
    },
    Section {
        title: "6. Why ID mapping matters: accounts per person (ground truth)",
        note: "One person, several platform accounts: without linking them, every \
               cross-platform number above counts accounts, not people.",
        sql: "SELECT n_accounts, count(*) AS persons, sum(CASE WHEN is_member THEN 1 ELSE 0 END) AS members
              FROM truth.persons GROUP BY n_accounts ORDER BY n_accounts",
    },
    Section {
        title: "7. ID mapping: accounts resolved into people",
        note: "resolve_identities() links accounts by unionid, member phone keys and \
               devices, with guards against junk and shared devices; compare with the truth.",
        sql: "SELECT count(*) AS accounts, count(DISTINCT person_id) AS people,
                     (SELECT count(*) FROM truth.persons) AS true_people
              FROM resolve_identities('events')",
    },
    Section {
        title: "8. The cross-platform funnel per person",
        note: "window_funnel() over people, not accounts: live enter -> click -> cart -> \
               paid within a day, on any platform (steps reached, ClickHouse semantics).",
        sql: "WITH ids AS (SELECT * FROM resolve_identities('events'))
              SELECT steps, count(*) AS people FROM (
                  SELECT i.person_id,
                         window_funnel(INTERVAL '1 day', e.event_ts,
                             e.event_type = 'live_enter', e.event_type = 'product_click',
                             e.event_type = 'add_to_cart', e.event_type = 'order_paid') AS steps
                  FROM events e JOIN ids i USING (platform, account_scope, account_id)
                  GROUP BY i.person_id)
              GROUP BY steps ORDER BY steps",
    },
    Section {
        title: "9. Tags for 2026-10-15 (data before it)",
        note: "derive_tags() evaluates the catalog in sql/tags/ (one tag per file) over \
               people_events: people per tag and the most common values.",
        sql: "WITH counts AS (
                  SELECT tag, value, count(*) AS n
                  FROM derive_tags('people_events', DATE '2026-10-15') GROUP BY tag, value),
              ranked AS (
                  SELECT *, row_number() OVER (PARTITION BY tag ORDER BY n DESC, value) AS k
                  FROM counts)
              SELECT tag, sum(n) AS rows, count(*) AS distinct_values,
                     string_agg(value || ' ' || n, ', ' ORDER BY k) FILTER (WHERE k <= 4) AS top_values
              FROM ranked GROUP BY tag ORDER BY tag",
    },
];

/// Run before the sections: `identity_map` and the `people_events` view.
const SETUP: &str = include_str!("../../sql/identity/people_events.sql");

pub async fn run(args: DemoArgs) -> Result<()> {
    let engine = args.source.open().await?;
    println!(
        "plinkdb demo on {}\n",
        engine.data_root().unwrap_or("configured sources")
    );
    for statement in crate::engine::split_statements(SETUP)? {
        engine.statement(statement).await?.collect().await?;
    }
    for section in SECTIONS {
        if section.sql.contains("truth.") && !engine.has_truth() {
            continue;
        }
        show(&engine, section.title, section.note, section.sql).await?;
    }
    contact_plan(&engine).await
}

/// Prints one titled query result.
async fn show(engine: &crate::Engine, title: &str, note: &str, sql: &str) -> Result<()> {
    let started = Instant::now();
    let df = engine.sql(sql).await?;
    let schema = df.schema().inner().clone();
    let batches = df.collect().await?;
    println!("{title}\n{note}");
    let mut writer = ResultWriter::new(OutputFormat::Table, Box::new(std::io::stdout()));
    writer.write(&schema, &batches)?;
    writer.finish()?;
    println!("({:.0} ms)\n", started.elapsed().as_secs_f64() * 1000.0);
    Ok(())
}

/// Tolerance and the contact plan for the day after the data: the `tag_values`,
/// `tolerance` and `contact_plan` jobs (sql/jobs/) over an identity_map snapshot.
async fn contact_plan(engine: &crate::Engine) -> Result<()> {
    // The day after the data: everything before it is history.
    let batches = engine
        .query("SELECT CAST(CAST(max(dt) + INTERVAL '1 day' AS DATE) AS VARCHAR) FROM events")
        .await?;
    let Some(base_date) = batches
        .first()
        .and_then(|b| b.column(0).as_string_opt::<i32>())
        .filter(|c| c.is_valid(0))
        .map(|c| c.value(0).to_string())
    else {
        return Ok(());
    };
    // The identity_map job's snapshot for that day.
    engine
        .sql(&format!(
            "CREATE OR REPLACE TABLE identity_map AS SELECT *, DATE '{base_date}' AS base_date \
             FROM resolve_identities('events')"
        ))
        .await?
        .collect()
        .await?;
    let date = crate::jobs::Date::parse(&base_date).map_err(crate::Error::Usage)?;
    for job in ["tag_values", "tolerance"] {
        crate::jobs::run_in_session(engine, job, date).await?;
    }
    show(
        engine,
        &format!("9. Contact policy for {base_date}: hard stops and caps per channel"),
        "contact_policy(): a block, report, unsubscribe or missing consent stops a channel \
         before any scoring; otherwise tolerance_score() (28-day engagement, decayed negative \
         feedback) sets the weekly cap.",
        "SELECT channel, coalesce(hard_stop, '-') AS hard_stop, count(*) AS people,
                round(avg(tolerance), 2) AS avg_tolerance, sum(weekly_cap) AS weekly_cap,
                sum(remaining) AS remaining
         FROM tolerance GROUP BY 1, 2 ORDER BY 1, 2",
    )
    .await?;
    crate::jobs::run_in_session(engine, "contact_plan", date).await?;
    show(
        engine,
        &format!(
            "10. The contact plan for {base_date}: recall where they churn, deepen where active"
        ),
        "One message per person at most: the rule, the channel and the send hour, never \
         over the weekly cap, outside quiet hours, only with consent.",
        "SELECT action, rule, channel, count(*) AS people FROM contact_plan
         GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
    )
    .await?;
    show(
        engine,
        "11. A sample of the plan, with the reason a marketer can audit",
        "Each row says which tag fired which rule, and the policy numbers it relied on.",
        "SELECT person_id, channel, message, send_at, reason FROM contact_plan
         ORDER BY row_number() OVER (PARTITION BY rule ORDER BY person_id), rule LIMIT 8",
    )
    .await
}
