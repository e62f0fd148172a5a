//! `contact_policy('source', as_of [, 'purpose' [, 'consents']])`: per person and
//! channel, whether and how much the brand may contact them.

use std::sync::{Arc, LazyLock};

use async_trait::async_trait;
use datafusion::arrow::array::{Array, RecordBatch, new_empty_array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{Session, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{DFSchema, ScalarValue, plan_err};
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::error::Result;
use datafusion::execution::SessionState;
use datafusion::logical_expr::{Expr, TableType};
use datafusion::physical_plan::{ExecutionPlan, collect};
use datafusion_macros::user_doc;

use super::TableFunction;
use crate::contact::{DAY_MS, ToleranceOptions};
use crate::identity::string_arg;
use crate::scalar::utc_millis;

const NAME: &str = "contact_policy";

/// Beijing is UTC+8 all year.
const BEIJING_OFFSET_MS: i64 = 8 * 3_600_000;

/// Columns `source` must have.
const SOURCE_COLUMNS: [&str; 7] = [
    "person_id",
    "platform",
    "account_scope",
    "account_id",
    "event_type",
    "event_ts",
    "channel",
];

/// Channels native to a platform: their accounts live there, so an `unfollow` on the
/// platform counts against them.
const NATIVE_CHANNELS: [(&str, &str); 3] = [
    ("wechat_service", "wechat_channels"),
    ("wecom", "wechat_channels"),
    ("douyin_dm", "douyin"),
];

#[user_doc(
    doc_section(label = "Contact Functions"),
    description = "The contact policy as of `as_of`: one row per person and channel that \
    has a consent record for `purpose` or any touch or feedback, from `source` (a table \
    or view with the `events` columns and `person_id`, e.g. `people_events`: its \
    `touch_*`, `unsubscribe`, `block`, `report` rows carry the channel; an `unfollow` \
    counts against the channels native to its platform: `wechat_service` and `wecom` on \
    `wechat_channels`, `douyin_dm` on `douyin`) and the consent table (accounts mapped to \
    persons through `source`). Only data before `as_of` is used (a DATE means 00:00 \
    Beijing time of that day). Hard stops come first and remove the channel before any \
    scoring (`hard_stop`, by precedence): `report` or `block` on that channel within \
    `tolerance.hard_stop_days` (180), `unsubscribe` since the latest grant, `no_consent`, \
    `consent_withdrawn`; a stopped channel has NULL tolerance, cap 0 and no rank. \
    Otherwise `tolerance` is `tolerance_score` over the person's rows of that channel, \
    `weekly_cap = floor(tolerance · tolerance.weekly_cap[channel])` (0 below \
    `tolerance.min_tolerance`), `remaining = max(weekly_cap - sent_last_7d, 0)` over a \
    rolling 7 days, `saturation` (Einstein-style over 28 days: `saturated` when sends per \
    week exceed the cap, `undersaturated` when they fall more than one below it, else \
    `on_target`), `channel_rank` (1 = best: tolerance, then response rate), and the send \
    window: `send_window` is the allowed Beijing hours outside the quiet hours, \
    `preferred_hour` the person's most active Beijing hour over `tolerance.activity_days`, \
    and `send_hour` that hour moved to the nearest allowed hour (`fallback_hour` when \
    unknown). `platform, account_scope, account_id` is the account the consent covers \
    (the latest active grant). Subscription credits (WeChat one-time subscribe) are not in \
    the data model, so they never stop a channel.",
    syntax_example = "contact_policy('source', as_of [, 'purpose' [, 'consents']])",
    sql_example = r#"```sql
> SELECT channel, hard_stop, count(*) FROM contact_policy('people_events', DATE '2026-10-14')
  GROUP BY 1, 2 ORDER BY 1, 2;
```"#,
    argument(
        name = "source",
        description = "Table or view name (string constant): events with `person_id`."
    ),
    argument(
        name = "as_of",
        description = "Constant DATE (00:00 Beijing time), TIMESTAMP, or 'YYYY-MM-DD' text."
    ),
    argument(
        name = "purpose",
        description = "Consent purpose (string constant, default 'marketing')."
    ),
    argument(
        name = "consents",
        description = "Consent table (string constant, default `tolerance.consents_table`)."
    )
)]
#[derive(Debug)]
pub struct ContactPolicyFunc {
    options: Arc<ToleranceOptions>,
}

/// The output schema.
pub fn schema() -> SchemaRef {
    static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
        let text = |n: &str| Field::new(n, DataType::Utf8, true);
        let int = |n: &str| Field::new(n, DataType::Int64, true);
        Arc::new(Schema::new(vec![
            text("person_id"),
            text("channel"),
            text("purpose"),
            text("platform"),
            text("account_scope"),
            text("account_id"),
            text("hard_stop"),
            Field::new("tolerance", DataType::Float64, true),
            int("weekly_cap"),
            int("sent_last_7d"),
            int("remaining"),
            int("sends_28d"),
            int("opens_28d"),
            int("clicks_28d"),
            text("saturation"),
            int("channel_rank"),
            text("send_window"),
            int("preferred_hour"),
            int("send_hour"),
        ]))
    });
    Arc::clone(&SCHEMA)
}

/// A table or view name safe to splice into SQL.
fn table_name(position: usize, name: &str, what: &str) -> Result<String> {
    let ok = !name.is_empty()
        && name.split('.').all(|part| {
            !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        });
    if !ok {
        return plan_err!(
            "{NAME}: argument {position} ({what}) must be a table name like `people_events` or \
             `schema.table`, got '{name}'"
        );
    }
    Ok(name.to_string())
}

/// `as_of` as epoch milliseconds (a date means 00:00 Beijing time).
fn as_of_millis(session: &dyn Session, expr: &Expr) -> Result<i64> {
    let physical = session.create_physical_expr(expr.clone(), &DFSchema::empty())?;
    let one_row = RecordBatch::try_new_with_options(
        Arc::new(Schema::empty()),
        vec![],
        &datafusion::arrow::array::RecordBatchOptions::new().with_row_count(Some(1)),
    )?;
    let value = physical.evaluate(&one_row)?.into_array(1)?;
    let as_date = |v: &dyn Array| -> Result<Option<i64>> {
        let days = cast(v, &DataType::Date32)?;
        let days = ScalarValue::try_from_array(&days, 0)?;
        Ok(match days {
            ScalarValue::Date32(Some(d)) => Some(i64::from(d) * DAY_MS - BEIJING_OFFSET_MS),
            _ => None,
        })
    };
    let millis = match value.data_type() {
        DataType::Timestamp(..) => {
            match ScalarValue::try_from_array(&cast(&value, &utc_millis())?, 0)? {
                ScalarValue::TimestampMillisecond(Some(ms), _) => Some(ms),
                _ => None,
            }
        }
        DataType::Date32
        | DataType::Date64
        | DataType::Utf8
        | DataType::Utf8View
        | DataType::LargeUtf8 => as_date(&value).ok().flatten(),
        _ => None,
    };
    match millis {
        Some(ms) => Ok(ms),
        None => plan_err!(
            "{NAME}: argument 2 (as_of) must be a constant DATE, TIMESTAMP or 'YYYY-MM-DD', \
             got {expr}"
        ),
    }
}

fn sql_text(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn sql_float(x: f64) -> String {
    format!("CAST({x:?} AS DOUBLE)")
}

/// The policy as one SQL query over `source` and `consents`.
fn policy_sql(
    o: &ToleranceOptions,
    source: &str,
    consents: &str,
    purpose: &str,
    as_of_ms: i64,
) -> String {
    let t = format!("from_epoch({as_of_ms}, 'ms')");
    let purpose = sql_text(purpose);
    let native = NATIVE_CHANNELS
        .iter()
        .map(|(c, p)| format!("({}, {})", sql_text(c), sql_text(p)))
        .collect::<Vec<_>>()
        .join(", ");
    let caps = o
        .weekly_cap
        .iter()
        .map(|(c, n)| format!("({}, {n})", sql_text(c)))
        .collect::<Vec<_>>()
        .join(", ");
    let caps = if caps.is_empty() {
        "SELECT CAST(NULL AS VARCHAR) AS channel, CAST(NULL AS BIGINT) AS max_weekly WHERE false"
            .to_string()
    } else {
        format!(
            "SELECT column1 AS channel, CAST(column2 AS BIGINT) AS max_weekly FROM (VALUES {caps})"
        )
    };
    // Each Beijing hour and the hour a send at that hour moves to (nearest allowed hour,
    // earlier on ties).
    let hours = (0..24u32)
        .map(|h| {
            let send = (0..24u32)
                .flat_map(|d| [(h + 24 - d) % 24, (h + d) % 24])
                .find(|&x| !o.is_quiet(x))
                .unwrap_or(o.fallback_hour);
            format!("({h}, {send})")
        })
        .collect::<Vec<_>>()
        .join(", ");
    let window = format!("{:02}:00-{:02}:00", o.quiet_end_hour, o.quiet_start_hour);
    let prior = sql_float(o.score(0.0, 0.0, 0.0));
    let min_tolerance = sql_float(o.min_tolerance);
    let engagement_days = o.engagement_days;
    let activity_days = o.activity_days;
    let hard_stop_days = o.hard_stop_days;
    let default_cap = o.default_weekly_cap;
    let fallback = o.fallback_hour;
    format!(
        r#"
WITH ev AS (
    SELECT person_id, platform, account_scope, account_id, event_type, event_ts, channel
    FROM {source}
    WHERE event_ts < {t} AND person_id IS NOT NULL
),
accounts AS (
    SELECT DISTINCT platform, account_scope, account_id, person_id FROM ev
),
native AS (
    SELECT column1 AS channel, column2 AS platform FROM (VALUES {native})
),
contact AS (
    SELECT person_id, channel, event_type, event_ts FROM ev
    WHERE channel IS NOT NULL
      AND event_type IN ('touch_sent', 'touch_opened', 'touch_clicked',
                         'unsubscribe', 'block', 'report')
    UNION ALL
    SELECT e.person_id, n.channel, e.event_type, e.event_ts
    FROM ev e JOIN native n ON e.platform = n.platform
    WHERE e.event_type = 'unfollow'
),
scored AS (
    SELECT person_id, channel,
        tolerance_score({t}, event_ts, event_type) AS tolerance,
        count(*) FILTER (WHERE event_type = 'touch_sent'
            AND event_ts >= {t} - INTERVAL '7 days') AS sent_last_7d,
        count(*) FILTER (WHERE event_type = 'touch_sent'
            AND event_ts >= {t} - INTERVAL '{engagement_days} days') AS sends_28d,
        count(*) FILTER (WHERE event_type = 'touch_opened'
            AND event_ts >= {t} - INTERVAL '{engagement_days} days') AS opens_28d,
        count(*) FILTER (WHERE event_type = 'touch_clicked'
            AND event_ts >= {t} - INTERVAL '{engagement_days} days') AS clicks_28d,
        max(CASE WHEN event_type = 'report'
            AND event_ts >= {t} - INTERVAL '{hard_stop_days} days' THEN event_ts END) AS last_report,
        max(CASE WHEN event_type = 'block'
            AND event_ts >= {t} - INTERVAL '{hard_stop_days} days' THEN event_ts END) AS last_block,
        max(CASE WHEN event_type = 'unsubscribe' THEN event_ts END) AS last_unsubscribe
    FROM contact
    GROUP BY person_id, channel
),
grants AS (
    SELECT a.person_id, c.channel, c.platform, c.account_scope, c.account_id, c.granted_at,
        (c.withdrawn_at IS NULL OR c.withdrawn_at >= {t}) AS active,
        row_number() OVER (
            PARTITION BY a.person_id, c.channel
            ORDER BY (c.withdrawn_at IS NULL OR c.withdrawn_at >= {t}) DESC,
                     c.granted_at DESC, c.platform, c.account_scope, c.account_id
        ) AS rn
    FROM {consents} c
    JOIN accounts a
      ON a.platform = c.platform AND a.account_scope = c.account_scope
     AND a.account_id = c.account_id
    WHERE c.purpose = {purpose} AND c.granted_at < {t} AND c.channel IS NOT NULL
),
consent AS (SELECT * FROM grants WHERE rn = 1),
pairs AS (
    SELECT person_id, channel FROM consent
    UNION
    SELECT person_id, channel FROM scored
),
caps AS ({caps}),
hour_map AS (
    SELECT CAST(column1 AS BIGINT) AS hour, CAST(column2 AS BIGINT) AS send_hour
    FROM (VALUES {hours})
),
activity AS (
    SELECT person_id, hour,
        row_number() OVER (PARTITION BY person_id ORDER BY n DESC, hour) AS rn
    FROM (
        SELECT person_id,
            CAST(date_part('hour', event_ts + INTERVAL '8 hours') AS BIGINT) AS hour,
            count(*) AS n
        FROM ev
        WHERE event_ts >= {t} - INTERVAL '{activity_days} days'
          AND event_type NOT IN ('touch_sent', 'touch_opened', 'touch_clicked',
                                 'unsubscribe', 'block', 'report')
        GROUP BY 1, 2
    )
),
policy AS (
    SELECT p.person_id, p.channel,
        c.platform, c.account_scope, c.account_id,
        CASE
            WHEN s.last_report IS NOT NULL THEN 'report'
            WHEN s.last_block IS NOT NULL THEN 'block'
            WHEN s.last_unsubscribe IS NOT NULL
                 AND (c.granted_at IS NULL OR s.last_unsubscribe >= c.granted_at)
                THEN 'unsubscribe'
            WHEN c.person_id IS NULL THEN 'no_consent'
            WHEN NOT c.active THEN 'consent_withdrawn'
        END AS hard_stop,
        coalesce(s.tolerance, {prior}) AS score,
        coalesce(cap.max_weekly, {default_cap}) AS max_weekly,
        coalesce(s.sent_last_7d, 0) AS sent_last_7d,
        coalesce(s.sends_28d, 0) AS sends_28d,
        coalesce(s.opens_28d, 0) AS opens_28d,
        coalesce(s.clicks_28d, 0) AS clicks_28d,
        a.hour AS preferred_hour,
        coalesce(h.send_hour, {fallback}) AS send_hour
    FROM pairs p
    LEFT JOIN scored s ON s.person_id = p.person_id AND s.channel = p.channel
    LEFT JOIN consent c ON c.person_id = p.person_id AND c.channel = p.channel
    LEFT JOIN caps cap ON cap.channel = p.channel
    LEFT JOIN activity a ON a.person_id = p.person_id AND a.rn = 1
    LEFT JOIN hour_map h ON h.hour = a.hour
),
capped AS (
    SELECT *,
        CASE WHEN hard_stop IS NULL THEN score END AS tolerance,
        CASE WHEN hard_stop IS NOT NULL OR score < {min_tolerance} THEN CAST(0 AS BIGINT)
             ELSE CAST(floor(score * max_weekly) AS BIGINT) END AS weekly_cap
    FROM policy
)
SELECT person_id, channel, {purpose} AS purpose, platform, account_scope, account_id,
    hard_stop, tolerance, weekly_cap, sent_last_7d,
    CASE WHEN weekly_cap > sent_last_7d THEN weekly_cap - sent_last_7d ELSE 0 END AS remaining,
    sends_28d, opens_28d, clicks_28d,
    CASE WHEN hard_stop IS NOT NULL THEN NULL
         WHEN sends_28d / 4.0 > weekly_cap THEN 'saturated'
         WHEN sends_28d / 4.0 < weekly_cap - 1 THEN 'undersaturated'
         ELSE 'on_target' END AS saturation,
    CASE WHEN hard_stop IS NULL THEN row_number() OVER (
        PARTITION BY person_id, hard_stop IS NULL
        ORDER BY tolerance DESC,
                 (opens_28d + clicks_28d) / (sends_28d + 1.0) DESC, channel) END AS channel_rank,
    {window} AS send_window, preferred_hour, send_hour
FROM capped
ORDER BY person_id, channel
"#,
        window = sql_text(&window),
    )
}

impl TableFunctionImpl for ContactPolicyFunc {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let exprs = args.exprs();
        if exprs.len() < 2 || exprs.len() > 4 {
            return plan_err!(
                "{NAME}: expected 2 to 4 arguments ('source', as_of [, 'purpose' [, \
                 'consents']]), got {}",
                exprs.len()
            );
        }
        let source = table_name(1, &string_arg(NAME, exprs, 1, "source")?, "source")?;
        let as_of_ms = as_of_millis(args.session(), &exprs[1])?;
        let purpose = match exprs.len() {
            3.. => string_arg(NAME, exprs, 3, "purpose")?,
            _ => "marketing".to_string(),
        };
        let consents = match exprs.len() {
            4 => string_arg(NAME, exprs, 4, "consents")?,
            _ => self.options.consents_table.clone(),
        };
        let consents = table_name(4, &consents, "consents")?;
        Ok(Arc::new(PolicyTable {
            sql: policy_sql(&self.options, &source, &consents, &purpose, as_of_ms),
            source,
        }))
    }
}

/// A call's result: the policy query, planned and run through the scanning session.
#[derive(Debug)]
struct PolicyTable {
    source: String,
    sql: String,
}

#[async_trait]
impl TableProvider for PolicyTable {
    fn schema(&self) -> SchemaRef {
        schema()
    }

    fn table_type(&self) -> TableType {
        TableType::Temporary
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let Some(session) = state.as_any().downcast_ref::<SessionState>() else {
            return plan_err!(
                "{NAME}: needs a DataFusion SessionState to read '{}'",
                self.source
            );
        };
        let provider = crate::identity::lookup(session, &self.source).await?;
        let Some(provider) = provider else {
            return plan_err!(
                "{NAME}: argument 1: table or view '{}' not found",
                self.source
            );
        };
        let missing: Vec<&str> = SOURCE_COLUMNS
            .iter()
            .copied()
            .filter(|c| provider.schema().field_with_name(c).is_err())
            .collect();
        if !missing.is_empty() {
            return plan_err!(
                "{NAME}: argument 1: '{}' lacks the column(s) {}",
                self.source,
                missing.join(", ")
            );
        }
        let plan = session.create_logical_plan(&self.sql).await?;
        let physical = session.create_physical_plan(&plan).await?;
        let batches = collect(physical, session.task_ctx()).await?;
        let schema = schema();
        let batches = batches
            .iter()
            .map(|b| {
                let columns = schema
                    .fields()
                    .iter()
                    .zip(b.columns())
                    .map(|(f, c)| cast(c, f.data_type()))
                    .collect::<std::result::Result<Vec<_>, _>>()?;
                Ok(RecordBatch::try_new(Arc::clone(&schema), columns)?)
            })
            .collect::<Result<Vec<_>>>()?;
        let batches = if batches.is_empty() {
            let columns = schema
                .fields()
                .iter()
                .map(|f| new_empty_array(f.data_type()))
                .collect();
            vec![RecordBatch::try_new(Arc::clone(&schema), columns)?]
        } else {
            batches
        };
        Ok(MemorySourceConfig::try_new_exec(
            &[batches],
            schema,
            projection.cloned(),
        )?)
    }
}

/// The function, configured with `options`.
pub fn udtf(options: &Arc<ToleranceOptions>) -> TableFunction {
    let f = ContactPolicyFunc {
        options: Arc::clone(options),
    };
    let documentation = f.doc().cloned();
    TableFunction {
        name: NAME,
        function: Arc::new(f),
        documentation,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_and_quiet_hours_never_send() {
        assert!(table_name(1, "people_events", "source").is_ok());
        assert!(table_name(1, "s.t", "source").is_ok());
        let err = table_name(1, "x; DROP", "source").unwrap_err().to_string();
        assert!(err.contains("argument 1 (source)"), "{err}");
        let o = ToleranceOptions::default();
        let sql = policy_sql(&o, "people_events", "consents", "it's", 0);
        assert!(sql.contains("'it''s'"));
        // 23h moves to 21h, 5h to 9h (nearest allowed hour), 12h stays.
        assert!(sql.contains("(23, 21)") && sql.contains("(5, 9)") && sql.contains("(12, 12)"));
    }
}
