//! The `sql/platforms` views: each platform's raw exports normalised into the unified
//! `events` schema (DESIGN.md), then `events` as their union.
//!
//! The SQL files are compiled into the binary so that the engine works from any
//! directory; they are plain SQL so that an analyst can read exactly what happens.

use datafusion::prelude::SessionContext;

use crate::error::{Error, Result};

/// The view files, in the order they are applied.
pub const VIEW_FILES: &[(&str, &str)] = &[
    (
        "sql/platforms/douyin.sql",
        include_str!("../../sql/platforms/douyin.sql"),
    ),
    (
        "sql/platforms/kuaishou.sql",
        include_str!("../../sql/platforms/kuaishou.sql"),
    ),
    (
        "sql/platforms/wechat_channels.sql",
        include_str!("../../sql/platforms/wechat_channels.sql"),
    ),
    (
        "sql/platforms/taobao_live.sql",
        include_str!("../../sql/platforms/taobao_live.sql"),
    ),
    (
        "sql/platforms/firstparty.sql",
        include_str!("../../sql/platforms/firstparty.sql"),
    ),
    (
        "sql/platforms/events.sql",
        include_str!("../../sql/platforms/events.sql"),
    ),
];

/// Creates every platform view and `events`.
///
/// # Errors
/// A view that does not plan over the registered raw tables: the message names the SQL
/// file and the raw table whose schema does not match.
pub async fn create_views(ctx: &SessionContext) -> Result<()> {
    for (file, sql) in VIEW_FILES {
        for statement in crate::engine::split_statements(sql)? {
            let text = statement.to_string();
            let plan = ctx.state().statement_to_plan(statement).await;
            let result = match plan {
                Ok(plan) => ctx.execute_logical_plan(plan).await.map(|_| ()),
                Err(e) => Err(e),
            };
            if let Err(e) = result {
                let tables = raw_tables_in(&text);
                return Err(Error::Usage(format!(
                    "{file} does not fit the registered raw tables ({}): {}. Check that \
                     these sources have the platform's export schema \
                     (datasets/README.md).",
                    tables.join(", "),
                    e.strip_backtrace()
                )));
            }
        }
    }
    Ok(())
}

/// The `raw.*` and first-party tables a view's SQL reads, for error messages.
fn raw_tables_in(sql: &str) -> Vec<String> {
    let mut tables: Vec<String> = sql
        .split(|c: char| c.is_whitespace() || c == '(' || c == ')' || c == ',')
        .filter(|w| {
            w.starts_with("raw.") || matches!(*w, "touches" | "feedback" | "members" | "consents")
        })
        .map(str::to_string)
        .collect();
    tables.sort();
    tables.dedup();
    tables
}
