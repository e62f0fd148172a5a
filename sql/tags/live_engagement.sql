-- live_engagement: live interactions (likes, comments, shares, gifts, follows) in the
-- 30 days before the base date, for everyone who watched a live then: `none` without
-- any, else `low` / `mid` / `high` split at the median and the 90th percentile of the
-- people who interacted.
WITH per_person AS (
    SELECT person_id,
           count(*) FILTER (WHERE event_type IN
               ('live_like', 'live_comment', 'live_share', 'live_gift', 'follow')) AS n
    FROM :source
    WHERE dt >= :base_date - INTERVAL '30 days' AND dt < :base_date
      AND event_type IN ('live_enter', 'live_like', 'live_comment', 'live_share',
                         'live_gift', 'follow')
    GROUP BY person_id
),
bounds AS (
    SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY n) AS p50,
           percentile_cont(0.9) WITHIN GROUP (ORDER BY n) AS p90
    FROM per_person
    WHERE n > 0
)
SELECT person_id,
       CASE WHEN n = 0 THEN 'none'
            ELSE ['low', 'mid', 'high'][value_band(n, p50, p90) + 1] END AS value
FROM per_person CROSS JOIN bounds
