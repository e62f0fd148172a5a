-- job: tolerance
-- description: contact policy per person and channel: tolerance, weekly cap, hard stop, send window
-- schedule: 0 3 * * *
-- depends: identity_map
-- output: tolerance
-- format: parquet
-- partition_by: base_date

-- `people_events` = events + person_id through the identity_map snapshot of this base
-- date (the latest one at or before it), as in the tag_values job. The model's parameters
-- are `[tolerance]` in plinkdb.toml; see `contact_policy` in README.md.
CREATE OR REPLACE VIEW people_events AS
SELECT e.*, m.person_id
FROM events e
JOIN identity_map m USING (platform, account_scope, account_id)
WHERE m.base_date = (SELECT max(base_date) FROM identity_map WHERE base_date <= :base_date);

SELECT * FROM contact_policy('people_events', :base_date)
