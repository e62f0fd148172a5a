//! Tolerance and the contact plan on generated data: the plan's guarantees (consent,
//! hard stops, weekly caps, quiet hours) as properties over several datasets, and the
//! separation of the generator's intolerant people by `tolerance_score`.

use std::collections::HashMap;
use std::path::PathBuf;

use plinkdb::{Config, Engine};
use plinkdb_datasets::GenConfig;

use crate::support::{query, run_job, run_sql_file};

/// Generates a dataset in a temp dir (kept alive by the returned guard).
fn generate(persons: u64, days: u32, seed: u64) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("ds");
    let config = GenConfig {
        persons,
        days,
        seed,
        ..GenConfig::default()
    };
    plinkdb_datasets::generate(&config, &out, false, &|_| {}).expect("generate");
    (tmp, out)
}

/// An engine on `dir` with an `identity_map` snapshot as the identity_map job publishes
/// it (one snapshot, dated `snapshot`, over all the events).
async fn people_engine(dir: &std::path::Path, snapshot: &str) -> Engine {
    let engine = Engine::open(Config::with_data_root(dir.to_string_lossy()))
        .await
        .expect("open");
    engine
        .query(&format!(
            "CREATE TABLE identity_map AS SELECT *, DATE '{snapshot}' AS base_date \
             FROM resolve_identities('events')"
        ))
        .await
        .expect("identity_map");
    engine
}

/// `base_date` 00:00 Beijing time as a SQL timestamp expression (the policy's cut-off).
fn cutoff(base_date: &str) -> String {
    format!("(CAST(DATE '{base_date}' AS TIMESTAMP) - INTERVAL '8 hours')")
}

fn count(rows: &[Vec<Option<String>>]) -> i64 {
    rows[0][0].as_deref().unwrap_or("0").parse().expect("count")
}

