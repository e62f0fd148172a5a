-- churned_on: platforms a person has left: active there on at least 3 days, silent
-- there for at least 14 days (and for 3 times their usual gap between active days),
-- while active on another platform in the last 14 days before the base date.
WITH days AS (
    SELECT DISTINCT person_id, platform, dt
    FROM :source
    WHERE dt < :base_date
      AND event_type NOT IN ('touch_sent', 'touch_opened', 'touch_clicked',
                             'unsubscribe', 'block', 'report')
),
per_platform AS (
    SELECT person_id, platform, count(*) AS active_days,
           min(dt) AS first_day, max(dt) AS last_day
    FROM days
    GROUP BY person_id, platform
)
SELECT p.person_id, p.platform AS value
FROM per_platform p
WHERE p.active_days >= 3
  AND :base_date - p.last_day >= 14
  -- silence >= 3 x the mean gap (last - first) / (active_days - 1), without dividing
  AND (:base_date - p.last_day) * (p.active_days - 1) >= 3 * (p.last_day - p.first_day)
  AND EXISTS (
      SELECT 1 FROM per_platform o
      WHERE o.person_id = p.person_id AND o.platform <> p.platform
        AND o.last_day >= :base_date - INTERVAL '14 days')
