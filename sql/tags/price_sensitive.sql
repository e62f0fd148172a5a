-- price_sensitive: a person's orders in the 180 days before the base date were nearly
-- all discounted (at least 80% of them, from at least one order). Tuned on generated
-- data: a single discounted order is right 6 times in 10, two of two 8 in 10.
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
WHERE orders >= 1 AND discounted >= 0.8 * orders
