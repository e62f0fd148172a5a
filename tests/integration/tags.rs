//! The tag catalog against the generator's ground truth (precision and recall per tag,
//! with floors), the `tag_values` job file, partition-independence of `most_frequent` and
//! `top_n`, and `derive_tags` argument errors.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plinkdb::{Config, Engine};
use plinkdb_datasets::GenConfig;

use super::support::{rows, run_job};

/// The day after the generated window: every generated event is before it.
const BASE_DATE: &str = "2026-11-30";

/// 4000 persons over 60 days (2026-10-01..2026-11-29), made once per test process.
fn tags_dataset() -> &'static Path {
    static DIR: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &DIR.get_or_init(|| {
        let tmp = tempfile::tempdir().expect("temp dir");
        let out = tmp.path().join("ds");
        let config = GenConfig {
            persons: 4000,
            days: 60,
            seed: 11,
            ..GenConfig::default()
        };
        plinkdb_datasets::generate(&config, &out, false, &|_| {}).expect("generate");
        (tmp, out)
    })
    .1
}

async fn engine(dir: &Path, partitions: Option<usize>) -> Engine {
    let mut config = Config::with_data_root(dir.to_string_lossy());
    config.engine.target_partitions = partitions;
    Engine::open(config).await.expect("open")
}

async fn run(engine: &Engine, sql: &str) -> Vec<Vec<Option<String>>> {
    rows(
        &engine
            .query(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}")),
    )
}

/// Precision and recall of one tag: (tagged, true positives, truth positives).
fn ratios(row: &[Option<String>]) -> (f64, f64) {
    let n = |i: usize| -> f64 {
        row[i]
            .as_deref()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    };
    (n(2) / n(1).max(1.0), n(2) / n(3).max(1.0))
}

#[tokio::test(flavor = "multi_thread")]
async fn tags_recover_the_true_traits() {
    let engine = engine(tags_dataset(), None).await;
    // The identity_map job's output for this date.
    run(
        &engine,
        &format!(
            "CREATE TABLE identity_map AS SELECT *, DATE '{BASE_DATE}' AS base_date \
             FROM resolve_identities('events')"
        ),
    )
    .await;
    run_job(&engine, "tag_values", BASE_DATE).await;

    // Each resolved person stands for the true person most of its accounts belong to.
    run(
        &engine,
        "CREATE TABLE truth_of AS \
         SELECT w.person_id, p.price_sensitive, p.brand_loyal, p.preferred_brand, \
                p.top_category, p.active_slot \
         FROM (SELECT m.person_id, most_frequent(a.person_id) AS truth_id \
               FROM identity_map m JOIN truth.accounts a \
                 USING (platform, account_scope, account_id) \
               GROUP BY m.person_id) w \
         JOIN truth.persons p ON p.person_id = w.truth_id",
    )
    .await;
    let metrics = run(
        &engine,
        "WITH t AS (SELECT * FROM truth_of LEFT JOIN \
             (SELECT person_id, \
                     max(value) FILTER (WHERE tag = 'price_sensitive') AS ps, \
                     max(value) FILTER (WHERE tag = 'brand_loyal') AS bl, \
                     max(value) FILTER (WHERE tag = 'top_category') AS tc, \
                     max(value) FILTER (WHERE tag = 'active_slot') AS sl \
              FROM tag_values GROUP BY person_id) USING (person_id)) \
         SELECT 'price_sensitive', count(ps), count(ps) FILTER (WHERE price_sensitive), \
                count(*) FILTER (WHERE price_sensitive) FROM t \
         UNION ALL \
         SELECT 'brand_loyal', count(bl), \
                count(bl) FILTER (WHERE brand_loyal AND bl = preferred_brand), \
                count(*) FILTER (WHERE brand_loyal) FROM t \
         UNION ALL \
         SELECT 'top_category', count(tc), count(tc) FILTER (WHERE tc = top_category), \
                count(*) FROM t \
         UNION ALL \
         SELECT 'active_slot', count(sl), count(sl) FILTER (WHERE sl = active_slot), \
                count(*) FROM t",
    )
    .await;
    // (tag, precision floor, recall floor); measured on this dataset: see README.md.
    let floors = [
        ("price_sensitive", 0.75, 0.60),
        ("brand_loyal", 0.88, 0.70),
        ("top_category", 0.85, 0.72),
        ("active_slot", 0.95, 0.80),
    ];
    let mut report = String::new();
    for row in &metrics {
        let (precision, recall) = ratios(row);
        report.push_str(&format!(
            "{:?}: precision {precision:.3} recall {recall:.3} ({:?})\n",
            row[0], row
        ));
    }
    eprintln!("{report}");
    for (tag, p_floor, r_floor) in floors {
        let row = metrics
            .iter()
            .find(|r| r[0].as_deref() == Some(tag))
            .unwrap_or_else(|| panic!("no metrics for {tag}"));
        let (precision, recall) = ratios(row);
        assert!(
            precision >= p_floor && recall >= r_floor,
            "{tag}: precision {precision:.3} (floor {p_floor}), recall {recall:.3} (floor \
             {r_floor})\n{report}"
        );
    }

    // Every tag of the catalog produced rows, and only data before the base date counts:
    // a base date at the start of the window gives no tags at all.
    let tags = run(&engine, "SELECT DISTINCT tag FROM tag_values ORDER BY tag").await;
    let names: Vec<_> = tags.iter().filter_map(|r| r[0].clone()).collect();
    assert_eq!(names, plinkdb::tags::tag_names(), "tags without rows");
    let early = run(
        &engine,
        "SELECT count(*) FROM derive_tags('people_events', DATE '2026-10-01')",
    )
    .await;
    assert_eq!(early[0][0].as_deref(), Some("0"));
}