/// Runs the tolerance, tag and plan jobs for `base_date` and checks every guarantee of
/// the plan against the raw first-party tables (not the policy's own numbers).
async fn check_plan(engine: &Engine, base_date: &str) -> usize {
    run_job(engine, "tolerance", base_date).await;
    run_job(engine, "tag_values", base_date).await;
    run_job(engine, "contact_plan", base_date).await;
    let t = cutoff(base_date);
    let plan = query(
        engine,
        "SELECT count(*), count(DISTINCT person_id) FROM contact_plan",
    )
    .await;
    let planned: usize = plan[0][0].as_deref().unwrap_or("0").parse().expect("n");
    assert_eq!(
        plan[0][0], plan[0][1],
        "{base_date}: one message per person at most"
    );

    // Consent for that purpose and channel, on the very account messaged, which is the
    // person's, granted before and not withdrawn by the cut-off.
    let no_consent = query(
        engine,
        &format!(
            "SELECT count(*) FROM contact_plan p WHERE NOT EXISTS (
               SELECT 1 FROM consents c JOIN identity_map m
                 ON m.platform = c.platform AND m.account_scope = c.account_scope
                AND m.account_id = c.account_id
               WHERE m.person_id = p.person_id AND c.channel = p.channel
                 AND c.purpose = p.purpose AND c.platform = p.platform
                 AND c.account_scope = p.account_scope AND c.account_id = p.account_id
                 AND c.granted_at < {t}
                 AND (c.withdrawn_at IS NULL OR c.withdrawn_at >= {t}))"
        ),
    )
    .await;
    assert_eq!(
        count(&no_consent),
        0,
        "{base_date}: contact without consent"
    );

    // No block, report or unsubscribe on that channel by any of the person's accounts.
    let stopped = query(
        engine,
        &format!(
            "SELECT count(*) FROM contact_plan p JOIN identity_map m ON m.person_id = p.person_id
             JOIN feedback f ON f.platform = m.platform AND f.account_scope = m.account_scope
              AND f.account_id = m.account_id
             WHERE f.channel = p.channel AND f.ts < {t}
               AND f.kind IN ('block', 'report', 'unsubscribe')"
        ),
    )
    .await;
    assert_eq!(
        count(&stopped),
        0,
        "{base_date}: contact after block/report/unsubscribe"
    );

    // The send keeps the person within the channel's cap over the rolling 7 days, and the
    // cap never exceeds the configured maximum.
    let caps = plinkdb::config::ToleranceConfig::default().options();
    let over = query(
        engine,
        &format!(
            "SELECT p.person_id, p.channel, p.weekly_cap, count(tc.touch_id)
             FROM contact_plan p
             JOIN identity_map m ON m.person_id = p.person_id
             LEFT JOIN touches tc ON tc.platform = m.platform
              AND tc.account_scope = m.account_scope AND tc.account_id = m.account_id
              AND tc.channel = p.channel
              AND tc.sent_at >= {t} - INTERVAL '7 days' AND tc.sent_at < {t}
             GROUP BY 1, 2, 3"
        ),
    )
    .await;
    assert_eq!(
        over.len(),
        planned,
        "{base_date}: every planned person is mapped"
    );
    for row in &over {
        let channel = row[1].as_deref().expect("channel");
        let cap: u32 = row[2].as_deref().expect("cap").parse().expect("cap");
        let sent: u32 = row[3].as_deref().expect("sent").parse().expect("sent");
        assert!(
            sent < cap,
            "{base_date}: {row:?} is at or over its weekly cap"
        );
        assert!(cap <= caps.max_weekly(channel), "{row:?}");
    }

    // Inside the send window: on base_date (Beijing), outside the quiet hours.
    let times = query(
        engine,
        "SELECT CAST(date_part('hour', send_at + INTERVAL '8 hours') AS BIGINT),
                CAST(CAST(send_at + INTERVAL '8 hours' AS DATE) AS VARCHAR)
         FROM contact_plan",
    )
    .await;
    for row in &times {
        let hour: u32 = row[0].as_deref().expect("hour").parse().expect("hour");
        assert!(
            !caps.is_quiet(hour),
            "{base_date}: send at {hour}:00 is in quiet hours"
        );
        assert_eq!(row[1].as_deref(), Some(base_date));
    }

    // Every row carries its reason.
    let unexplained = query(
        engine,
        "SELECT count(*) FROM contact_plan WHERE reason IS NULL OR rule IS NULL
           OR reason_tag IS NULL OR tolerance IS NULL",
    )
    .await;
    assert_eq!(count(&unexplained), 0);
    planned
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_respects_consent_hard_stops_caps_and_quiet_hours() {
    let mut total = 0;
    let mut stopped_candidates = 0;
    for (persons, days, seed, dates) in [
        (600, 21, 3, ["2026-10-15", "2026-10-22"]),
        (400, 14, 8, ["2026-10-09", "2026-10-15"]),
        (300, 10, 41, ["2026-10-06", "2026-10-11"]),
    ] {
        let (_tmp, dir) = generate(persons, days, seed);
        let engine = people_engine(&dir, dates[0]).await;
        for date in dates {
            let planned = check_plan(&engine, date).await;
            assert!(
                planned > 0,
                "seed {seed} {date}: an empty plan proves nothing"
            );
            total += planned;
            // The hard stops bite: people with a tag a rule wants, whose channel is
            // stopped, are left out.
            let stopped = query(
                &engine,
                "SELECT count(DISTINCT t.person_id) FROM tolerance t
                 WHERE t.hard_stop IN ('block', 'report', 'unsubscribe', 'consent_withdrawn')
                   AND t.person_id NOT IN (SELECT person_id FROM contact_plan)",
            )
            .await;
            stopped_candidates += count(&stopped);
        }
    }
    eprintln!(
        "contact plan: {total} messages planned; {stopped_candidates} hard-stopped people left out"
    );
    assert!(stopped_candidates > 0);
}

