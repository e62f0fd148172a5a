#!/usr/bin/env python3
"""Side-by-side funnel benchmark: plinkdb CLI vs chDB (windowFunnel) vs DuckDB.

Generates one Parquet file of live-commerce events (person, ts UInt32 seconds, event
string), then runs the same 4-step, 1-hour funnel in each engine, one run each, in a
fresh process (peak RSS from wait4), and prints times, ratios and peak memory. The
level histograms of plinkdb and chDB must be identical (the script fails otherwise);
DuckDB runs the best plain-SQL equivalent (greedy earliest-next-step joins per step-1
event), which equals ClickHouse's default mode on this data.

Also runs the "floor": a plain GROUP BY person over the same columns (person, ts, event)
in plinkdb.

Usage:
  .venv/bin/python benches/funnel_bench.py --events 10000000 --persons 1000000 \
      --plinkdb target/release/plinkdb [--out /tmp/funnel-bench]
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

STEPS = ["live_enter", "product_click", "add_to_cart", "order_paid"]
OTHER = ["live_like", "live_comment", "live_leave"]
WINDOW = 3600


def generate(path: Path, events: int, persons: int, seed: int = 42) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    person = rng.integers(0, persons, events, dtype=np.int64)
    # Each person's events fall in one of three live sessions over 30 days.
    base = 1_790_000_000
    k = rng.integers(0, 3, events)
    session = ((person * 7919 + k * 104729) % (30 * 24)) * 3600
    ts = (base + session + rng.integers(0, 5400, events)).astype(np.uint32)
    names = np.array(STEPS + OTHER)
    probs = np.array([0.30, 0.18, 0.08, 0.04, 0.2, 0.1, 0.1])
    kind = rng.choice(len(names), events, p=probs / probs.sum())
    order = np.argsort(ts, kind="stable")  # logs arrive roughly in time order
    table = pa.table(
        {
            "person": person[order],
            "ts": ts[order],
            "event": pa.array(names[kind[order]]).dictionary_encode().cast(pa.string()),
        }
    )
    pq.write_table(table, path, row_group_size=1 << 20)


def run(cmd, env=None):
    """Runs cmd under /usr/bin/time; returns (seconds, peak RSS MiB, stdout).

    /usr/bin/time (not wait4 here) because Linux carries a forking parent's RSS into the
    child's high-water mark; time's own child starts from a small process.
    """
    start = time.perf_counter()
    proc = subprocess.run(
        ["/usr/bin/time", "-f", "MAXRSS_KB %M", *cmd],
        capture_output=True,
        env=env,
        text=True,
    )
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{cmd[0]} failed: {proc.stderr}\n{proc.stdout}")
    kb = [int(line.split()[1]) for line in proc.stderr.splitlines() if line.startswith("MAXRSS_KB")]
    return seconds, kb[-1] / 1024, proc.stdout


def conds(col="event"):
    return ", ".join(f"{col} = '{s}'" for s in STEPS)


def plinkdb_sql(parquet: Path, floor: bool) -> str:
    table = (
        f"CREATE EXTERNAL TABLE ev STORED AS PARQUET LOCATION '{parquet}';\n"
    )
    if floor:
        inner = (
            "SELECT person, max(ts) AS m, count(*) FILTER (WHERE event = 'order_paid') "
            "AS l FROM ev GROUP BY person"
        )
        # The outer query must use every inner aggregate: an unused `max(ts)` is pruned
        # by the optimizer, and the floor would then not read `ts` at all.
        return table + (
            f"SELECT count(*) AS persons, sum(l) AS paid, max(m) AS last FROM ({inner})"
        )
    inner = (
        f"SELECT person, window_funnel({WINDOW}, ts, {conds()}) AS l "
        "FROM ev GROUP BY person"
    )
    return table + f"SELECT l, count(*) AS n FROM ({inner}) GROUP BY l ORDER BY l"


CHDB = """
import sys, time, chdb
sql = sys.argv[1]
t = time.perf_counter()
res = chdb.query(sql, 'CSV')
print(res.data().strip())
print('QUERY_SECONDS', time.perf_counter() - t)
"""

DUCKDB = """
import sys, time, duckdb
sql = sys.argv[1]
con = duckdb.connect()
t = time.perf_counter()
rows = con.execute(sql).fetchall()
for r in rows: print(','.join(str(x) for x in r))
print('QUERY_SECONDS', time.perf_counter() - t)
"""


def chdb_sql(parquet: Path) -> str:
    inner = (
        f"SELECT person, windowFunnel({WINDOW})(ts, {conds()}) AS l "
        f"FROM file('{parquet}', Parquet) GROUP BY person"
    )
    return f"SELECT l, count() AS n FROM ({inner}) GROUP BY l ORDER BY l"


def duckdb_sql(parquet: Path) -> str:
    s = STEPS
    return f"""
