//! Partition pruning on `dt` through the platform views and `events`.

use plinkdb::{Config, Engine};

use crate::support::dataset;

async fn physical_plan(engine: &Engine, sql: &str) -> String {
    let batches = engine
        .query(&format!("EXPLAIN {sql}"))
        .await
        .expect("explain");
    let text = datafusion::arrow::util::pretty::pretty_format_batches(&batches)
        .expect("format")
        .to_string();
    let start = text.find("physical_plan").expect("a physical plan");
    text[start..].to_string()
}

/// The `dt=` partitions the plan reads, except touches: opened/clicked events compute
/// their own date (see sql/platforms/firstparty.sql), so that branch reads every
/// partition of touches by design.
fn partitions_read(plan: &str) -> Vec<String> {
    let mut dts: Vec<String> = plan
        .match_indices("dt=")
        .filter(|(i, _)| !plan[i.saturating_sub(30)..*i].contains("touches"))
        .map(|(i, _)| plan[i..i + 13].to_string())
        .collect();
    dts.sort();
    dts.dedup();
    dts
}

#[tokio::test]
async fn filters_on_dt_read_only_that_partition() {
    let engine = Engine::open(Config::with_data_root(dataset().to_string_lossy()))
        .await
        .expect("open");
    let all = physical_plan(&engine, "SELECT count(*) FROM events").await;
    assert!(partitions_read(&all).len() >= 10, "{all}");

    let one = physical_plan(
        &engine,
        "SELECT count(*) FROM events WHERE dt = DATE '2026-10-03'",
    )
    .await;
    assert_eq!(partitions_read(&one), vec!["dt=2026-10-03"], "{one}");

    // the same answer as without pruning
    let pruned = engine
        .query("SELECT count(*) AS n FROM events WHERE dt = DATE '2026-10-03'")
        .await
        .expect("query");
    let full = engine
        .query(
            "SELECT count(*) AS n FROM (SELECT *, dt AS d FROM events) \
             WHERE CAST(d AS VARCHAR) = '2026-10-03'",
        )
        .await
        .expect("query");
    assert_eq!(
        datafusion::arrow::util::pretty::pretty_format_batches(&pruned)
            .expect("fmt")
            .to_string(),
        datafusion::arrow::util::pretty::pretty_format_batches(&full)
            .expect("fmt")
            .to_string()
    );
}
