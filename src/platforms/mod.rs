//! The `sql/platforms` views: each platform's raw exports normalised into the unified
//! `events` schema (DESIGN.md), then `events` as their union.
//!
//! The SQL files are compiled into the binary so that the engine works from any
//! directory; they are plain SQL so that an analyst can read exactly what happens.

use datafusion::prelude::SessionContext;

use crate::error::{Error, Result};

/// One view file: (platform or `firstparty`, path, SQL). Each creates `<name>_events`.
pub const VIEW_FILES: &[(&str, &str, &str)] = &[
    (
        "douyin",
        "sql/platforms/douyin.sql",
        include_str!("../../sql/platforms/douyin.sql"),
    ),
    (
        "kuaishou",
        "sql/platforms/kuaishou.sql",
        include_str!("../../sql/platforms/kuaishou.sql"),
    ),
    (
        "wechat_channels",
        "sql/platforms/wechat_channels.sql",
        include_str!("../../sql/platforms/wechat_channels.sql"),
    ),
    (
        "taobao_live",
        "sql/platforms/taobao_live.sql",
        include_str!("../../sql/platforms/taobao_live.sql"),
    ),
    (
        "firstparty",
        "sql/platforms/firstparty.sql",
        include_str!("../../sql/platforms/firstparty.sql"),
    ),
];

/// Creates the views of the platforms present (and the first-party one), then `events`
/// as their union.
///
/// # Errors
/// A view that does not plan over the registered raw tables: the message names the SQL
/// file and the raw tables whose schema does not match.
pub async fn create_views(ctx: &SessionContext, platforms: &[&str]) -> Result<()> {
    let mut unions = Vec::new();
    for (name, file, sql) in VIEW_FILES {
        if *name != "firstparty" && !platforms.contains(name) {
            continue;
        }
        unions.push(format!("SELECT * FROM {name}_events"));
        create_from_file(ctx, file, sql).await?;
    }
    let events = format!("CREATE VIEW events AS {}", unions.join(" UNION ALL "));
    create_from_file(ctx, "the events view", &events).await
}

async fn create_from_file(ctx: &SessionContext, file: &str, sql: &str) -> Result<()> {
    for statement in crate::engine::split_statements(sql)? {
        let text = statement.to_string();
        let result = match ctx.state().statement_to_plan(statement).await {
            Ok(plan) => ctx.execute_logical_plan(plan).await.map(|_| ()),
            Err(e) => Err(e),
        };
        if let Err(e) = result {
            return Err(Error::Usage(format!(
                "{file} does not fit the registered raw tables ({}): {}. Check that these \
                 sources have the platform's export schema (datasets/README.md).",
                raw_tables_in(&text).join(", "),
                e.strip_backtrace()
            )));
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
