-- Day-1 / day-7 / day-30 retention of live viewers: the cohort is the (Beijing) day of
-- an account's first live_enter; retention(c0, c1, c7, c30) gives [c0, c0 AND c1, ...]
-- per account, so summing the elements gives cohort size and retained counts.
WITH first_day AS (
    SELECT platform, account_id, min(dt) AS cohort_day
    FROM events WHERE event_type = 'live_enter'
    GROUP BY platform, account_id
),
per_account AS (
    SELECT f.platform, f.cohort_day,
           retention(e.dt = f.cohort_day,
                     e.dt = f.cohort_day + INTERVAL '1 day',
                     e.dt = f.cohort_day + INTERVAL '7 days',
                     e.dt = f.cohort_day + INTERVAL '30 days') AS r
    FROM first_day f
    JOIN events e ON e.platform = f.platform AND e.account_id = f.account_id
    WHERE e.event_type = 'live_enter'
    GROUP BY f.platform, f.account_id, f.cohort_day
)
SELECT platform,
       sum(r[1]) AS viewers,
       sum(r[2]) AS day1,
       sum(r[3]) AS day7,
       sum(r[4]) AS day30,
       round(100.0 * sum(r[2]) / sum(r[1]), 2) AS day1_pct,
       round(100.0 * sum(r[3]) / sum(r[1]), 2) AS day7_pct
FROM per_account
GROUP BY platform
ORDER BY platform;
