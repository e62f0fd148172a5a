//! Identity resolution against the generator's ground truth: pairwise accuracy,
//! stability across days, determinism across parallelism, phone_key against `members`.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plinkdb::{Config, Engine};
use plinkdb_datasets::GenConfig;

use crate::support::query;

fn generated(identity_noise: f64) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("ds");
    let config = GenConfig {
        persons: 3000,
        days: 14,
        seed: 23,
        identity_noise,
        ..GenConfig::default()
    };
    plinkdb_datasets::generate(&config, &out, false, &|_| {}).expect("generate");
    (tmp, out)
}

/// A generated set of a few thousand persons (made once per test process).
fn identity_dataset() -> &'static Path {
    static DIR: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &DIR.get_or_init(|| generated(1.0)).1
}

async fn engine(dir: &Path, partitions: Option<usize>) -> Engine {
    let mut config = Config::with_data_root(dir.to_string_lossy());
    config.engine.target_partitions = partitions;
    Engine::open(config).await.expect("open")
}

fn pairs(n: u64) -> u64 {
    n * n.saturating_sub(1) / 2
}

/// Pairwise precision and recall of (predicted, true) labels per account.
pub fn pairwise(labels: &[(String, String)]) -> (f64, f64, u64, u64, u64) {
    let mut cells: HashMap<(&str, &str), u64> = HashMap::new();
    let mut pred: HashMap<&str, u64> = HashMap::new();
    let mut truth: HashMap<&str, u64> = HashMap::new();
    for (p, t) in labels {
        *cells.entry((p, t)).or_default() += 1;
        *pred.entry(p).or_default() += 1;
        *truth.entry(t).or_default() += 1;
    }
    let tp: u64 = cells.values().map(|&n| pairs(n)).sum();
    let pp: u64 = pred.values().map(|&n| pairs(n)).sum();
    let tt: u64 = truth.values().map(|&n| pairs(n)).sum();
    let precision = if pp == 0 { 1.0 } else { tp as f64 / pp as f64 };
    let recall = if tt == 0 { 1.0 } else { tp as f64 / tt as f64 };
    (precision, recall, tp, pp, tt)
}

