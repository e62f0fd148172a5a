"""Real Flight SQL clients against a running `plinkdb serve` (tests/integration/flight_sql.rs).

    flight_clients.py check EXPECTED.json   # ADBC + flightsql-dbapi checks, asserts on results
    flight_clients.py load CLIENTS SECONDS  # concurrent ADBC clients running mixed queries
    flight_clients.py bench SQL             # rows/s and MB/s of one large result
    flight_clients.py cert DIR              # a self-signed server.pem/server.key for 127.0.0.1
    flight_clients.py tls DIR               # ADBC over TLS with DIR/server.pem as the root

Environment: FLIGHT_URI (grpc://127.0.0.1:PORT), FLIGHT_USER, FLIGHT_PASSWORD.
Prints one JSON object on stdout; exits non-zero with the failing check on stderr.
"""

import json
import os
import sys
import threading
import time
import traceback

import adbc_driver_flightsql.dbapi as fsql
import pyarrow as pa
import pyarrow.flight as flight
from adbc_driver_flightsql import DatabaseOptions

URI = os.environ["FLIGHT_URI"]
USER = os.environ["FLIGHT_USER"]
PASSWORD = os.environ["FLIGHT_PASSWORD"]
HOST, PORT = URI.split("://", 1)[1].rsplit(":", 1)


def connect(**db_kwargs):
    return fsql.connect(URI, db_kwargs=db_kwargs, autocommit=True)


def login(user=USER, password=PASSWORD):
    return connect(username=user, password=password)


def query(conn, sql, params=None):
    with conn.cursor() as cur:
        if params is None:
            cur.execute(sql)
        else:
            cur.execute(sql, params)
        return cur.fetch_arrow_table()


def error_of(fn):
    """The message of the exception `fn` raises; fails when it raises none."""
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - any client error type is fine, we check the text
        return f"{type(e).__name__}: {e}"
    raise AssertionError("expected an error, got none")


def assert_in(needles, text):
    for needle in needles:
        assert needle in text, f"{needle!r} not in {text!r}"


