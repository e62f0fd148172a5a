-- Events per person, without recomputing the identity graph on every query.
--
-- `identity_map` materialises `resolve_identities('events')` once (a job runs this file
-- after new data lands); `people_events` is `events` plus `person_id`. To keep person ids
-- across runs, persist the map and pass it back in:
--   COPY (SELECT * FROM resolve_identities('events', 'identity_map_previous'))
--     TO 'identity_map.parquet' STORED AS PARQUET;

CREATE TABLE identity_map AS SELECT * FROM resolve_identities('events');

CREATE VIEW people_events AS
SELECT e.*, m.person_id
FROM events e
JOIN identity_map m USING (platform, account_scope, account_id);
