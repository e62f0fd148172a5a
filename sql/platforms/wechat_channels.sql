-- WeChat Channels: live-room interactions and shop orders -> unified events.
--
-- Units: epoch seconds; money in fen; order ids are digit strings above 2^53 and stay
-- text. openid is scoped to the appid; unionid (when the app is bound to an Open
-- Platform account) is shared by one person's accounts across the brand's WeChat apps.

CREATE VIEW wechat_channels_events AS
SELECT
    'wechat_channels:live_event:' || msg_id AS event_id,
    'wechat_channels' AS platform,
    CASE event
        WHEN 'enter' THEN 'live_enter'
        WHEN 'leave' THEN 'live_leave'
        WHEN 'like' THEN 'live_like'
        WHEN 'comment' THEN 'live_comment'
        WHEN 'share' THEN 'live_share'
        WHEN 'follow' THEN 'follow'
        WHEN 'unfollow' THEN 'unfollow'
        WHEN 'product_click' THEN 'product_click'
        WHEN 'add_cart' THEN 'add_to_cart'
    END AS event_type,
    from_epoch(create_time) AS event_ts,
    dt,
    openid AS account_id,
    appid AS account_scope,
    unionid AS union_id,
    CAST(NULL AS VARCHAR) AS phone_key,
    CAST(NULL AS VARCHAR) AS device_id,
    live_id AS room_id,
    product_id AS item_id,
    cat_name AS category,
    brand_name AS brand,
    CAST(NULL AS VARCHAR) AS order_id,
    CAST(NULL AS BIGINT) AS amount_fen,
    CAST(NULL AS BIGINT) AS discount_fen,
    stay_seconds * 1000 AS watch_ms,
    CAST(NULL AS VARCHAR) AS province,
    CAST(NULL AS VARCHAR) AS channel
FROM (
    SELECT
        dt,
        msg_id,
        max(event) AS event,
        max(appid) AS appid,
        max(openid) AS openid,
        max(unionid) AS unionid,
        max(live_id) AS live_id,
        max(create_time) AS create_time,
        max(stay_seconds) AS stay_seconds,
        max(product_id) AS product_id,
        max(cat_name) AS cat_name,
        max(brand_name) AS brand_name
    FROM raw.wechat_channels_live_event
    GROUP BY dt, msg_id
)
WHERE event IN (
    'enter', 'leave', 'like', 'comment', 'share', 'follow', 'unfollow', 'product_click',
    'add_cart'
)

UNION ALL

SELECT
    'wechat_channels:order:' || order_id || ':' || CAST(status AS VARCHAR),
    'wechat_channels',
    CASE status
        WHEN 10 THEN 'order_created'
        WHEN 20 THEN 'order_paid'
        WHEN 200 THEN 'order_refunded'
    END,
    from_epoch(CASE status
        WHEN 10 THEN create_time
        WHEN 20 THEN pay_time
        ELSE update_time
    END),
    dt,
    openid,
    appid,
    unionid,
    CAST(NULL AS VARCHAR),
    CAST(NULL AS VARCHAR),
    live_id,
    product_id,
    cat_name,
    brand_name,
    order_id,
    order_price,
    discounted_price,
    CAST(NULL AS BIGINT),
    province,
    CAST(NULL AS VARCHAR)
FROM (
    SELECT
        dt,
        order_id,
        status,
        max(appid) AS appid,
        max(openid) AS openid,
        max(unionid) AS unionid,
        max(create_time) AS create_time,
        max(pay_time) AS pay_time,
        max(update_time) AS update_time,
        max(order_price) AS order_price,
        max(discounted_price) AS discounted_price,
        max(product_id) AS product_id,
        max(cat_name) AS cat_name,
        max(brand_name) AS brand_name,
        max(live_id) AS live_id,
        max(province) AS province
    FROM raw.wechat_channels_order
    GROUP BY dt, order_id, status
)
WHERE status IN (10, 20, 200);
