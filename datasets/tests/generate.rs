//! End-to-end checks of generated datasets (small sizes so they run fast in debug).

use arrow::array::{Array, AsArray, RecordBatch, StringArray, TimestampMillisecondArray};
use arrow::datatypes::{DataType, Int64Type};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use plinkdb_datasets::calendar::{beijing_day, civil_from_days};
use plinkdb_datasets::ids::looks_like_phone;
use plinkdb_datasets::model::{hmac_hex, phone_of};
use plinkdb_datasets::{DEMO_PHONE_KEY, GenConfig, GenError, Summary, generate, generate_chunked};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

fn small(persons: u64, days: u32, threads: usize) -> GenConfig {
    GenConfig {
        persons,
        days,
        seed: 11,
        threads,
        ..GenConfig::default()
    }
}

/// All files under `dir`, relative path -> bytes.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).expect("read_dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).expect("prefix").to_path_buf();
                out.insert(rel, fs::read(&p).expect("read"));
            }
        }
    }
    out
}

fn read(path: &Path) -> Vec<RecordBatch> {
    let file = fs::File::open(path).expect("open parquet");
    ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("parquet reader")
        .build()
        .expect("build reader")
        .map(|b| b.expect("batch"))
        .collect()
}

/// All batches of every file under `root/rel`.
fn read_dir(root: &Path, rel: &str) -> Vec<(PathBuf, RecordBatch)> {
    let mut out = Vec::new();
    for (p, _) in tree(&root.join(rel)) {
        let full = root.join(rel).join(&p);
        for b in read(&full) {
            out.push((p.clone(), b));
        }
    }
    out
}

fn col<'a>(b: &'a RecordBatch, name: &str) -> &'a dyn Array {
    b.column_by_name(name)
        .unwrap_or_else(|| panic!("column {name}"))
        .as_ref()
}

fn strs<'a>(b: &'a RecordBatch, name: &str) -> &'a StringArray {
    col(b, name).as_string::<i32>()
}

fn i64s(b: &RecordBatch, name: &str) -> Vec<Option<i64>> {
    col(b, name).as_primitive::<Int64Type>().iter().collect()
}

fn dt_of(rel: &Path) -> String {
    rel.components()
        .find_map(|c| {
            c.as_os_str()
                .to_str()
                .and_then(|s| s.strip_prefix("dt="))
                .map(str::to_string)
        })
        .expect("dt= directory")
}

fn date_string(ms: i64) -> String {
    let (y, m, d) = civil_from_days(beijing_day(ms));
    format!("{y:04}-{m:02}-{d:02}")
}

struct Sample {
    _dir: tempfile::TempDir,
    root: PathBuf,
    summary: Summary,
}

fn sample(cfg: &GenConfig, chunk: u64) -> Sample {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("ds");
    let summary = generate_chunked(cfg, &root, false, &|_| {}, chunk).expect("generate");
    Sample {
        _dir: dir,
        root,
        summary,
    }
}

#[test]
fn same_arguments_same_bytes_whatever_the_threads() {
    let a = sample(&small(700, 6, 1), 250);
    let b = sample(&small(700, 6, 3), 250);
    let c = sample(&small(700, 6, 2), 250);
    let ta = tree(&a.root);
    assert!(ta.len() > 60, "only {} files", ta.len());
    assert_eq!(ta, tree(&b.root));
    assert_eq!(ta, tree(&c.root));
    assert_eq!(a.summary, b.summary);
    let files: u64 = ta.len() as u64;
    let bytes: u64 = ta.values().map(|v| v.len() as u64).sum();
    assert_eq!(a.summary.files, files);
    assert_eq!(a.summary.bytes, bytes);
    // Several chunks wrote their own part files.
    assert!(ta.keys().any(|p| p.ends_with("part-00002.parquet")));
    // Another seed gives other data.
    let d = sample(
        &GenConfig {
            seed: 12,
            ..small(700, 6, 2)
        },
        250,
    );
    assert_ne!(ta, tree(&d.root));
}

