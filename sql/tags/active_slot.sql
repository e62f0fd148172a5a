-- active_slot: the Beijing time slot (time_slot) in which a person most often starts
-- watching a live in the 30 days before the base date, from at least 2 sessions.
SELECT person_id, most_frequent(time_slot(event_ts)) AS value
FROM :source
WHERE dt >= :base_date - INTERVAL '30 days' AND dt < :base_date
  AND event_type = 'live_enter'
GROUP BY person_id
HAVING count(*) >= 2
