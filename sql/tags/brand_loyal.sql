-- brand_loyal: the brand a person keeps coming back to: at least 70% of their product
-- clicks, carts and orders in the 365 days before the base date (at least 5) are one
-- brand; the value is that brand.
WITH per_brand AS (
    SELECT person_id, brand, count(*) AS n
    FROM :source
    WHERE dt >= :base_date - INTERVAL '365 days' AND dt < :base_date
      AND event_type IN ('product_click', 'add_to_cart', 'order_created')
      AND brand IS NOT NULL
    GROUP BY person_id, brand
),
ranked AS (
    SELECT person_id, brand, n,
           sum(n) OVER (PARTITION BY person_id) AS total,
           row_number() OVER (PARTITION BY person_id ORDER BY n DESC, brand) AS rank
    FROM per_brand
)
SELECT person_id, brand AS value
FROM ranked
WHERE rank = 1 AND total >= 5 AND n >= 0.7 * total