#[test]
fn event_counts_match_distinct_rows_and_feeds_are_consistent() {
    let s = sample(&small(600, 8, 2), 200);
    let root = &s.root;
    let mut raw_rows = 0u64;
    let mut distinct = 0u64;
    let mut by_platform: HashMap<&str, u64> = HashMap::new();
    // (feed dir, platform, dedupe key columns, time check)
    let feeds: [(&str, &str, &[&str]); 8] = [
        ("raw/douyin/live_push", "douyin", &["msg_id"]),
        (
            "raw/douyin/doudian_order",
            "douyin",
            &["order_id", "main_status"],
        ),
        ("raw/kuaishou/live_event", "kuaishou", &["eventId"]),
        ("raw/kuaishou/order", "kuaishou", &["oid", "status"]),
        (
            "raw/wechat_channels/order",
            "wechat_channels",
            &["order_id", "status"],
        ),
        (
            "raw/wechat_channels/live_event",
            "wechat_channels",
            &["msg_id"],
        ),
        ("raw/taobao_live/trade", "taobao_live", &["tid", "status"]),
        ("raw/taobao_live/live_event", "taobao_live", &["event_id"]),
    ];
    let mut dups_douyin = 0u64;
    let mut seconds = 0u64;
    let mut millis = 0u64;
    for (dir, platform, key) in feeds {
        let mut keys = HashSet::new();
        for (rel, b) in read_dir(root, dir) {
            raw_rows += b.num_rows() as u64;
            let dt = dt_of(&rel);
            for i in 0..b.num_rows() {
                let k: Vec<String> = key
                    .iter()
                    .map(|c| {
                        let a = col(&b, c);
                        match a.data_type() {
                            DataType::Utf8 => a.as_string::<i32>().value(i).to_string(),
                            DataType::Int64 => a.as_primitive::<Int64Type>().value(i).to_string(),
                            _ => a
                                .as_primitive::<arrow::datatypes::Int32Type>()
                                .value(i)
                                .to_string(),
                        }
                    })
                    .collect();
                if keys.insert(k) {
                    distinct += 1;
                    *by_platform.entry(platform).or_default() += 1;
                } else if dir == "raw/douyin/live_push" {
                    dups_douyin += 1;
                }
            }
            // dt is the Beijing date of the time the row reports.
            if dir == "raw/douyin/live_push" {
                for t in i64s(&b, "timestamp").into_iter().flatten() {
                    let ms = if t < 100_000_000_000 {
                        seconds += 1;
                        t * 1000
                    } else {
                        millis += 1;
                        t
                    };
                    assert_eq!(date_string(ms), dt);
                }
            }
            if dir == "raw/kuaishou/order" {
                let st = col(&b, "status").as_primitive::<arrow::datatypes::Int32Type>();
                let (c, p, u) = (
                    i64s(&b, "createTime"),
                    i64s(&b, "payTime"),
                    i64s(&b, "updateTime"),
                );
                for i in 0..b.num_rows() {
                    let t = match st.value(i) {
                        10 => c[i],
                        30 => p[i],
                        80 => u[i],
                        x => panic!("status {x}"),
                    }
                    .expect("time");
                    assert_eq!(date_string(t), dt);
                }
            }
            if dir == "raw/taobao_live/trade" {
                let (st, cr, pt, md) = (
                    strs(&b, "status"),
                    strs(&b, "created"),
                    strs(&b, "pay_time"),
                    strs(&b, "modified"),
                );
                for i in 0..b.num_rows() {
                    let t = match st.value(i) {
                        "WAIT_BUYER_PAY" => cr.value(i),
                        "WAIT_SELLER_SEND_GOODS" => pt.value(i),
                        "TRADE_CLOSED" => md.value(i),
                        x => panic!("status {x}"),
                    };
                    assert_eq!(&t[..10], dt);
                    let pay = strs(&b, "payment").value(i);
                    assert!(
                        pay.split_once('.').is_some_and(|(_, f)| f.len() == 2),
                        "{pay}"
                    );
                }
            }
        }
    }
    let mut touch_events = 0u64;
    let mut touch_rows = 0u64;
    for (rel, b) in read_dir(root, "firstparty/touches") {
        touch_rows += b.num_rows() as u64;
        let sent: &TimestampMillisecondArray = col(&b, "sent_at").as_primitive();
        for t in sent.iter().flatten() {
            assert_eq!(date_string(t), dt_of(&rel));
        }
        touch_events += b.num_rows() as u64
            + (b.num_rows() - col(&b, "opened_at").null_count()) as u64
            + (b.num_rows() - col(&b, "clicked_at").null_count()) as u64;
    }
    let feedback_rows: u64 = read_dir(root, "firstparty/feedback")
        .iter()
        .map(|(_, b)| b.num_rows() as u64)
        .sum();
    let mut counted = 0u64;
    let mut counted_raw: HashMap<String, u64> = HashMap::new();
    for b in read(&root.join("truth/event_counts.parquet")) {
        let (p, e) = (strs(&b, "platform"), strs(&b, "event_type"));
        for (i, n) in i64s(&b, "events").into_iter().enumerate() {
            let n = n.expect("count") as u64;
            counted += n;
            let et = e.value(i);
            if !et.starts_with("touch_") && !["unsubscribe", "block", "report"].contains(&et) {
                *counted_raw.entry(p.value(i).to_string()).or_default() += n;
            }
        }
    }
    assert_eq!(counted, distinct + touch_events + feedback_rows);
    for (p, n) in &by_platform {
        assert_eq!(
            counted_raw.get(*p).copied().unwrap_or(0),
            *n,
            "platform {p}"
        );
    }
    assert_eq!(s.summary.events, counted);
    assert_eq!(s.summary.raw_rows, raw_rows + touch_rows + feedback_rows);
    assert!(raw_rows > distinct, "no duplicate deliveries");
    assert!(dups_douyin > 0, "no duplicate Douyin messages");
    assert!(seconds > 0, "no Douyin timestamps in seconds");
    assert!(millis > 10 * seconds, "too many second timestamps");
    assert!(feedback_rows > 0 && touch_rows > 0);
}

