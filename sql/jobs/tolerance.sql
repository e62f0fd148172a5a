-- job: tolerance
-- description: contact policy per person and channel: tolerance, weekly cap, hard stop, send window
-- schedule: 0 3 * * *
-- depends: identity_map
-- output: tolerance
-- format: parquet
-- partition_by: base_date

-- `people_events` (events + person_id through the identity_map snapshot in force on the
-- base date) is set up by the job runner. The model's parameters are `[tolerance]` in
-- plinkdb.toml; see `contact_policy` in README.md.

SELECT * FROM contact_policy('people_events', :base_date)
