-- job: tolerance
-- description: contact policy per person and channel: tolerance, weekly cap, hard stop, send window
-- schedule: 0 3 * * *
-- depends: identity_map
-- output: tolerance
-- format: parquet
-- partition_by: base_date

-- `people_events` is `events` plus `person_id` (sql/identity/people_events.sql). The
-- model's parameters are `[tolerance]` in plinkdb.toml; see `contact_policy` in README.md.
SELECT * FROM contact_policy('people_events', :base_date)