/// Every string column of every file, except `phone_key` (a hash).
fn all_strings(root: &Path, mut f: impl FnMut(&Path, &str, &str)) {
    for (rel, _) in tree(root) {
        for b in read(&root.join(&rel)) {
            for (field, a) in b.schema().fields().iter().zip(b.columns()) {
                if field.name() == "phone_key" || a.data_type() != &DataType::Utf8 {
                    continue;
                }
                for v in a.as_string::<i32>().iter().flatten() {
                    f(&rel, field.name(), v);
                }
            }
        }
    }
}

#[test]
fn no_raw_phone_anywhere_and_phone_keys_are_hmacs() {
    let s = sample(&small(500, 5, 2), 500);
    let mut checked = 0u64;
    all_strings(&s.root, |rel, col, v| {
        checked += 1;
        assert!(
            !looks_like_phone(v),
            "{}:{col} looks like a phone: {v}",
            rel.display()
        );
    });
    assert!(checked > 10_000);
    // phone_key = HMAC of the member's phone under the demo key.
    let person_of: HashMap<String, String> = read(&s.root.join("truth/accounts.parquet"))
        .iter()
        .flat_map(|b| {
            let (a, p) = (strs(b, "account_id"), strs(b, "person_id"));
            (0..b.num_rows())
                .map(|i| (a.value(i).to_string(), p.value(i).to_string()))
                .collect::<Vec<_>>()
        })
        .collect();
    let mut members = 0;
    for (_, b) in read_dir(&s.root, "firstparty/members") {
        let (k, a) = (strs(&b, "phone_key"), strs(&b, "account_id"));
        for i in 0..b.num_rows() {
            let pid = &person_of[a.value(i)];
            let gidx: u64 = pid[1..].parse().expect("person index");
            let phone = phone_of(11, gidx);
            assert!(phone.starts_with("+861") && phone.len() == 14, "{phone}");
            assert_eq!(k.value(i), hmac_hex(DEMO_PHONE_KEY, phone.as_bytes()));
            members += 1;
        }
    }
    assert!(members > 50);
}

