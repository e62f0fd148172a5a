-- lurker: watched at least 3 lives in the 90 days before the base date and never
-- created an order before it.
SELECT person_id, 'true' AS value
FROM :source
WHERE dt < :base_date
GROUP BY person_id
HAVING count(*) FILTER (WHERE event_type = 'live_enter'
                         AND dt >= :base_date - INTERVAL '90 days') >= 3
   AND count(*) FILTER (WHERE event_type IN ('order_created', 'order_paid')) = 0
