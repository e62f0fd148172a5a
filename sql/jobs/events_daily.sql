-- job: events_daily
-- description: the unified events of one day, materialised as Parquet partitioned by dt
-- schedule: 0 1 * * *
-- scheduled_for: yesterday
-- output: events_daily
-- format: parquet
-- partition_by: dt

-- A scheduled run at 01:00 materialises the day that just ended; `plinkdb jobs run
-- events_daily --date D` (or --from/--to) materialises dt = D.
SELECT * FROM events WHERE dt = :base_date
