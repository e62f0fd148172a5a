-- job: tag_values
-- description: the tag catalog (sql/tags) per person for the base date, from data strictly before it
-- schedule: 30 2 * * *
-- depends: identity_map
-- output: tag_values
-- format: parquet
-- partition_by: base_date

-- `people_events` (events + person_id through the identity_map snapshot in force on the
-- base date) is set up by the job runner.

SELECT person_id, tag, value
FROM derive_tags('people_events', :base_date)
