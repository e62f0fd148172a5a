-- `events`: every platform's normalised events in one table (schema in DESIGN.md).
CREATE VIEW events AS
SELECT * FROM douyin_events
UNION ALL SELECT * FROM kuaishou_events
UNION ALL SELECT * FROM wechat_channels_events
UNION ALL SELECT * FROM taobao_live_events
UNION ALL SELECT * FROM firstparty_events;