#[test]
fn every_account_in_the_data_is_in_the_truth() {
    let s = sample(&small(500, 6, 2), 500);
    let mut truth = HashSet::new();
    for b in read(&s.root.join("truth/accounts.parquet")) {
        let (p, sc, a) = (
            strs(&b, "platform"),
            strs(&b, "account_scope"),
            strs(&b, "account_id"),
        );
        for i in 0..b.num_rows() {
            assert!(truth.insert((
                p.value(i).to_string(),
                sc.value(i).to_string(),
                a.value(i).to_string()
            )));
        }
    }
    let mut seen = HashSet::new();
    let mut add = |p: &str, scope: String, id: &str| {
        let key = (p.to_string(), scope, id.to_string());
        assert!(truth.contains(&key), "{key:?} not in truth/accounts");
        seen.insert(key);
    };
    for (_, b) in read_dir(&s.root, "raw/douyin/live_push") {
        for i in 0..b.num_rows() {
            add(
                "douyin",
                strs(&b, "app_id").value(i).into(),
                strs(&b, "sec_openid").value(i),
            );
        }
    }
    for (_, b) in read_dir(&s.root, "raw/douyin/doudian_order") {
        for (i, shop) in i64s(&b, "shop_id").into_iter().enumerate() {
            add(
                "douyin",
                shop.expect("shop").to_string(),
                strs(&b, "doudian_open_id").value(i),
            );
        }
    }
    for (dir, scope, id) in [
        ("raw/kuaishou/live_event", "appKey", "userOpenId"),
        ("raw/kuaishou/order", "appKey", "buyerOpenId"),
    ] {
        for (_, b) in read_dir(&s.root, dir) {
            for i in 0..b.num_rows() {
                add(
                    "kuaishou",
                    strs(&b, scope).value(i).into(),
                    strs(&b, id).value(i),
                );
            }
        }
    }
    for dir in [
        "raw/wechat_channels/order",
        "raw/wechat_channels/live_event",
    ] {
        for (_, b) in read_dir(&s.root, dir) {
            for i in 0..b.num_rows() {
                add(
                    "wechat_channels",
                    strs(&b, "appid").value(i).into(),
                    strs(&b, "openid").value(i),
                );
            }
        }
    }
    for dir in ["raw/taobao_live/trade", "raw/taobao_live/live_event"] {
        for (_, b) in read_dir(&s.root, dir) {
            for i in 0..b.num_rows() {
                add(
                    "taobao_live",
                    strs(&b, "appkey").value(i).into(),
                    strs(&b, "buyer_open_uid").value(i),
                );
            }
        }
    }
    for dir in [
        "firstparty/touches",
        "firstparty/feedback",
        "firstparty/members",
        "firstparty/consents",
    ] {
        for (_, b) in read_dir(&s.root, dir) {
            for i in 0..b.num_rows() {
                add(
                    strs(&b, "platform").value(i),
                    strs(&b, "account_scope").value(i).into(),
                    strs(&b, "account_id").value(i),
                );
            }
        }
    }
    // Nearly every account shows up somewhere.
    assert!(
        seen.len() * 100 >= truth.len() * 97,
        "{} of {}",
        seen.len(),
        truth.len()
    );
}

#[test]
fn a_failed_generate_leaves_the_previous_output_intact() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    fs::create_dir(&out).expect("mkdir");
    fs::write(out.join("keep.txt"), b"old").expect("write");
    let cfg = small(50, 2, 1);
    let err = generate(&cfg, &out, false, &|_| {}).expect_err("must refuse");
    assert!(matches!(err, GenError::OutputExists { .. }));
    let msg = err.to_string();
    assert!(
        msg.contains(&out.display().to_string()) && msg.contains("--force"),
        "{msg}"
    );
    assert_eq!(fs::read(out.join("keep.txt")).expect("still there"), b"old");
    // No temporary directory left behind.
    let names: Vec<_> = fs::read_dir(dir.path())
        .expect("ls")
        .map(|e| e.expect("e").file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");

    // A file in the way is reported as such.
    let file = dir.path().join("file");
    fs::write(&file, b"x").expect("write");
    let msg = generate(&cfg, &file, true, &|_| {})
        .expect_err("file")
        .to_string();
    assert!(
        msg.contains("is not a directory") && msg.contains(&file.display().to_string()),
        "{msg}"
    );

    // With overwrite the old content is replaced.
    let last = std::sync::atomic::AtomicU64::new(0);
    let s = generate(&cfg, &out, true, &|n| {
        last.store(n, std::sync::atomic::Ordering::Relaxed)
    })
    .expect("overwrite");
    assert_eq!(last.into_inner(), 50);
    assert!(!out.join("keep.txt").exists());
    assert!(out.join("truth/event_counts.parquet").exists());
    assert_eq!(s.persons, 50);
    let names: Vec<_> = fs::read_dir(dir.path())
        .expect("ls")
        .map(|e| e.expect("e").file_name())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    // An empty directory is simply filled.
    let empty = dir.path().join("empty");
    fs::create_dir(&empty).expect("mkdir");
    generate(&cfg, &empty, false, &|_| {}).expect("empty dir is fine");
    assert!(empty.join("truth/persons.parquet").exists());
}

