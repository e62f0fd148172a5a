-- price_sensitive: most of a person's orders in the 180 days before the base date were
-- discounted (at least 70% of at least 2 orders).
SELECT person_id, 'true' AS value
FROM (
    SELECT person_id,
           count(DISTINCT order_id) AS orders,
           count(DISTINCT order_id) FILTER (WHERE discount_fen > 0) AS discounted
    FROM :source
    WHERE dt >= :base_date - INTERVAL '180 days' AND dt < :base_date
      AND event_type IN ('order_created', 'order_paid')
    GROUP BY person_id
)
WHERE orders >= 2 AND discounted >= 0.7 * orders
