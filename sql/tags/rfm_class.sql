-- rfm_class: RFM over paid orders in the 365 days before the base date. Recency is
-- high when the days since the last paid order are at most the buyers' average,
-- frequency and monetary value when at least the average (rfm_segment names the class).
WITH per_person AS (
    SELECT person_id,
           :base_date - max(dt) AS days_since,
           count(DISTINCT order_id) AS orders,
           sum(amount_fen) AS spent_fen
    FROM :source
    WHERE dt >= :base_date - INTERVAL '365 days' AND dt < :base_date
      AND event_type = 'order_paid'
    GROUP BY person_id
)
SELECT person_id,
       rfm_segment(days_since <= avg(days_since) OVER (),
                   orders >= avg(orders) OVER (),
                   spent_fen >= avg(spent_fen) OVER ()) AS value
FROM per_person
