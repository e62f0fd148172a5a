//! Every `sql/examples/funnels/*.sql` runs on the checked-in sample and returns rows;
//! a few cross-checks between the funnel functions hold on real-shaped data.

use std::path::Path;

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::Int64Type;
use plinkdb::Engine;

async fn run(engine: &Engine, file: &Path) -> Vec<RecordBatch> {
    let sql = std::fs::read_to_string(file).expect("read example");
    engine
        .query(&sql)
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn funnel_examples_run_on_the_sample() {
    let engine = Engine::open_default().await.expect("sample engine");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("sql/examples/funnels");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("examples dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "{files:?}");
    for file in &files {
        let batches = run(&engine, file).await;
        let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
        assert!(rows > 0, "{} returned no rows", file.display());
    }
}

/// On the sample, "a Taobao payment within 7 days after a Douyin live visit" is the same
/// set of people whether asked with window_funnel or with sequence_match.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn window_funnel_and_sequence_match_agree_on_the_sample() {
    let engine = Engine::open_default().await.expect("sample engine");
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sql/examples/funnels/05_watched_douyin_bought_taobao.sql");
    let batches = run(&engine, &file).await;
    let batch = &batches[0];
    let col = |name: &str| {
        let c = batch.column_by_name(name).expect(name);
        c.as_primitive::<Int64Type>().value(0)
    };
    assert!(col("watched_on_douyin") > 0);
    assert!(col("then_paid_on_taobao_7d") > 0);
    assert_eq!(col("then_paid_on_taobao_7d"), col("sequence_matched_7d"));
    assert!(batch.column(3).null_count() == 0);
}
