-- platform_mix: the platforms a person was active on (lives and orders, not the
-- brand's touches) in the 90 days before the base date, sorted, joined by '+'.
SELECT person_id,
       array_to_string(array_sort(array_agg(DISTINCT platform)), '+') AS value
FROM :source
WHERE dt >= :base_date - INTERVAL '90 days' AND dt < :base_date
  AND event_type NOT IN ('touch_sent', 'touch_opened', 'touch_clicked',
                         'unsubscribe', 'block', 'report')
GROUP BY person_id
