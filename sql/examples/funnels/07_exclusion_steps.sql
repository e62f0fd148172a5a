-- Carts abandoned by leaving the live room: the live funnel with an exclusion step.
-- 'exclude:2-3' makes the last condition (live_leave) an exclusion event between step 2
-- (product_click) and step 3 (add_to_cart): a viewer who clicked a product and then left
-- the room before carting voids that chain; a later live_enter starts a new one.
-- Compared per platform with the plain funnel, the difference is the carts that only
-- happened after the viewer came back.
SELECT platform,
       count(*) FILTER (WHERE plain >= 3) AS carted,
       count(*) FILTER (WHERE in_one_stay >= 3) AS carted_without_leaving,
       count(*) FILTER (WHERE plain >= 3 AND in_one_stay < 3) AS carted_only_after_leaving
FROM (
    SELECT platform, account_id,
           window_funnel(INTERVAL '24 hours', event_ts,
                         event_type = 'live_enter',
                         event_type = 'product_click',
                         event_type = 'add_to_cart') AS plain,
           window_funnel(INTERVAL '24 hours', 'exclude:2-3', event_ts,
                         event_type = 'live_enter',
                         event_type = 'product_click',
                         event_type = 'add_to_cart',
                         event_type = 'live_leave') AS in_one_stay
    FROM events
    WHERE event_type IN ('live_enter', 'product_click', 'add_to_cart', 'live_leave')
    GROUP BY platform, account_id
)
GROUP BY platform
ORDER BY platform;