#[test]
fn invalid_arguments_are_explained() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("never");
    let cases: [(GenConfig, &str); 6] = [
        (small(0, 5, 1), "--persons must be between 1 and"),
        (small(10, 0, 1), "--days must be between 1 and 3660, got 0"),
        (
            small(10, 3661, 1),
            "--days must be between 1 and 3660, got 3661",
        ),
        (
            GenConfig {
                start_date: (2026, 2, 30),
                ..small(10, 5, 1)
            },
            "--start 2026-02-30 is not a valid calendar date",
        ),
        (
            GenConfig {
                phone_key: Vec::new(),
                ..small(10, 5, 1)
            },
            "the phone HMAC key must not be empty",
        ),
        (
            GenConfig {
                persons: 60_000_000,
                ..small(10, 5, 1)
            },
            "got 60000000",
        ),
    ];
    for (cfg, want) in cases {
        let err = generate(&cfg, &out, false, &|_| {}).expect_err("invalid");
        assert!(matches!(err, GenError::InvalidConfig(_)));
        assert!(
            err.to_string().contains(want),
            "{err} does not contain {want}"
        );
    }
    assert!(!out.exists());
}

#[test]
fn ground_truth_is_complete() {
    let s = sample(&small(400, 4, 1), 400);
    let persons: usize = read(&s.root.join("truth/persons.parquet"))
        .iter()
        .map(|b| b.num_rows())
        .sum();
    assert_eq!(persons, 400);
    let accounts: usize = read(&s.root.join("truth/accounts.parquet"))
        .iter()
        .map(|b| b.num_rows())
        .sum();
    assert_eq!(accounts as u64, s.summary.accounts);
    let mut kinds = HashSet::new();
    for b in read(&s.root.join("truth/devices.parquet")) {
        for v in strs(&b, "kind").iter().flatten() {
            kinds.insert(v.to_string());
        }
    }
    assert!(
        kinds.contains("personal") && kinds.contains("junk"),
        "{kinds:?}"
    );
    // Every feed has a file for every day (chunk 0 always writes one).
    for feed in plinkdb_datasets::feeds::Feed::ALL {
        for day in ["2026-10-01", "2026-10-04"] {
            let p = s
                .root
                .join(feed.dir())
                .join(format!("dt={day}"))
                .join("part-00000.parquet");
            assert!(p.exists(), "{}", p.display());
        }
    }
}

