-- last_active_platform: the platform of a person's latest own activity (lives and
-- orders, not the brand's touches) before the base date.
SELECT person_id, last_value(platform ORDER BY event_ts, platform) AS value
FROM :source
WHERE dt < :base_date
  AND event_type NOT IN ('touch_sent', 'touch_opened', 'touch_clicked',
                         'unsubscribe', 'block', 'report')
GROUP BY person_id
