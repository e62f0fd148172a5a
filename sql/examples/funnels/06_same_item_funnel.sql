-- "Hold a property constant": product_click -> add_to_cart -> order_paid on the SAME item
-- within 24 hours. Neither ClickHouse nor PostHog has this as an option; in plinkdb it is
-- plain SQL: run the funnel per (account, item) and keep each account's best item. Rows
-- without an item (NULL item_id) cannot take part in a same-item chain.
WITH per_item AS (
    SELECT platform, account_id, item_id,
           window_funnel(INTERVAL '24 hours', event_ts,
                         event_type = 'product_click',
                         event_type = 'add_to_cart',
                         event_type = 'order_paid') AS step
    FROM events
    WHERE event_type IN ('product_click', 'add_to_cart', 'order_paid')
      AND item_id IS NOT NULL
    GROUP BY platform, account_id, item_id
),
per_account AS (
    SELECT platform, account_id, max(step) AS same_item_step
    FROM per_item GROUP BY platform, account_id
),
any_item AS (
    SELECT platform, account_id,
           window_funnel(INTERVAL '24 hours', event_ts,
                         event_type = 'product_click',
                         event_type = 'add_to_cart',
                         event_type = 'order_paid') AS any_item_step
    FROM events
    WHERE event_type IN ('product_click', 'add_to_cart', 'order_paid')
      AND item_id IS NOT NULL
    GROUP BY platform, account_id
)
SELECT a.platform,
       count(*) FILTER (WHERE a.any_item_step >= 3) AS paid_any_item,
       count(*) FILTER (WHERE p.same_item_step >= 3) AS paid_same_item
FROM any_item a JOIN per_account p USING (platform, account_id)
GROUP BY a.platform
ORDER BY a.platform;
