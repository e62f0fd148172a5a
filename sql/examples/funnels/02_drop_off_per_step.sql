-- Where viewers drop off: for each step, how many accounts reached it, how many went on
-- to the next step and the share lost, across all platforms. strict_deduplication stops
-- a chain at a repeated step (e.g. a second click before carting does not count twice).
WITH depth AS (
    SELECT window_funnel(INTERVAL '24 hours', 'strict_deduplication', event_ts,
                         event_type = 'live_enter',
                         event_type = 'product_click',
                         event_type = 'add_to_cart',
                         event_type = 'order_paid') AS step
    FROM events
    WHERE event_type IN ('live_enter', 'product_click', 'add_to_cart', 'order_paid')
    GROUP BY platform, account_id
),
steps AS (
    SELECT * FROM (VALUES (1, 'live_enter'), (2, 'product_click'), (3, 'add_to_cart'),
                          (4, 'order_paid')) AS s(step_no, step_name)
),
reached AS (
    SELECT s.step_no, s.step_name, count(d.step) AS accounts
    FROM steps s LEFT JOIN depth d ON d.step >= s.step_no
    GROUP BY s.step_no, s.step_name
)
SELECT r.step_no, r.step_name, r.accounts,
       n.accounts AS next_step_accounts,
       round(100.0 * (r.accounts - n.accounts) / nullif(r.accounts, 0), 2) AS drop_off_pct
FROM reached r LEFT JOIN reached n ON n.step_no = r.step_no + 1
ORDER BY r.step_no;
