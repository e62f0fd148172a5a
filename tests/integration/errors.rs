//! Bad input: each gives a one-paragraph error naming the file, key or source, a
//! non-zero exit, and never a panic or a backtrace.

use crate::support::{copy_tree, dataset, fails, files_under, ok, plinkdb};

#[test]
fn unknown_config_key_names_the_key_and_file() {
    let dir = tempfile::tempdir().expect("tmp");
    let config = dir.path().join("plinkdb.toml");
    std::fs::write(&config, "[data]\nroot = \"x\"\nrooot = \"y\"\n").expect("write");
    let err = fails(plinkdb(&[
        "query",
        "--config",
        &config.to_string_lossy(),
        "SELECT 1",
    ]));
    assert!(err.contains("plinkdb.toml"), "{err}");
    assert!(err.contains("rooot"), "{err}");
}

#[test]
fn missing_path_names_the_source_and_location() {
    let err = fails(plinkdb(&[
        "query",
        "--data",
        "/nonexistent/plinkdb-data",
        "SELECT 1",
    ]));
    assert!(err.contains("/nonexistent/plinkdb-data"), "{err}");
    assert!(err.contains("does not exist"), "{err}");
}

#[test]
fn truncated_parquet_names_the_file() {
    let dir = tempfile::tempdir().expect("tmp");
    copy_tree(dataset(), dir.path());
    let victim = files_under(&dir.path().join("raw/kuaishou/order"), ".parquet")
        .into_iter()
        .next()
        .expect("a kuaishou order file");
    let bytes = std::fs::read(&victim).expect("read");
    std::fs::write(&victim, &bytes[..bytes.len() / 2]).expect("truncate");
    let err = fails(plinkdb(&[
        "query",
        "--data",
        &dir.path().to_string_lossy(),
        "SELECT count(*) FROM events",
    ]));
    assert!(err.contains(&*victim.to_string_lossy()), "{err}");
    assert!(err.contains("raw.kuaishou_order"), "{err}");
}

#[test]
fn garbage_parquet_names_the_file() {
    let dir = tempfile::tempdir().expect("tmp");
    copy_tree(dataset(), dir.path());
    let victim = files_under(&dir.path().join("firstparty/members"), ".parquet")
        .into_iter()
        .next()
        .expect("a members file");
    std::fs::write(&victim, b"this is not parquet at all, just text").expect("write");
    let err = fails(plinkdb(&[
        "query",
        "--data",
        &dir.path().to_string_lossy(),
        "SELECT 1",
    ]));
    assert!(err.contains(&*victim.to_string_lossy()), "{err}");
}

#[test]
fn source_with_the_wrong_schema_names_the_source() {
    let dir = tempfile::tempdir().expect("tmp");
    copy_tree(dataset(), dir.path());
    let trade = dir.path().join("raw/taobao_live/trade");
    std::fs::remove_dir_all(&trade).expect("rm");
    std::fs::create_dir_all(trade.join("dt=2026-10-01")).expect("mkdir");
    let file = trade.join("dt=2026-10-01/part-00000.parquet");
    ok(plinkdb(&[
        "query",
        "--format",
        "parquet",
        "--output",
        &file.to_string_lossy(),
        "SELECT 'x' AS trade_id, 1.5 AS price",
    ]));
    let err = fails(plinkdb(&[
        "query",
        "--data",
        &dir.path().to_string_lossy(),
        "SELECT count(*) FROM events",
    ]));
    assert!(err.contains("sql/platforms/taobao_live.sql"), "{err}");
    assert!(err.contains("raw.taobao_live_trade"), "{err}");
}

#[test]
fn bad_data_values_are_quoted() {
    let err = fails(plinkdb(&["query", "SELECT yuan_to_fen('12,50')"]));
    assert!(err.contains("yuan_to_fen: cannot read '12,50'"), "{err}");
}

#[test]
fn sql_errors_are_one_paragraph() {
    let err = fails(plinkdb(&["query", "SELEC 1"]));
    assert!(err.contains("SELEC"), "{err}");
    let err = fails(plinkdb(&["query", "SELECT * FROM no_such_table"]));
    assert!(err.contains("no_such_table"), "{err}");
}

#[test]
fn a_brand_on_fewer_platforms_gets_events_for_those() {
    let dir = tempfile::tempdir().expect("tmp");
    copy_tree(dataset(), dir.path());
    std::fs::remove_dir_all(dir.path().join("raw/kuaishou")).expect("rm");
    let out = ok(plinkdb(&[
        "query",
        "--data",
        &dir.path().to_string_lossy(),
        "--format",
        "csv",
        "SELECT DISTINCT platform FROM events WHERE channel IS NULL ORDER BY 1",
    ]));
    assert_eq!(out, "platform\ndouyin\ntaobao_live\nwechat_channels\n");
}

#[test]
fn half_a_platform_is_an_error() {
    let dir = tempfile::tempdir().expect("tmp");
    copy_tree(dataset(), dir.path());
    std::fs::remove_dir_all(dir.path().join("raw/kuaishou/order")).expect("rm");
    let err = fails(plinkdb(&[
        "query",
        "--data",
        &dir.path().to_string_lossy(),
        "SELECT 1",
    ]));
    assert!(err.contains("raw.kuaishou_order"), "{err}");
    assert!(err.contains("does not exist"), "{err}");
}
