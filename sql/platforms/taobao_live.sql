-- Taobao Live: live-room interactions and trades -> unified events.
--
-- Units: times are `yyyy-MM-dd HH:mm:ss` strings in Beijing time without a zone
-- (from_beijing_time reads them as UTC+8); money is yuan as a decimal string
-- (yuan_to_fen converts exactly, never through floating point).

CREATE VIEW taobao_live_events AS
SELECT
    'taobao_live:live_event:' || event_id AS event_id,
    'taobao_live' AS platform,
    CASE action
        WHEN 'enter' THEN 'live_enter'
        WHEN 'leave' THEN 'live_leave'
        WHEN 'like' THEN 'live_like'
        WHEN 'comment' THEN 'live_comment'
        WHEN 'share' THEN 'live_share'
        WHEN 'follow' THEN 'follow'
        WHEN 'unfollow' THEN 'unfollow'
        WHEN 'item_click' THEN 'product_click'
        WHEN 'add_cart' THEN 'add_to_cart'
    END AS event_type,
    from_beijing_time(event_time) AS event_ts,
    dt,
    buyer_open_uid AS account_id,
    appkey AS account_scope,
    CAST(NULL AS VARCHAR) AS union_id,
    CAST(NULL AS VARCHAR) AS phone_key,
    utdid AS device_id,
    live_id AS room_id,
    CAST(num_iid AS VARCHAR) AS item_id,
    cat_name AS category,
    brand,
    CAST(NULL AS VARCHAR) AS order_id,
    CAST(NULL AS BIGINT) AS amount_fen,
    CAST(NULL AS BIGINT) AS discount_fen,
    stay_time * 1000 AS watch_ms,
    CAST(NULL AS VARCHAR) AS province,
    CAST(NULL AS VARCHAR) AS channel
FROM (
    SELECT
        dt,
        event_id,
        max(action) AS action,
        max(appkey) AS appkey,
        max(buyer_open_uid) AS buyer_open_uid,
        max(live_id) AS live_id,
        max(event_time) AS event_time,
        max(stay_time) AS stay_time,
        max(num_iid) AS num_iid,
        max(cat_name) AS cat_name,
        max(brand) AS brand,
        max(utdid) AS utdid
    FROM raw.taobao_live_live_event
    GROUP BY dt, event_id
)
WHERE action IN (
    'enter', 'leave', 'like', 'comment', 'share', 'follow', 'unfollow', 'item_click',
    'add_cart'
)

UNION ALL

SELECT
    'taobao_live:trade:' || tid || ':' || status,
    'taobao_live',
    CASE status
        WHEN 'WAIT_BUYER_PAY' THEN 'order_created'
        WHEN 'WAIT_SELLER_SEND_GOODS' THEN 'order_paid'
        WHEN 'TRADE_CLOSED' THEN 'order_refunded'
    END,
    from_beijing_time(CASE status
        WHEN 'WAIT_BUYER_PAY' THEN created
        WHEN 'WAIT_SELLER_SEND_GOODS' THEN pay_time
        ELSE modified
    END),
    dt,
    buyer_open_uid,
    appkey,
    CAST(NULL AS VARCHAR),
    CAST(NULL AS VARCHAR),
    CAST(NULL AS VARCHAR),
    CAST(NULL AS VARCHAR),
    CAST(num_iid AS VARCHAR),
    cat_name,
    brand,
    tid,
    yuan_to_fen(payment),
    yuan_to_fen(discount_fee),
    CAST(NULL AS BIGINT),
    receiver_state,
    CAST(NULL AS VARCHAR)
FROM (
    SELECT
        dt,
        tid,
        status,
        max(appkey) AS appkey,
        max(buyer_open_uid) AS buyer_open_uid,
        max(created) AS created,
        max(pay_time) AS pay_time,
        max(modified) AS modified,
        max(payment) AS payment,
        max(discount_fee) AS discount_fee,
        max(num_iid) AS num_iid,
        max(cat_name) AS cat_name,
        max(brand) AS brand,
        max(receiver_state) AS receiver_state
    FROM raw.taobao_live_trade
    GROUP BY dt, tid, status
)
WHERE status IN ('WAIT_BUYER_PAY', 'WAIT_SELLER_SEND_GOODS', 'TRADE_CLOSED');
