-- The brand's own systems: outbound touches and negative feedback -> unified events.
--
-- A touch row gives up to three events (sent, opened, clicked); feedback rows are
-- `unsubscribe`, `block` or `report` on a channel. Times are already UTC timestamps.
-- The touches partition is the send date: opened/clicked events compute their own
-- Beijing date (so a filter on dt prunes only the `touch_sent` branch).

CREATE VIEW firstparty_events AS
WITH touches_once AS (SELECT DISTINCT ON (dt, touch_id) * FROM touches)
SELECT
    platform || ':touches:' || touch_id || ':sent' AS event_id,
    platform,
    'touch_sent' AS event_type,
    CAST(sent_at AS TIMESTAMP(3) WITH TIME ZONE) AS event_ts,
    dt,
    account_id,
    account_scope,
    union_id,
    CAST(NULL AS VARCHAR) AS phone_key,
    CAST(NULL AS VARCHAR) AS device_id,
    CAST(NULL AS VARCHAR) AS room_id,
    CAST(NULL AS VARCHAR) AS item_id,
    CAST(NULL AS VARCHAR) AS category,
    CAST(NULL AS VARCHAR) AS brand,
    CAST(NULL AS VARCHAR) AS order_id,
    CAST(NULL AS BIGINT) AS amount_fen,
    CAST(NULL AS BIGINT) AS discount_fen,
    CAST(NULL AS BIGINT) AS watch_ms,
    CAST(NULL AS VARCHAR) AS province,
    channel
FROM touches_once

UNION ALL

SELECT
    platform || ':touches:' || touch_id || ':' || kind,
    platform,
    'touch_' || kind,
    ts,
    CAST(ts + INTERVAL '8 hours' AS DATE),
    account_id,
    account_scope,
    union_id,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    channel
FROM (
    SELECT *, 'opened' AS kind, opened_at AS ts FROM touches_once WHERE opened_at IS NOT NULL
    UNION ALL
    SELECT *, 'clicked' AS kind, clicked_at AS ts FROM touches_once WHERE clicked_at IS NOT NULL
)

UNION ALL

SELECT
    platform || ':feedback:' || feedback_id,
    platform,
    kind,
    ts,
    dt,
    account_id,
    account_scope,
    CAST(NULL AS VARCHAR),
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    channel
FROM (SELECT DISTINCT ON (dt, feedback_id) * FROM feedback)
WHERE kind IN ('unsubscribe', 'block', 'report');
