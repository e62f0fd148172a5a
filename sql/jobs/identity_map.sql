-- job: identity_map
-- description: one person per platform account, from the events strictly before base_date; person ids carry over from the previous snapshot
-- schedule: 0 2 * * *
-- depends: events_daily
-- output: identity_map
-- format: parquet
-- partition_by: base_date

-- The very first run has no earlier snapshot to carry ids over from: an empty table with
-- the snapshot's columns stands in (once published, the output is registered under this
-- name and IF NOT EXISTS leaves it alone).
CREATE TABLE IF NOT EXISTS identity_map (
    platform VARCHAR,
    account_scope VARCHAR,
    account_id VARCHAR,
    person_id VARCHAR,
    first_seen TIMESTAMP,
    last_seen TIMESTAMP,
    base_date DATE
);

-- The history is the materialised days (events_daily), a plain scan: backfill them first
-- (`plinkdb jobs run events_daily --from D1 --to D2`), then run daily.
CREATE VIEW events_before AS SELECT * FROM events_daily WHERE dt < :base_date;

-- The latest snapshot strictly before this date, so that re-running a date gives the same
-- ids as its first run.
CREATE VIEW previous_map AS
SELECT platform, account_scope, account_id, person_id, first_seen
FROM identity_map
WHERE base_date = (SELECT max(base_date) FROM identity_map WHERE base_date < :base_date);

SELECT * FROM resolve_identities('events_before', 'previous_map')
