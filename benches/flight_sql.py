"""Flight SQL throughput: one large result through ADBC versus the same query in process.

    .venv/bin/python benches/flight_sql.py [--bin target/release/plinkdb] [--rows 10000000]

Starts `plinkdb serve` on 127.0.0.1 (a free port), fetches the result with the ADBC Flight
SQL driver into a pyarrow Table, and compares with the engine in process:
- `floor`: `SELECT count(*), sum(...)` over the same rows in `plinkdb query` (the engine
  producing the rows, no transport);
- `parquet`: `plinkdb query --format parquet -o FILE` (producing and writing them).
Prints a Markdown table for benches/README.md.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "target/release/plinkdb"))
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()

    sql = (
        f"SELECT value AS id, value * 7 % 1000 AS amount_fen, "
        f"concat('acct-', CAST(value % 100000 AS VARCHAR)) AS account_id "
        f"FROM generate_series(1, {args.rows})"
    )
    env = dict(os.environ, PLINKDB_USER="bench", PLINKDB_PASSWORD="bench-password")
    with tempfile.TemporaryDirectory() as tmp:
        config = os.path.join(tmp, "plinkdb.toml")
        with open(config, "w") as f:
            f.write('[server]\nmax_result_rows = 1000000000\nmax_result_bytes = "64GiB"\n'
                    'query_memory_limit = "8GiB"\nquery_timeout_secs = 3600\n')
        server = subprocess.Popen(
            [args.bin, "serve", "--config", config, "--addr", "127.0.0.1:0"],
            env=env, stdout=subprocess.PIPE, text=True,
        )
        try:
            addr = server.stdout.readline().strip().rsplit(" ", 1)[-1]
            client_env = dict(env, FLIGHT_URI=f"grpc://{addr}", FLIGHT_USER="bench", FLIGHT_PASSWORD="bench-password")
            flight = []
            for _ in range(args.runs):
                out = subprocess.run(
                    [sys.executable, os.path.join(ROOT, "tests/python/flight_clients.py"), "bench", sql],
                    env=client_env, check=True, capture_output=True, text=True,
                )
                flight.append(json.loads(out.stdout))
        finally:
            server.terminate()
            server.wait()

        def timed(cmd):
            best = None
            for _ in range(args.runs):
                t = time.time()
                subprocess.run(cmd, check=True, capture_output=True, env=env)
                d = time.time() - t
                best = d if best is None else min(best, d)
            return best

        floor = timed([args.bin, "query", "--config", config,
                       f"SELECT count(*), sum(amount_fen), max(account_id) FROM ({sql})"])
        parquet = timed([args.bin, "query", "--config", config, "--format", "parquet",
                         "-o", os.path.join(tmp, "out.parquet"), sql])

    best = min(flight, key=lambda r: r["seconds"])
    rows, mb = best["rows"], best["bytes"] / 1e6
    assert rows == args.rows, best
    print(f"| path | time | rows/s | MB/s (Arrow) |\n|---|---|---|---|")
    for name, secs in [
        ("ADBC over Flight SQL (loopback), into a pyarrow Table", best["seconds"]),
        ("in process: produce and aggregate the rows (floor)", floor),
        ("in process: `plinkdb query --format parquet -o FILE`", parquet),
    ]:
        print(f"| {name} | {secs:.2f} s | {rows / secs / 1e6:.2f} M | {mb / secs:.0f} |")
    print(f"\n{rows:,} rows, {mb:.0f} MB in Arrow memory; best of {args.runs} runs each.")


if __name__ == "__main__":
    main()