def check(expected_path):
    with open(expected_path) as f:
        expected = json.load(f)
    passed = []

    # Login: good password, then a wrong one.
    conn = login()
    assert query(conn, "SELECT 1 AS x").to_pylist() == [{"x": 1}]
    passed.append("login")
    msg = error_of(lambda: query(login(password="wrong"), "SELECT 1"))
    assert_in(["wrong user name or password"], msg)
    assert "INTERNAL" not in msg.upper().replace("INTERNAL ERROR", ""), msg
    passed.append("bad password rejected")
    msg = error_of(lambda: query(connect(), "SELECT 1"))
    assert_in(["authorization"], msg)
    passed.append("no credentials rejected")

    # A bearer token from a Basic handshake (pyarrow's Flight client), then ADBC with only
    # the `authorization: Bearer` header.
    client = flight.FlightClient(URI)
    key, value = client.authenticate_basic_token(USER, PASSWORD)
    assert key == b"authorization" and value.startswith(b"Bearer "), (key, value)
    with connect(**{DatabaseOptions.AUTHORIZATION_HEADER.value: value.decode()}) as bearer:
        assert query(bearer, "SELECT 2 AS y").to_pylist() == [{"y": 2}]
    msg = error_of(
        lambda: query(connect(**{DatabaseOptions.AUTHORIZATION_HEADER.value: "Bearer forged"}), "SELECT 1")
    )
    assert_in(["unknown token"], msg)
    passed.append("bearer header login")

    # Queries over the sample, plinkdb functions and $1 parameters: the same rows as the
    # engine in process.
    for q in expected["queries"]:
        params = tuple(q["params"]) if q["params"] is not None else None
        got = query(conn, q["sql"], params).to_pylist()
        assert got == q["rows"], f"{q['name']}: {got} != {q['rows']}"
        passed.append(f"query {q['name']}")

    # Metadata.
    objects = conn.adbc_get_objects(depth="all").read_all().to_pylist()
    tables = {
        (s["db_schema_name"], t["table_name"]): [c["column_name"] for c in (t["table_columns"] or [])]
        for c in objects
        for s in c["catalog_db_schemas"] or []
        for t in s["db_schema_tables"] or []
    }
    want = {tuple(t) for t in expected["tables"]}
    assert set(tables) == want, f"missing {want - set(tables)}, extra {set(tables) - want}"
    assert tables[("public", "events")] == expected["events_columns"], tables[("public", "events")]
    passed.append(f"adbc_get_objects lists all {len(want)} tables with columns")
    schema = conn.adbc_get_table_schema("events")
    assert schema.names == expected["events_columns"], schema.names
    assert schema.field("event_ts").type == pa.timestamp("ms", tz="UTC"), schema.field("event_ts").type
    assert schema.field("platform").type == pa.string(), schema.field("platform").type
    passed.append("adbc_get_table_schema")
    types = conn.adbc_get_table_types()
    assert "TABLE" in types and "VIEW" in types, types
    passed.append("adbc_get_table_types")
    info = conn.adbc_get_info()
    assert info["vendor_name"] == "plinkdb", info
    assert info["vendor_version"] == expected["version"], info
    assert info["vendor_arrow_version"] == "1.3", info
    passed.append("adbc_get_info")

    # Read-only: DDL, DML, COPY and SET are refused with PERMISSION_DENIED, nothing created.
    for sql in [
        "CREATE TABLE evil AS SELECT 1 AS x",
        "CREATE VIEW evil AS SELECT 1 AS x",
        "DROP VIEW events",
        "INSERT INTO touches SELECT * FROM touches",
        "COPY (SELECT 1) TO '/tmp/plinkdb-flight-evil.csv'",
        "SET datafusion.execution.batch_size = 1",
    ]:
        msg = error_of(lambda: query(conn, sql))
        assert_in(["read-only"], msg)
        assert "Unauthorized" in msg or "PERMISSION" in msg.upper() or "permission" in msg, msg
    assert query(conn, "SELECT count(*) AS n FROM information_schema.tables WHERE table_name = 'evil'").to_pylist() == [{"n": 0}]
    assert not os.path.exists("/tmp/plinkdb-flight-evil.csv")
    msg = error_of(lambda: query(conn, "SELECT * FROM '/etc/passwd'"))
    assert "passwd" in msg and "root:" not in msg, msg
    passed.append("writes, SET and file paths refused")

    # Client mistakes are INVALID_ARGUMENT with DataFusion's message, no Debug dump.
    msg = error_of(lambda: query(conn, "SELECT nope FROM events"))
    assert_in(["nope"], msg)
    assert "InvalidArgument" in msg or "INVALID_ARGUMENT" in msg or "invalid" in msg.lower(), msg
    assert "Plan(" not in msg and "SchemaError(" not in msg, msg
    passed.append("bad SQL is INVALID_ARGUMENT")

    # Limits: a result past max_result_rows, a query past the time limit.
    msg = error_of(lambda: query(conn, "SELECT * FROM generate_series(1, 5000000)"))
    assert_in(["max_result_rows"], msg)
    passed.append("row cap stops a large result")
    msg = error_of(lambda: query(conn, "SELECT cardinality(array_agg(value)) FROM generate_series(1, 100000000)"))
    assert_in(["Resources exhausted", "query_memory_limit"], msg)
    passed.append("memory limit stops a large aggregate")
    started = time.time()
    msg = error_of(lambda: query(conn, "SELECT count(*) FROM generate_series(1, 1000000000000)"))
    assert_in(["query_timeout_secs"], msg)
    assert time.time() - started < expected["timeout_secs"] + 20, time.time() - started
    passed.append("time limit stops a long query")
    # The server is still fine afterwards.
    assert query(conn, "SELECT 3 AS z").to_pylist() == [{"z": 3}]
    conn.close()

    passed.extend(check_flightsql_dbapi(expected))
    print(json.dumps({"passed": passed}))


def check_flightsql_dbapi(expected):
    """Superset's client: flightsql-dbapi's DB-API and its SQLAlchemy dialect."""
    import flightsql
    from sqlalchemy import create_engine, inspect, text

    passed = []
    client = flightsql.FlightSQLClient(host=HOST, port=int(PORT), user=USER, password=PASSWORD, insecure=True)
    conn = flightsql.connect(client)
    cur = conn.cursor()
    q = expected["queries"][0]
    cur.execute(q["sql"])
    rows = [dict(zip([d[0] for d in cur.description], r)) for r in cur.fetchall()]
    assert rows == q["rows"], rows
    # GetSqlInfo with no ids: every id of the spec (JDBC before 19 needs all of them).
    info = client.get_sql_info([])
    ids = client.do_get(info.endpoints[0].ticket).read_all().column("info_name").to_pylist()
    assert len(ids) == 90 and 0 in ids and 504 in ids and 576 in ids, ids
    types = client.do_get(client.get_xdbc_type_info(None).endpoints[0].ticket).read_all()
    assert "VARCHAR" in types.column("type_name").to_pylist(), types
    conn.close()
    passed.append("flightsql-dbapi query, GetSqlInfo (all 90 ids), GetXdbcTypeInfo")

    engine = create_engine(f"datafusion://{USER}:{PASSWORD}@{HOST}:{PORT}?insecure=True")
    with engine.connect() as c:
        result = c.execute(text(q["sql"]))
        got = [dict(zip(result.keys(), r)) for r in result.fetchall()]
        assert got == q["rows"], got
    inspector = inspect(engine)
    names = set(inspector.get_table_names(schema="public"))
    want = {t for s, t in expected["tables"] if s == "public"}
    assert names == want, (names ^ want)
    columns = [c["name"] for c in inspector.get_columns("events", schema="public")]
    assert columns == expected["events_columns"], columns
    passed.append("flightsql-dbapi SQLAlchemy dialect (Superset): query, tables, columns")
    return passed


