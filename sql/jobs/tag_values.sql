-- job: tag_values
-- description: the tag catalog (sql/tags) per person for the base date, from data strictly before it
-- schedule: 30 2 * * *
-- depends: identity_map
-- output: tag_values
-- format: parquet
-- partition_by: base_date

-- `people_events` = events + person_id through the identity_map snapshot of this base
-- date (the latest one at or before it), as sql/identity/people_events.sql does with a
-- freshly resolved map.
CREATE OR REPLACE VIEW people_events AS
SELECT e.*, m.person_id
FROM events e
JOIN identity_map m USING (platform, account_scope, account_id)
WHERE m.base_date = (SELECT max(base_date) FROM identity_map WHERE base_date <= :base_date);

SELECT person_id, tag, value
FROM derive_tags('people_events', :base_date)
