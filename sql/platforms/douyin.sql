-- Douyin: the live-room data push and 抖店 order status messages -> unified events.
--
-- Units: live push `timestamp` is documented as milliseconds but some deliveries carry
-- seconds (from_epoch detects the unit); 抖店 times are seconds; money is fen; room ids
-- arrive as a 19-digit string (push) and as a number plus a string (orders).
-- Duplicate deliveries share msg_id (push) or order_id + status (orders): grouping on
-- that key collapses them (max() of identical values is the value; unused columns are
-- pruned by the optimizer). dt is part of the key so that filters on dt prune partitions.

CREATE VIEW douyin_events AS
SELECT
    'douyin:live_push:' || msg_id AS event_id,
    'douyin' AS platform,
    CASE msg_type
        WHEN 'live_enter_room' THEN 'live_enter'
        WHEN 'live_leave_room' THEN 'live_leave'
        WHEN 'live_like' THEN 'live_like'
        WHEN 'live_comment' THEN 'live_comment'
        WHEN 'live_gift' THEN 'live_gift'
        WHEN 'live_share' THEN 'live_share'
        WHEN 'live_follow' THEN 'follow'
        WHEN 'live_unfollow' THEN 'unfollow'
        WHEN 'live_product_click' THEN 'product_click'
        WHEN 'live_add_cart' THEN 'add_to_cart'
    END AS event_type,
    from_epoch("timestamp") AS event_ts,
    dt,
    sec_openid AS account_id,
    app_id AS account_scope,
    union_id,
    CAST(NULL AS VARCHAR) AS phone_key,
    device_id,
    roomid AS room_id,
    product_id AS item_id,
    product_category AS category,
    product_brand AS brand,
    CAST(NULL AS VARCHAR) AS order_id,
    gift_value AS amount_fen,
    CAST(NULL AS BIGINT) AS discount_fen,
    watch_duration * 1000 AS watch_ms,
    CAST(NULL AS VARCHAR) AS province,
    CAST(NULL AS VARCHAR) AS channel
FROM (
    SELECT
        dt,
        msg_id,
        max(msg_type) AS msg_type,
        max(app_id) AS app_id,
        max(sec_openid) AS sec_openid,
        max(union_id) AS union_id,
        max(roomid) AS roomid,
        max("timestamp") AS "timestamp",
        max(gift_value) AS gift_value,
        max(watch_duration) AS watch_duration,
        max(product_id) AS product_id,
        max(product_category) AS product_category,
        max(product_brand) AS product_brand,
        max(device_id) AS device_id
    FROM raw.douyin_live_push
    GROUP BY dt, msg_id
)
WHERE msg_type IN (
    'live_enter_room', 'live_leave_room', 'live_like', 'live_comment', 'live_gift',
    'live_share', 'live_follow', 'live_unfollow', 'live_product_click', 'live_add_cart'
)

UNION ALL

SELECT
    'douyin:doudian_order:' || order_id || ':' || CAST(main_status AS VARCHAR),
    'douyin',
    CASE main_status
        WHEN 1 THEN 'order_created'
        WHEN 105 THEN 'order_paid'
        WHEN 21 THEN 'order_refunded'
    END,
    from_epoch(CASE main_status
        WHEN 1 THEN create_time
        WHEN 105 THEN pay_time
        ELSE update_time
    END),
    dt,
    doudian_open_id,
    CAST(shop_id AS VARCHAR),
    union_id,
    CAST(NULL AS VARCHAR),
    CAST(NULL AS VARCHAR),
    COALESCE(room_id_str, CASE WHEN room_id <> 0 THEN CAST(room_id AS VARCHAR) END),
    CAST(product_id AS VARCHAR),
    first_cname,
    brand_name,
    order_id,
    order_amount,
    promotion_amount,
    CAST(NULL AS BIGINT),
    post_province,
    CAST(NULL AS VARCHAR)
FROM (
    SELECT
        dt,
        order_id,
        main_status,
        max(shop_id) AS shop_id,
        max(doudian_open_id) AS doudian_open_id,
        max(union_id) AS union_id,
        max(create_time) AS create_time,
        max(pay_time) AS pay_time,
        max(update_time) AS update_time,
        max(order_amount) AS order_amount,
        max(promotion_amount) AS promotion_amount,
        max(room_id) AS room_id,
        max(room_id_str) AS room_id_str,
        max(product_id) AS product_id,
        max(first_cname) AS first_cname,
        max(brand_name) AS brand_name,
        max(post_province) AS post_province
    FROM raw.douyin_doudian_order
    GROUP BY dt, order_id, main_status
)
WHERE main_status IN (1, 105, 21);
