-- Kuaishou: interactive-live events and shop orders -> unified events.
--
-- Units: epoch milliseconds everywhere; money in fen, except gifts, which are Kuaishou
-- coins (快币, 1 coin = 0.1 yuan = 10 fen); ids are numbers (Long) and become text.
-- Field names are camelCase, hence the quotes.

CREATE VIEW kuaishou_events AS
SELECT
    'kuaishou:live_event:' || "eventId" AS event_id,
    'kuaishou' AS platform,
    CASE "eventType"
        WHEN 'Enter' THEN 'live_enter'
        WHEN 'Leave' THEN 'live_leave'
        WHEN 'Like' THEN 'live_like'
        WHEN 'Comment' THEN 'live_comment'
        WHEN 'Gift' THEN 'live_gift'
        WHEN 'Share' THEN 'live_share'
        WHEN 'Follow' THEN 'follow'
        WHEN 'Unfollow' THEN 'unfollow'
        WHEN 'ItemClick' THEN 'product_click'
        WHEN 'AddCart' THEN 'add_to_cart'
    END AS event_type,
    from_epoch("eventTime") AS event_ts,
    dt,
    "userOpenId" AS account_id,
    "appKey" AS account_scope,
    CAST(NULL AS VARCHAR) AS union_id,
    CAST(NULL AS VARCHAR) AS phone_key,
    "deviceId" AS device_id,
    CAST("liveStreamId" AS VARCHAR) AS room_id,
    CAST("itemId" AS VARCHAR) AS item_id,
    "categoryName" AS category,
    "brandName" AS brand,
    CAST(NULL AS VARCHAR) AS order_id,
    "giftDou" * 10 AS amount_fen,
    CAST(NULL AS BIGINT) AS discount_fen,
    "watchTimeMs" AS watch_ms,
    CAST(NULL AS VARCHAR) AS province,
    CAST(NULL AS VARCHAR) AS channel
FROM (
    SELECT
        dt,
        "eventId",
        max("eventType") AS "eventType",
        max("appKey") AS "appKey",
        max("userOpenId") AS "userOpenId",
        max("liveStreamId") AS "liveStreamId",
        max("eventTime") AS "eventTime",
        max("giftDou") AS "giftDou",
        max("watchTimeMs") AS "watchTimeMs",
        max("itemId") AS "itemId",
        max("categoryName") AS "categoryName",
        max("brandName") AS "brandName",
        max("deviceId") AS "deviceId"
    FROM raw.kuaishou_live_event
    GROUP BY dt, "eventId"
)
WHERE "eventType" IN (
    'Enter', 'Leave', 'Like', 'Comment', 'Gift', 'Share', 'Follow', 'Unfollow',
    'ItemClick', 'AddCart'
)

UNION ALL

SELECT
    'kuaishou:order:' || CAST(oid AS VARCHAR) || ':' || CAST(status AS VARCHAR),
    'kuaishou',
    CASE status
        WHEN 10 THEN 'order_created'
        WHEN 30 THEN 'order_paid'
        WHEN 80 THEN 'order_refunded'
    END,
    from_epoch(CASE status
        WHEN 10 THEN "createTime"
        WHEN 30 THEN "payTime"
        ELSE "updateTime"
    END),
    dt,
    "buyerOpenId",
    "appKey",
    CAST(NULL AS VARCHAR),
    CAST(NULL AS VARCHAR),
    CAST(NULL AS VARCHAR),
    CAST("liveStreamId" AS VARCHAR),
    CAST("itemId" AS VARCHAR),
    "categoryName",
    "brandName",
    CAST(oid AS VARCHAR),
    "totalFee",
    "discountFee",
    CAST(NULL AS BIGINT),
    "receiverProvince",
    CAST(NULL AS VARCHAR)
FROM (
    SELECT
        dt,
        oid,
        status,
        max("appKey") AS "appKey",
        max("buyerOpenId") AS "buyerOpenId",
        max("createTime") AS "createTime",
        max("payTime") AS "payTime",
        max("updateTime") AS "updateTime",
        max("totalFee") AS "totalFee",
        max("discountFee") AS "discountFee",
        max("itemId") AS "itemId",
        max("categoryName") AS "categoryName",
        max("brandName") AS "brandName",
        max("liveStreamId") AS "liveStreamId",
        max("receiverProvince") AS "receiverProvince"
    FROM raw.kuaishou_order
    GROUP BY dt, oid, status
)
WHERE status IN (10, 30, 80);
