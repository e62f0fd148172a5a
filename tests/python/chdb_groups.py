"""Runs aggregate expressions in chDB (embedded ClickHouse), one GROUP BY g query each.

Reads JSON from stdin: {"csv": path, "structure": "g UInt32, ...", "exprs": [sql, ...]}
and prints JSON: one {"g": value-as-string-or-null} object per expression. Used by the
differential tests in tests/integration/funnel_chdb.rs.
"""

import json
import sys

try:
    import chdb
except ImportError as exc:  # the test turns this into a failure, never a skip
    sys.stderr.write(
        f"chdb is not installed ({exc}); run: pip install -r tests/requirements.txt\n"
    )
    sys.exit(3)


def main() -> None:
    job = json.load(sys.stdin)
    source = f"file('{job['csv']}', 'CSVWithNames', '{job['structure']}')"
    session = chdb.session.Session()
    results = []
    for expr in job["exprs"]:
        sql = (
            f"SELECT g, toString({expr}) FROM {source} GROUP BY g ORDER BY g "
            "FORMAT JSONCompact"
        )
        data = json.loads(session.query(sql).bytes() or b"{}")
        results.append({str(row[0]): row[1] for row in data.get("data", [])})
    json.dump({"version": chdb.__version__, "results": results}, sys.stdout)


if __name__ == "__main__":
    main()