LOAD_QUERIES = [
    ("SELECT platform, count(*) AS n FROM events GROUP BY platform ORDER BY platform", None),
    ("SELECT event_type, count(*) AS n FROM events WHERE platform = $1 GROUP BY 1", ("douyin",)),
    (
        "SELECT window_funnel(INTERVAL '1 hour', event_ts, event_type = 'live_enter', "
        "event_type = 'product_click', event_type = 'order_paid') AS level, count(*) AS accounts "
        "FROM events GROUP BY account_id",
        None,
    ),
    ("SELECT * FROM events ORDER BY event_id LIMIT 2000", None),
    ("SELECT count(*) AS n FROM members WHERE phone_key = phone_key($1)", ("13800138000",)),
]


def load(clients, seconds):
    stop = time.time() + seconds
    counts = [0] * clients
    errors = []
    lock = threading.Lock()

    def worker(i):
        try:
            conn = login()
        except Exception as e:  # noqa: BLE001
            with lock:
                errors.append(f"client {i} login: {e}")
            return
        j = i
        while time.time() < stop:
            sql, params = LOAD_QUERIES[j % len(LOAD_QUERIES)]
            j += 1
            try:
                if j % 7 == 0:
                    conn.adbc_get_objects(depth="tables").read_all()
                else:
                    t = query(conn, sql, params)
                    assert t.num_rows > 0, sql
                counts[i] += 1
            except Exception as e:  # noqa: BLE001
                with lock:
                    errors.append(f"client {i}: {e}")
        conn.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps({"clients": clients, "seconds": seconds, "queries": sum(counts), "errors": errors[:20], "error_count": len(errors)}))


def cert(directory):
    """A self-signed certificate for 127.0.0.1 (cryptography comes with moto)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    with open(os.path.join(directory, "server.pem"), "wb") as f:
        f.write(certificate.public_bytes(serialization.Encoding.PEM))
    with open(os.path.join(directory, "server.key"), "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    print(json.dumps({"cert": "server.pem"}))


def tls(directory):
    with open(os.path.join(directory, "server.pem")) as f:
        root = f.read()
    assert URI.startswith("grpc+tls://"), URI
    with connect(username=USER, password=PASSWORD, **{DatabaseOptions.TLS_ROOT_CERTS.value: root}) as conn:
        assert query(conn, "SELECT count(*) > 0 AS ok FROM events").to_pylist() == [{"ok": True}]
    # Without trusting the certificate, or in plaintext, there is no connection.
    error_of(lambda: query(login(), "SELECT 1"))
    plain = URI.replace("grpc+tls://", "grpc://")
    error_of(lambda: query(fsql.connect(plain, db_kwargs={"username": USER, "password": PASSWORD}, autocommit=True), "SELECT 1"))
    print(json.dumps({"passed": ["tls query", "untrusted and plaintext clients refused"]}))


def bench(sql):
    conn = login()
    started = time.time()
    table = query(conn, sql)
    seconds = time.time() - started
    conn.close()
    print(json.dumps({"rows": table.num_rows, "bytes": table.nbytes, "seconds": seconds}))


if __name__ == "__main__":
    try:
        if sys.argv[1] == "check":
            check(sys.argv[2])
        elif sys.argv[1] == "load":
            load(int(sys.argv[2]), float(sys.argv[3]))
        elif sys.argv[1] == "bench":
            bench(sys.argv[2])
        elif sys.argv[1] == "cert":
            cert(sys.argv[2])
        elif sys.argv[1] == "tls":
            tls(sys.argv[2])
        else:
            raise SystemExit(f"unknown mode {sys.argv[1]}")
    except Exception:
        traceback.print_exc()
        sys.exit(1)