/// A minimal identity resolver: union-find over accounts linked by member
/// phone keys, union ids and device ids (junk ids and devices seen on two
/// accounts of one scope, i.e. family tablets, are ignored).
#[test]
fn accounts_of_a_person_are_linkable_by_evidence() {
    let s = sample(&small(3000, 8, 2), 20_000);
    let root = &s.root;
    let junk: HashSet<&str> = plinkdb_datasets::sim::JUNK_DEVICE_IDS.into_iter().collect();
    let mut evidence: Vec<(String, String)> = Vec::new();
    let key = |p: &str, sc: &str, id: &str| format!("{p}|{sc}|{id}");
    // device -> scope -> accounts
    let mut devices: HashMap<String, HashMap<String, HashSet<String>>> = HashMap::new();
    for (dir, p, sc, id, dev, uni) in [
        (
            "raw/douyin/live_push",
            "douyin",
            "app_id",
            "sec_openid",
            Some("device_id"),
            Some("union_id"),
        ),
        (
            "raw/kuaishou/live_event",
            "kuaishou",
            "appKey",
            "userOpenId",
            Some("deviceId"),
            None,
        ),
        (
            "raw/taobao_live/live_event",
            "taobao_live",
            "appkey",
            "buyer_open_uid",
            Some("utdid"),
            None,
        ),
        (
            "raw/wechat_channels/order",
            "wechat_channels",
            "appid",
            "openid",
            None,
            Some("unionid"),
        ),
        (
            "raw/wechat_channels/live_event",
            "wechat_channels",
            "appid",
            "openid",
            None,
            Some("unionid"),
        ),
        (
            "firstparty/touches",
            "",
            "account_scope",
            "account_id",
            None,
            Some("union_id"),
        ),
    ] {
        for (_, b) in read_dir(root, dir) {
            for i in 0..b.num_rows() {
                let plat = if p.is_empty() {
                    strs(&b, "platform").value(i)
                } else {
                    p
                };
                let scope = strs(&b, sc).value(i);
                let acct = key(plat, scope, strs(&b, id).value(i));
                if let Some(d) = dev.map(|c| strs(&b, c))
                    && d.is_valid(i)
                    && !junk.contains(d.value(i))
                {
                    devices
                        .entry(d.value(i).to_string())
                        .or_default()
                        .entry(scope.to_string())
                        .or_default()
                        .insert(acct.clone());
                }
                if let Some(u) = uni.map(|c| strs(&b, c))
                    && u.is_valid(i)
                {
                    evidence.push((acct, format!("u:{}", u.value(i))));
                }
            }
        }
    }
    for (_, b) in read_dir(root, "raw/douyin/doudian_order") {
        let u = strs(&b, "union_id");
        for (i, shop) in i64s(&b, "shop_id").into_iter().enumerate() {
            if u.is_valid(i) {
                let acct = key(
                    "douyin",
                    &shop.expect("shop").to_string(),
                    strs(&b, "doudian_open_id").value(i),
                );
                evidence.push((acct, format!("u:{}", u.value(i))));
            }
        }
    }
    for (_, b) in read_dir(root, "firstparty/members") {
        for i in 0..b.num_rows() {
            let acct = key(
                strs(&b, "platform").value(i),
                strs(&b, "account_scope").value(i),
                strs(&b, "account_id").value(i),
            );
            evidence.push((acct, format!("m:{}", strs(&b, "phone_key").value(i))));
        }
    }
    let mut family = 0;
    for (d, scopes) in &devices {
        if scopes.values().any(|a| a.len() > 1) {
            family += 1;
            continue;
        }
        for accts in scopes.values() {
            for a in accts {
                evidence.push((a.clone(), format!("d:{d}")));
            }
        }
    }
    assert!(family > 0, "no family tablet detected");

    let mut parent: HashMap<String, String> = HashMap::new();
    fn find(parent: &mut HashMap<String, String>, x: &str) -> String {
        let mut cur = x.to_string();
        loop {
            let p = parent
                .entry(cur.clone())
                .or_insert_with(|| cur.clone())
                .clone();
            if p == cur {
                return cur;
            }
            cur = p;
        }
    }
    for (a, e) in &evidence {
        let (ra, re) = (find(&mut parent, a), find(&mut parent, e));
        if ra != re {
            parent.insert(ra, re);
        }
    }
    let mut by_person: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for b in read(&root.join("truth/accounts.parquet")) {
        for i in 0..b.num_rows() {
            let acct = key(
                strs(&b, "platform").value(i),
                strs(&b, "account_scope").value(i),
                strs(&b, "account_id").value(i),
            );
            by_person
                .entry(strs(&b, "person_id").value(i).to_string())
                .or_default()
                .push((acct, strs(&b, "platform").value(i).to_string()));
        }
    }
    let (mut pairs, mut linked, mut cross, mut cross_linked) = (0u64, 0u64, 0u64, 0u64);
    let mut cluster_person: HashMap<String, String> = HashMap::new();
    let mut false_merges = 0;
    for (person, accts) in &by_person {
        for (i, (a, pa)) in accts.iter().enumerate() {
            let ra = find(&mut parent, a);
            if let Some(other) = cluster_person.insert(ra.clone(), person.clone())
                && &other != person
            {
                false_merges += 1;
            }
            for (b, pb) in &accts[i + 1..] {
                let same = ra == find(&mut parent, b);
                pairs += 1;
                linked += same as u64;
                if pa != pb {
                    cross += 1;
                    cross_linked += same as u64;
                }
            }
        }
    }
    let recall = linked as f64 / pairs as f64;
    let cross_recall = cross_linked as f64 / cross as f64;
    eprintln!(
        "pairs {pairs} recall {recall:.4} cross {cross} recall {cross_recall:.4} family {family} false merges {false_merges}"
    );
    assert!(
        pairs > 500 && cross > 300,
        "{pairs} pairs, {cross} cross-platform"
    );
    assert!(recall >= 0.98, "pairwise recall {recall:.4}");
    assert!(
        cross_recall >= 0.98,
        "cross-platform recall {cross_recall:.4}"
    );
    assert!(
        false_merges * 200 < by_person.len(),
        "{false_merges} false merges"
    );
}
