#!/usr/bin/env python3
"""The warehouse way to resolve identities, for comparison with `resolve_identities`:
iterative min-label propagation in SQL (as RudderStack Profiles, the dbt id-stitching
package and sql-identity-resolution do), in DuckDB, on the same identity rows.

Input: a directory written by `cargo bench --bench identity` (`evidence.parquet`:
platform, account_scope, account_id, union_id, phone_key, device_id, first_ts;
`members.parquet`: platform, account_scope, account_id, phone_key, member_id, bound_at).
The baseline applies the same value guards expressible in set SQL (blocked values, hub
threshold, shared devices); the order-dependent merge guards (one union id per platform,
max phones) have no set-based equivalent and are left out, which only makes it faster.

Usage: python benches/identity_duckdb.py DIR [--threads N]
Prints wall time, iterations, persons and peak RSS.
"""
import argparse
import resource
import time

import duckdb

BLOCKED = r"^[0\-\s]*$|^-1$|^(?i)\s*(unknown|null|nil|none|undefined|nan|n/a|anonymous|\(null\))\s*$"
HUB = 50


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    con = duckdb.connect()
    con.execute(f"SET threads = {args.threads}")
    t0 = time.perf_counter()
    con.execute(f"""
      CREATE TABLE ev AS SELECT * FROM read_parquet('{args.dir}/evidence.parquet');
      CREATE TABLE mem AS SELECT * FROM read_parquet('{args.dir}/members.parquet');
      CREATE TABLE acc AS
        SELECT row_number() OVER () AS id, platform, account_scope, account_id
        FROM (SELECT DISTINCT platform, account_scope, account_id FROM ev);
      CREATE TABLE raw_links AS
        SELECT a.id AS acc, a.platform, a.account_scope, kind, value FROM (
          SELECT platform, account_scope, account_id, 'u:' || platform AS kind, union_id AS value
            FROM ev WHERE union_id IS NOT NULL
          UNION SELECT platform, account_scope, account_id, 'p', phone_key FROM ev
            WHERE phone_key IS NOT NULL
          UNION SELECT platform, account_scope, account_id, 'd', device_id FROM ev
            WHERE device_id IS NOT NULL
          UNION SELECT platform, account_scope, account_id, 'p', phone_key FROM mem
            WHERE phone_key IS NOT NULL
          UNION SELECT platform, account_scope, account_id, 'm', member_id FROM mem
            WHERE member_id IS NOT NULL
        ) l JOIN acc a USING (platform, account_scope, account_id);
      CREATE TABLE good AS
        SELECT kind, value FROM raw_links
        WHERE NOT regexp_matches(value, '{BLOCKED}')
        GROUP BY kind, value
        HAVING count(DISTINCT acc) <= {HUB}
           AND NOT (kind = 'd' AND count(DISTINCT acc)
                    > count(DISTINCT platform || '|' || account_scope));
      CREATE TABLE idents AS
        SELECT (SELECT max(id) FROM acc) + row_number() OVER () AS id, kind, value FROM good;
      CREATE TABLE edges AS
        SELECT DISTINCT l.acc AS a, i.id AS b
        FROM raw_links l JOIN idents i USING (kind, value);
      CREATE TABLE lbl AS
        SELECT id AS node, id AS label FROM acc UNION ALL SELECT id, id FROM idents;
    """)
    t_prep = time.perf_counter() - t0
    iterations = 0
    while True:
        iterations += 1
        con.execute("""
          CREATE OR REPLACE TABLE nxt AS
          WITH nb AS (
            SELECT e.a AS node, min(l.label) AS m FROM edges e JOIN lbl l ON l.node = e.b
            GROUP BY e.a
            UNION ALL
            SELECT e.b, min(l.label) FROM edges e JOIN lbl l ON l.node = e.a GROUP BY e.b
          )
          SELECT l.node, least(l.label, coalesce(min(nb.m), l.label)) AS label
          FROM lbl l LEFT JOIN nb ON nb.node = l.node
          GROUP BY l.node, l.label
        """)
        changed = con.execute(
            "SELECT count(*) FROM nxt JOIN lbl USING (node) WHERE nxt.label <> lbl.label"
        ).fetchone()[0]
        con.execute("DROP TABLE lbl; ALTER TABLE nxt RENAME TO lbl")
        if changed == 0 or iterations > 100:
            break
    persons = con.execute(
        "SELECT count(DISTINCT label) FROM lbl JOIN acc ON acc.id = lbl.node"
    ).fetchone()[0]
    accounts = con.execute("SELECT count(*) FROM acc").fetchone()[0]
    total = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"duckdb {duckdb.__version__}: {accounts} accounts -> {persons} persons; "
        f"prep {t_prep:.2f}s, {iterations} label-propagation rounds, total {total:.2f}s, "
        f"peak RSS {peak_mb:.0f} MiB"
    )


if __name__ == "__main__":
    main()
