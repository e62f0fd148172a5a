-- The brand's own systems: outbound touches and negative feedback -> unified events.
--
-- A touch row gives up to three events (sent, opened, clicked); feedback rows are
-- `unsubscribe`, `block` or `report` on a channel. Times are already UTC timestamps.
-- The touches partition is the send date: opened/clicked events compute their own
-- Beijing date (so a filter on dt prunes only the `touch_sent` branch).

CREATE VIEW firstparty_events AS
SELECT
    platform || ':touches:' || touch_id || ':sent' AS event_id,
    platform,
    'touch_sent' AS event_type,
    sent_at AS event_ts,
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
FROM (
    SELECT
        dt,
        touch_id,
        max(channel) AS channel,
        max(platform) AS platform,
        max(account_scope) AS account_scope,
        max(account_id) AS account_id,
        max(union_id) AS union_id,
        max(sent_at) AS sent_at,
        max(opened_at) AS opened_at,
        max(clicked_at) AS clicked_at
    FROM touches
    GROUP BY dt, touch_id
)

UNION ALL

SELECT
    platform || ':touches:' || touch_id || ':opened',
    platform,
    'touch_opened',
    opened_at,
    CAST(opened_at + INTERVAL '8 hours' AS DATE),
    account_id,
    account_scope,
    union_id,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    channel
FROM (
    SELECT
        dt,
        touch_id,
        max(channel) AS channel,
        max(platform) AS platform,
        max(account_scope) AS account_scope,
        max(account_id) AS account_id,
        max(union_id) AS union_id,
        max(sent_at) AS sent_at,
        max(opened_at) AS opened_at,
        max(clicked_at) AS clicked_at
    FROM touches
    GROUP BY dt, touch_id
)
WHERE opened_at IS NOT NULL

UNION ALL

SELECT
    platform || ':touches:' || touch_id || ':clicked',
    platform,
    'touch_clicked',
    clicked_at,
    CAST(clicked_at + INTERVAL '8 hours' AS DATE),
    account_id,
    account_scope,
    union_id,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    channel
FROM (
    SELECT
        dt,
        touch_id,
        max(channel) AS channel,
        max(platform) AS platform,
        max(account_scope) AS account_scope,
        max(account_id) AS account_id,
        max(union_id) AS union_id,
        max(sent_at) AS sent_at,
        max(opened_at) AS opened_at,
        max(clicked_at) AS clicked_at
    FROM touches
    GROUP BY dt, touch_id
)
WHERE clicked_at IS NOT NULL

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
FROM (
    SELECT
        dt,
        feedback_id,
        max(kind) AS kind,
        max(channel) AS channel,
        max(platform) AS platform,
        max(account_scope) AS account_scope,
        max(account_id) AS account_id,
        max(ts) AS ts
    FROM feedback
    GROUP BY dt, feedback_id
)
WHERE kind IN ('unsubscribe', 'block', 'report');
