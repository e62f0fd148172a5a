-- Live-commerce funnel per platform: live_enter -> product_click -> add_to_cart ->
-- order_paid within 24 hours of entering the room, per platform account.
-- window_funnel returns the deepest step each account reached; counting accounts with
-- depth >= k gives the (cumulative) number that reached step k. Douyin shop orders carry
-- the buyer under another account id than live events, so per-account Douyin funnels stop
-- at add_to_cart until orders are resolved to persons (see 05 for a cross-account key).
WITH depth AS (
    SELECT platform, account_id,
           window_funnel(INTERVAL '24 hours', event_ts,
                         event_type = 'live_enter',
                         event_type = 'product_click',
                         event_type = 'add_to_cart',
                         event_type = 'order_paid') AS step
    FROM events
    WHERE event_type IN ('live_enter', 'product_click', 'add_to_cart', 'order_paid')
    GROUP BY platform, account_id
)
SELECT platform,
       count(*) FILTER (WHERE step >= 1) AS entered,
       count(*) FILTER (WHERE step >= 2) AS clicked,
       count(*) FILTER (WHERE step >= 3) AS carted,
       count(*) FILTER (WHERE step >= 4) AS paid,
       round(100.0 * count(*) FILTER (WHERE step >= 4)
             / nullif(count(*) FILTER (WHERE step >= 1), 0), 2) AS enter_to_paid_pct
FROM depth
GROUP BY platform
ORDER BY platform;