WITH ev AS (SELECT person, ts::BIGINT AS ts, event FROM read_parquet('{parquet}')),
s1 AS (SELECT DISTINCT person, ts AS t1 FROM ev WHERE event = '{s[0]}'),
s2 AS (SELECT s1.person, s1.t1, min(e.ts) AS t2 FROM s1 JOIN ev e
       ON e.person = s1.person AND e.event = '{s[1]}' AND e.ts >= s1.t1
      AND e.ts <= s1.t1 + {WINDOW} GROUP BY ALL),
s3 AS (SELECT s2.person, s2.t1, min(e.ts) AS t3 FROM s2 JOIN ev e
       ON e.person = s2.person AND e.event = '{s[2]}' AND e.ts >= s2.t2
      AND e.ts <= s2.t1 + {WINDOW} GROUP BY ALL),
s4 AS (SELECT DISTINCT s3.person FROM s3 JOIN ev e
       ON e.person = s3.person AND e.event = '{s[3]}' AND e.ts >= s3.t3
      AND e.ts <= s3.t1 + {WINDOW}),
lvl AS (
  SELECT p.person,
         CASE WHEN p.person IN (SELECT person FROM s4) THEN 4
              WHEN p.person IN (SELECT person FROM s3) THEN 3
              WHEN p.person IN (SELECT person FROM s2) THEN 2
              WHEN p.person IN (SELECT person FROM s1) THEN 1 ELSE 0 END AS l
  FROM (SELECT DISTINCT person FROM ev) p)
SELECT l, count(*) AS n FROM lvl GROUP BY l ORDER BY l"""


def histogram(text: str):
    rows = []
    for line in text.strip().splitlines():
        parts = line.split(",")
        if len(parts) < 2 or not parts[0].strip().isdigit():
            continue
        rows.append((int(parts[0]), int(parts[1])))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--plinkdb", default="target/release/plinkdb")
    ap.add_argument("--out", default="/tmp/funnel-bench")
    ap.add_argument("--skip", default="", help="comma list of engines to skip")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    parquet = out / f"events_{args.events}_{args.persons}.parquet"
    if not parquet.exists():
        t = time.perf_counter()
        generate(parquet, args.events, args.persons)
        print(f"generated {parquet} in {time.perf_counter() - t:.1f}s", file=sys.stderr)
    skip = set(args.skip.split(","))
    py = sys.executable
    results = {}

    def plinkdb(floor):
        cmd = [args.plinkdb, "query", "--format", "csv", plinkdb_sql(parquet, floor)]
        return run(cmd)

    s, mem, text = plinkdb(False)
    results["plinkdb window_funnel"] = (s, mem)
    ours = histogram(text)
    s, mem, _ = plinkdb(True)
    results["plinkdb GROUP BY floor"] = (s, mem)
    if "chdb" not in skip:
        s, mem, text = run([py, "-c", CHDB, chdb_sql(parquet)])
        results["chDB windowFunnel"] = (s, mem)
        theirs = histogram(text)
        if theirs != ours:
            sys.exit(f"level histograms differ:\nplinkdb {ours}\nchdb    {theirs}")
    if "duckdb" not in skip:
        s, mem, text = run([py, "-c", DUCKDB, duckdb_sql(parquet)])
        results["DuckDB plain SQL"] = (s, mem)
        duck = histogram(text)
        if duck != ours:
            print(f"note: DuckDB histogram differs: {duck} vs {ours}\n{text[:300]}")
    base = results["plinkdb window_funnel"][0]
    print(f"{args.events:,} events, {args.persons:,} persons, levels {ours}")
    print(f"{'engine':28} {'seconds':>8} {'vs plinkdb':>10} {'peak MiB':>9}")
    for name, (s, mem) in results.items():
        print(f"{name:28} {s:8.2f} {s / base:9.2f}x {mem:9.0f}")
    print(json.dumps({k: {"s": round(v[0], 3), "mib": round(v[1])} for k, v in results.items()}))


if __name__ == "__main__":
    main()
