-- cart_abandoned: platforms where a person added to cart (or created an order) in the
-- 24 hours before the base date (the last Beijing day) and paid no order afterwards,
-- on any platform, before the base date.
WITH carts AS (
    SELECT person_id, platform, event_ts
    FROM :source
    WHERE dt = :base_date - INTERVAL '1 day'
      AND event_type IN ('add_to_cart', 'order_created')
),
paid AS (
    SELECT person_id, max(event_ts) AS last_paid
    FROM :source
    WHERE dt >= :base_date - INTERVAL '1 day' AND dt < :base_date
      AND event_type = 'order_paid'
    GROUP BY person_id
)
SELECT DISTINCT c.person_id, c.platform AS value
FROM carts c LEFT JOIN paid p ON p.person_id = c.person_id
WHERE p.last_paid IS NULL OR p.last_paid < c.event_ts
