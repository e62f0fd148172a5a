-- top_category: the category a person clicks most in the 90 days before the base date
-- (ties: the smallest name), from at least 2 product clicks.
SELECT person_id, most_frequent(category) AS value
FROM :source
WHERE dt >= :base_date - INTERVAL '90 days' AND dt < :base_date
  AND event_type = 'product_click'
  AND category IS NOT NULL
GROUP BY person_id
HAVING count(*) >= 2
