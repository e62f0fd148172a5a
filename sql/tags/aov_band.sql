-- aov_band: average paid order value in the 180 days before the base date, `low` /
-- `mid` / `high` split at the buyers' 33rd and 67th percentiles.
WITH per_person AS (
    SELECT person_id, avg(amount_fen) AS aov
    FROM :source
    WHERE dt >= :base_date - INTERVAL '180 days' AND dt < :base_date
      AND event_type = 'order_paid'
    GROUP BY person_id
),
bounds AS (
    SELECT percentile_cont(1.0 / 3) WITHIN GROUP (ORDER BY aov) AS p33,
           percentile_cont(2.0 / 3) WITHIN GROUP (ORDER BY aov) AS p67
    FROM per_person
)
SELECT person_id, ['low', 'mid', 'high'][value_band(aov, p33, p67) + 1] AS value
FROM per_person CROSS JOIN bounds
