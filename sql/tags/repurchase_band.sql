-- repurchase_band: paid orders in the 180 days before the base date: `1`, `2-3`,
-- `4-6` or `7+` (buyers only).
SELECT person_id,
       ['1', '2-3', '4-6', '7+'][value_band(count(DISTINCT order_id), 2, 4, 7) + 1] AS value
FROM :source
WHERE dt >= :base_date - INTERVAL '180 days' AND dt < :base_date
  AND event_type = 'order_paid'
GROUP BY person_id
