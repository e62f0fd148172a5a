-- job: contact_plan
-- description: at most one message per person for base_date: recall where they churned, deepen where they are active
-- schedule: 30 3 * * *
-- depends: tag_values, tolerance
-- output: contact_plan
-- format: parquet
-- partition_by: base_date

-- "Recall where they churn, deepen where they are active." Each rule below says which
-- tag (and value, '*' = any) makes a person a candidate for which message on which
-- channel; the lowest priority number wins, then the channel the policy ranks first.
--
-- | priority | rule               | tag                  | value           | channel        | action  | message           |
-- |----------|--------------------|----------------------|-----------------|----------------|---------|-------------------|
-- | 10-13    | cart_coupon_*      | cart_abandoned       | any             | wechat_service, wecom, douyin_dm (Douyin carts), sms | recover | cart_coupon |
-- | 20       | recall_douyin      | churned_on           | douyin          | douyin_dm      | recall  | recall_live_schedule |
-- | 21       | recall_wechat      | churned_on           | wechat_channels | wechat_service | recall  | recall_live_schedule |
-- | 22       | recall_sms         | churned_on           | kuaishou, taobao_live (no channel of their own) | sms | recall | recall_app_link |
-- | 30-31    | lurker_trial_*     | lurker               | true            | douyin_dm, wechat_service | convert | trial_offer |
-- | 40       | deepen_douyin      | last_active_platform | douyin          | douyin_dm      | deepen  | tonight_live      |
-- | 41       | deepen_wechat      | last_active_platform | wechat_channels | wecom          | deepen  | member_perks      |
-- | 42       | deepen_any         | last_active_platform | any             | wechat_service | deepen  | new_arrivals      |
--
-- A channel is usable only when the `tolerance` policy of base_date has no hard stop for
-- it (consent for the rule's purpose, no block/report/unsubscribe) and capacity left under
-- its weekly cap (`remaining > 0`: tolerance at least `min_tolerance`, fewer sends in the
-- last 7 days than the cap). The send time is base_date at the policy's `send_hour`
-- (Beijing), which is never in the quiet hours. Every row says why: the tag and value,
-- the rule, and the policy numbers it relied on.
WITH rules (rule, tag, tag_value, channel, action, message, purpose, priority) AS (
    VALUES
        ('cart_coupon_wechat', 'cart_abandoned', '*', 'wechat_service', 'recover', 'cart_coupon', 'marketing', 10),
        ('cart_coupon_wecom', 'cart_abandoned', '*', 'wecom', 'recover', 'cart_coupon', 'marketing', 11),
        ('cart_reminder_dm', 'cart_abandoned', 'douyin', 'douyin_dm', 'recover', 'cart_coupon', 'marketing', 12),
        ('cart_coupon_sms', 'cart_abandoned', '*', 'sms', 'recover', 'cart_coupon', 'marketing', 13),
        ('recall_douyin', 'churned_on', 'douyin', 'douyin_dm', 'recall', 'recall_live_schedule', 'marketing', 20),
        ('recall_wechat', 'churned_on', 'wechat_channels', 'wechat_service', 'recall', 'recall_live_schedule', 'marketing', 21),
        ('recall_sms_kuaishou', 'churned_on', 'kuaishou', 'sms', 'recall', 'recall_app_link', 'marketing', 22),
        ('recall_sms_taobao', 'churned_on', 'taobao_live', 'sms', 'recall', 'recall_app_link', 'marketing', 22),
        ('lurker_trial_douyin', 'lurker', 'true', 'douyin_dm', 'convert', 'trial_offer', 'marketing', 30),
        ('lurker_trial_wechat', 'lurker', 'true', 'wechat_service', 'convert', 'trial_offer', 'marketing', 31),
        ('deepen_douyin', 'last_active_platform', 'douyin', 'douyin_dm', 'deepen', 'tonight_live', 'marketing', 40),
        ('deepen_wechat', 'last_active_platform', 'wechat_channels', 'wecom', 'deepen', 'member_perks', 'marketing', 41),
        ('deepen_any', 'last_active_platform', '*', 'wechat_service', 'deepen', 'new_arrivals', 'marketing', 42)
),
tags AS (
    SELECT person_id, tag, value FROM tag_values WHERE base_date = :base_date
),
policy AS (
    SELECT * FROM tolerance
    WHERE base_date = :base_date AND hard_stop IS NULL AND remaining > 0
),
candidates AS (
    SELECT
        t.person_id, r.rule, r.tag, t.value AS tag_value, r.action, r.message, r.purpose,
        r.priority, p.channel, p.platform, p.account_scope, p.account_id, p.tolerance,
        p.weekly_cap, p.sent_last_7d, p.remaining, p.channel_rank, p.saturation,
        p.send_hour,
        row_number() OVER (
            PARTITION BY t.person_id
            ORDER BY r.priority, p.channel_rank, r.rule, t.value
        ) AS pick
    FROM tags t
    JOIN rules r ON r.tag = t.tag AND (r.tag_value = '*' OR r.tag_value = t.value)
    JOIN policy p
      ON p.person_id = t.person_id AND p.channel = r.channel AND p.purpose = r.purpose
)
SELECT
    person_id,
    channel,
    platform,
    account_scope,
    account_id,
    action,
    message,
    purpose,
    from_epoch(
        CAST(CAST(:base_date AS TIMESTAMP) AS BIGINT) / 1000000 + (send_hour - 8) * 3600000,
        'ms'
    ) AS send_at,
    send_hour,
    rule,
    tag AS reason_tag,
    tag_value AS reason_value,
    tolerance,
    weekly_cap,
    sent_last_7d,
    channel_rank,
    saturation,
    concat(
        tag, '=', tag_value, ' -> rule ', rule, ' (', action, '); ', channel,
        ' tolerance ', CAST(round(tolerance, 2) AS VARCHAR),
        ', cap ', CAST(weekly_cap AS VARCHAR), '/week with ', CAST(sent_last_7d AS VARCHAR),
        ' sent in 7 days, channel rank ', CAST(channel_rank AS VARCHAR),
        ', send at ', CAST(send_hour AS VARCHAR), ':00 Beijing'
    ) AS reason
FROM candidates
WHERE pick = 1
ORDER BY person_id