/// `most_frequent` and `top_n` give the same answers on 1 and 8 partitions, and the
/// same as plain SQL (counts ranked by count, then value).
#[tokio::test(flavor = "multi_thread")]
async fn value_counts_do_not_depend_on_partitioning() {
    let sample = plinkdb::engine::sample_dir();
    let query = "SELECT account_id, most_frequent(event_type) AS mode, \
                 array_to_string(top_n(event_type, 3), ',') AS top3 \
                 FROM events GROUP BY account_id ORDER BY account_id";
    let reference = "WITH c AS (SELECT account_id, event_type, count(*) AS n FROM events \
                     GROUP BY 1, 2), r AS (SELECT *, row_number() OVER (PARTITION BY \
                     account_id ORDER BY n DESC, event_type) AS k FROM c) \
                     SELECT account_id, max(event_type) FILTER (WHERE k = 1), \
                     array_to_string(array_agg(event_type ORDER BY k) FILTER (WHERE k <= 3), \
                     ',') FROM r GROUP BY account_id ORDER BY account_id";
    let one = run(&engine(&sample, Some(1)).await, query).await;
    let many_engine = engine(&sample, Some(8)).await;
    let many = run(&many_engine, query).await;
    let expected = run(&many_engine, reference).await;
    assert!(one.len() > 1000, "{} groups", one.len());
    assert_eq!(one, many);
    assert_eq!(many, expected);
}

#[tokio::test(flavor = "multi_thread")]
async fn derive_tags_argument_errors_name_the_problem() {
    let engine = Engine::open_default().await.expect("open");
    let cases = [
        (
            "SELECT * FROM derive_tags('nope', DATE '2026-10-15')",
            "derive_tags: argument 1: table or view 'nope' not found",
        ),
        (
            "SELECT * FROM derive_tags('events', DATE '2026-10-15')",
            "'events' lacks the column(s) person_id",
        ),
        (
            "SELECT * FROM derive_tags('events', '2026-02-30')",
            "derive_tags: argument 2 (base_date) must be a date YYYY-MM-DD, got '2026-02-30'",
        ),
        (
            "SELECT * FROM derive_tags('events', now())",
            "derive_tags: argument 2 (base_date) must be a constant date",
        ),
        (
            "SELECT * FROM derive_tags('events')",
            "derive_tags: expected 2 arguments",
        ),
    ];
    for (sql, expected) in cases {
        let err = match engine.query(sql).await {
            Ok(_) => panic!("{sql} should fail"),
            Err(e) => e.to_string(),
        };
        assert!(err.contains(expected), "{sql}: {err}");
    }
}
