-- "Watched on Douyin, bought on Taobao": people (first-party members linking accounts
-- across platforms; accounts without a membership stand alone) who entered a Douyin
-- live room and paid an order on Taobao Live within 7 days after it (`(?t<=604800)` after
-- `(?1)` lets any events pass in between), with the cross-platform
-- funnel depth of everyone who watched on Douyin. Once the identity issue lands,
-- person_id replaces the member lookup.
WITH account_person AS (
    SELECT platform, account_scope, account_id, min(member_id) AS member_id
    FROM members GROUP BY platform, account_scope, account_id
),
person_events AS (
    SELECT coalesce(m.member_id, e.platform || ':' || e.account_id) AS person,
           e.platform, e.event_type, e.event_ts
    FROM events e
    LEFT JOIN account_person m
      ON m.platform = e.platform AND m.account_scope = e.account_scope
     AND m.account_id = e.account_id
    WHERE e.event_type IN ('live_enter', 'order_paid')
),
paths AS (
    SELECT person,
           sequence_match('(?1)(?t<=604800)(?2)', event_ts,
                          platform = 'douyin' AND event_type = 'live_enter',
                          platform = 'taobao_live' AND event_type = 'order_paid')
               AS douyin_then_taobao,
           sequence_count('(?1).*(?2)', event_ts,
                          platform = 'douyin' AND event_type = 'live_enter',
                          platform = 'taobao_live' AND event_type = 'order_paid')
               AS times,
           window_funnel(INTERVAL '7 days', event_ts,
                         platform = 'douyin' AND event_type = 'live_enter',
                         platform = 'taobao_live' AND event_type = 'order_paid') AS depth
    FROM person_events
    GROUP BY person
)
SELECT count(*) FILTER (WHERE depth >= 1) AS watched_on_douyin,
       count(*) FILTER (WHERE depth = 2) AS then_paid_on_taobao_7d,
       count(*) FILTER (WHERE douyin_then_taobao) AS sequence_matched_7d,
       sum(times) AS douyin_then_taobao_paths
FROM paths;
