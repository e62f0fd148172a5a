-- region: the province of the person's most recent order (receiver province), all
-- history before the base date (Sensors' "last feature").
SELECT person_id, last_value(province ORDER BY event_ts, province) AS value
FROM :source
WHERE dt < :base_date
  AND event_type IN ('order_created', 'order_paid')
  AND province IS NOT NULL
GROUP BY person_id
