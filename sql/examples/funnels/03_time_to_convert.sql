-- Median and p90 minutes from entering a live room to each later step, per platform,
-- from the timestamps of the winning chain (funnel_step_times).
WITH chains AS (
    SELECT platform, account_id,
           funnel_step_times(INTERVAL '24 hours', event_ts,
                             event_type = 'live_enter',
                             event_type = 'product_click',
                             event_type = 'add_to_cart',
                             event_type = 'order_paid') AS t
    FROM events
    WHERE event_type IN ('live_enter', 'product_click', 'add_to_cart', 'order_paid')
    GROUP BY platform, account_id
),
minutes AS (
    SELECT platform,
           CASE WHEN cardinality(t) >= 2
                THEN (to_unixtime(t[2]) - to_unixtime(t[1])) / 60.0 END AS to_click,
           CASE WHEN cardinality(t) >= 4
                THEN (to_unixtime(t[4]) - to_unixtime(t[1])) / 60.0 END AS to_paid
    FROM chains
)
SELECT platform,
       count(to_paid) AS converted,
       round(median(to_click), 1) AS median_min_to_click,
       round(approx_percentile_cont(to_click, 0.9), 1) AS p90_min_to_click,
       round(median(to_paid), 1) AS median_min_to_paid,
       round(approx_percentile_cont(to_paid, 0.9), 1) AS p90_min_to_paid
FROM minutes
GROUP BY platform
ORDER BY platform;