async fn accuracy(engine: &Engine, source: &str) -> (f64, f64, u64, u64, u64) {
    let labels: Vec<(String, String)> = query(
        engine,
        &format!(
            "SELECT r.person_id, t.person_id FROM resolve_identities('{source}') r \
             JOIN truth.accounts t USING (platform, account_scope, account_id)"
        ),
    )
    .await
    .into_iter()
    .map(|r| {
        (
            r[0].clone().unwrap_or_default(),
            r[1].clone().unwrap_or_default(),
        )
    })
    .collect();
    assert!(!labels.is_empty());
    pairwise(&labels)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accuracy_against_ground_truth() {
    // Five times the junk device rows, households and family-tablet sessions.
    let noisy = generated(5.0);
    for (name, dir) in [
        ("sample", plinkdb::engine::sample_dir()),
        ("generated", identity_dataset().to_path_buf()),
        ("generated, identity noise x5", noisy.1.clone()),
    ] {
        let engine = engine(&dir, None).await;
        let (precision, recall, tp, pp, tt) = accuracy(&engine, "events").await;
        println!(
            "{name}: precision {precision:.5} recall {recall:.5} (true pairs found {tp}, \
             predicted pairs {pp}, true pairs {tt})"
        );
        // Why pairs are missed: the true persons split into several predicted ones.
        let split = query(
            &engine,
            "WITH j AS (SELECT r.person_id AS p, t.person_id AS t, r.platform, \
               r.account_scope FROM resolve_identities('events') r JOIN truth.accounts t \
               USING (platform, account_scope, account_id)), \
             s AS (SELECT t, count(DISTINCT p) AS parts FROM j GROUP BY t HAVING count(DISTINCT p) > 1) \
             SELECT CAST(tp.is_member AS VARCHAR), count(*), \
               string_agg(DISTINCT j.platform || '/' || j.account_scope, ' ') \
             FROM s JOIN truth.persons tp ON tp.person_id = s.t JOIN j ON j.t = s.t \
             GROUP BY 1",
        )
        .await;
        println!("{name}: split true persons by membership: {split:?}");
        assert!(precision >= 0.995, "{name}: precision {precision}");
        assert!(recall >= 0.98, "{name}: recall {recall}");
    }
    // The bound is not free: without the value guards, the noisy set over-merges.
    let mut config = Config::with_data_root(noisy.1.to_string_lossy());
    config.identity.blocked_values = Vec::new();
    config.identity.shared_device_rule = false;
    config.identity.hub_threshold = usize::MAX;
    let unguarded = Engine::open(config).await.expect("open");
    let (precision, ..) = accuracy(&unguarded, "events").await;
    println!("identity noise x5 without guards: precision {precision:.5}");
    assert!(precision < 0.9, "unguarded precision {precision}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_answer_does_not_depend_on_parallelism() {
    let dir = identity_dataset();
    let sql = "SELECT platform, account_scope, account_id, person_id FROM \
               resolve_identities('events') ORDER BY 1, 2, 3";
    let one = query(&engine(dir, Some(1)).await, sql).await;
    let four = query(&engine(dir, Some(4)).await, sql).await;
    assert!(one.len() > 1000);
    assert_eq!(one, four);
}

/// Resolves days 1..N-1, then 1..N; every earlier person id survives unless its person
/// merged into an older one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn newer_data_never_renames_a_person() {
    let engine = engine(identity_dataset(), None).await;
    let last_day = query(&engine, "SELECT CAST(max(dt) AS VARCHAR) FROM events").await;
    let last_day = last_day[0][0].clone().expect("a last day");
    engine
        .query(&format!(
            "CREATE VIEW events_before AS SELECT * FROM events WHERE dt < DATE '{last_day}'"
        ))
        .await
        .expect("view");
    engine
        .query("CREATE TABLE map_before AS SELECT * FROM resolve_identities('events_before')")
        .await
        .expect("map");
    let key = |r: &Vec<Option<String>>| {
        (
            r[0].clone().unwrap_or_default(),
            r[1].clone().unwrap_or_default(),
            r[2].clone().unwrap_or_default(),
        )
    };
    let before: HashMap<_, String> = query(&engine, "SELECT * FROM map_before")
        .await
        .iter()
        .map(|r| (key(r), r[3].clone().unwrap_or_default()))
        .collect();
    for sql in [
        "SELECT * FROM resolve_identities('events')",
        "SELECT * FROM resolve_identities('events', 'map_before')",
    ] {
        let after: HashMap<_, String> = query(&engine, sql)
            .await
            .iter()
            .map(|r| (key(r), r[3].clone().unwrap_or_default()))
            .collect();
        // Old ids that now share a person: merges.
        let mut old_ids_of_new: HashMap<&str, HashSet<&str>> = HashMap::new();
        for (k, old) in &before {
            let new = after.get(k).expect("accounts never disappear");
            old_ids_of_new.entry(new).or_default().insert(old);
        }
        let mut renamed = 0;
        let mut merged = 0;
        for (k, old) in &before {
            let new = &after[k];
            if new != old {
                let olds = &old_ids_of_new[new.as_str()];
                if olds.len() > 1 && olds.contains(new.as_str()) {
                    merged += 1;
                } else {
                    renamed += 1;
                    println!("{sql}: {k:?} was {old}, now {new} (old ids there: {olds:?})");
                }
            }
        }
        println!(
            "{sql}: {} accounts before, {merged} moved by a merge into an older person, \
             {renamed} renamed",
            before.len()
        );
        assert_eq!(renamed, 0, "{sql}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phone_key_matches_members_under_the_demo_key() {
    let engine = Engine::open_default().await.expect("open");
    let options = plinkdb_udfs::UdfOptions {
        secret_key: Some(b"plinkdb-demo-key".to_vec()),
        ..Default::default()
    };
    plinkdb_udfs::register_all_with(engine.context(), &options).expect("register");
    // The generator's phones are +86 mobiles; their keys are what phone_key computes.
    let out = query(
        &engine,
        "SELECT phone_key('+86 138-0013-8000') = phone_key('13800138000'), \
         length(phone_key('13800138000'))",
    )
    .await;
    assert_eq!(out[0], vec![Some("true".into()), Some("64".into())]);
    // Without a key: a clear error naming the variable.
    let bare = Engine::open_default().await.expect("open");
    plinkdb_udfs::register_all_with(
        bare.context(),
        &plinkdb_udfs::UdfOptions {
            secret_key_env: Some("NO_SUCH_KEY_VAR".into()),
            ..Default::default()
        },
    )
    .expect("register");
    let err = bare
        .query("SELECT phone_key('13800138000')")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("no secret key") && err.contains("NO_SUCH_KEY_VAR"),
        "{err}"
    );
}