/// Area under the ROC curve of `score` separating `positive` (higher = more positive),
/// ties counted half.
fn auc(scored: &[(f64, bool)]) -> f64 {
    let mut v: Vec<(f64, bool)> = scored.to_vec();
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (mut rank_sum, mut i) = (0.0, 0);
    while i < v.len() {
        let mut j = i;
        while j < v.len() && v[j].0 == v[i].0 {
            j += 1;
        }
        let mid = (i + j + 1) as f64 / 2.0; // average 1-based rank of the tie block
        rank_sum += mid * v[i..j].iter().filter(|x| x.1).count() as f64;
        i = j;
    }
    let pos = v.iter().filter(|x| x.1).count() as f64;
    let neg = v.len() as f64 - pos;
    (rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg)
}

#[test]
fn auc_counts_pairs() {
    assert_eq!(auc(&[(0.1, false), (0.9, true)]), 1.0);
    assert_eq!(auc(&[(0.9, false), (0.1, true)]), 0.0);
    assert_eq!(auc(&[(0.5, false), (0.5, true)]), 0.5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tolerance_separates_intolerant_people() {
    let (_tmp, dir) = generate(3000, 28, 17);
    let engine = Engine::open(Config::with_data_root(dir.to_string_lossy()))
        .await
        .expect("open");
    let base_date = "2026-10-29";
    let t = cutoff(base_date);
    // Per true person (through truth.accounts, so identity errors do not blur the
    // measurement), only people the brand has messaged: the others score the prior.
    let rows = query(
        &engine,
        &format!(
            "SELECT a.person_id, tolerance_score({t}, e.event_ts, e.event_type),
                    bool_or(p.intolerant)
             FROM events e
             JOIN truth.accounts a USING (platform, account_scope, account_id)
             JOIN truth.persons p ON p.person_id = a.person_id
             WHERE e.event_ts < {t}
             GROUP BY a.person_id
             HAVING count(*) FILTER (WHERE e.event_type = 'touch_sent') > 0"
        ),
    )
    .await;
    // Intolerant is the positive class of "low score": use 1 - score.
    let scored: Vec<(f64, bool)> = rows
        .iter()
        .map(|r| {
            let s: f64 = r[1].as_deref().expect("score").parse().expect("f64");
            assert!((0.0..=1.0).contains(&s), "{r:?}");
            (1.0 - s, r[2].as_deref() == Some("true"))
        })
        .collect();
    let intolerant = scored.iter().filter(|x| x.1).count();
    let value = auc(&scored);
    let mean = |flag: bool| {
        let v: Vec<f64> = scored
            .iter()
            .filter(|x| x.1 == flag)
            .map(|x| 1.0 - x.0)
            .collect();
        v.iter().sum::<f64>() / v.len() as f64
    };
    eprintln!(
        "tolerance AUC (intolerant vs tolerant) = {value:.3} over {} messaged persons \
         ({intolerant} intolerant); mean score intolerant {:.3}, tolerant {:.3}",
        scored.len(),
        mean(true),
        mean(false)
    );
    assert!(
        intolerant > 50 && scored.len() - intolerant > 200,
        "too few people"
    );
    assert!(value >= 0.80, "AUC {value:.3} below the floor 0.80");

    // The policy agrees: channels of intolerant people are stopped or capped lower.
    run_sql_file(&engine, "sql/identity/people_events.sql").await;
    let by_class = query(
        &engine,
        &format!(
            "WITH truth_of AS (
                SELECT m.person_id, bool_or(p.intolerant) AS intolerant
                FROM identity_map m
                JOIN truth.accounts a USING (platform, account_scope, account_id)
                JOIN truth.persons p ON p.person_id = a.person_id
                GROUP BY 1)
             SELECT tr.intolerant, avg(CAST(c.weekly_cap AS DOUBLE))
             FROM contact_policy('people_events', DATE '{base_date}') c
             JOIN truth_of tr USING (person_id)
             WHERE c.sends_28d > 0
             GROUP BY 1 ORDER BY 1"
        ),
    )
    .await;
    let caps: HashMap<String, f64> = by_class
        .iter()
        .map(|r| {
            (
                r[0].clone().expect("class"),
                r[1].as_deref().expect("avg").parse().expect("f64"),
            )
        })
        .collect();
    eprintln!("mean weekly cap of messaged channels: {caps:?}");
    assert!(caps["true"] < caps["false"], "{caps:?}");
}
