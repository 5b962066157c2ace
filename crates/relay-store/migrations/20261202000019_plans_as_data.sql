-- Plans as data: every limit and feature the service sells, under the names the API and
-- the runtime check (relay_core::plans::FEATURES). Media size and backfill depth join the
-- limits; features become the full set, each plan saying yes or no to every one.
ALTER TABLE plans
    ADD COLUMN max_media_bytes bigint NOT NULL DEFAULT 8388608 CHECK (max_media_bytes >= 0),
    ADD COLUMN backfill_days integer NOT NULL DEFAULT 0 CHECK (backfill_days >= 0);

UPDATE plans SET max_media_bytes = 8388608, backfill_days = 0, features =
    '{"edits": false, "deletes": false, "replies": true, "filters": false, "regex": false,
      "transforms": false, "delay": false, "backfill": false, "webhook_identity": false,
      "customer_webhooks": false, "analytics_history_days": 1}'
    WHERE id = 'free';
UPDATE plans SET max_media_bytes = 26214400, backfill_days = 7, features =
    '{"edits": true, "deletes": true, "replies": true, "filters": true, "regex": false,
      "transforms": true, "delay": true, "backfill": true, "webhook_identity": true,
      "customer_webhooks": false, "analytics_history_days": 30}'
    WHERE id = 'pro';
UPDATE plans SET max_media_bytes = 52428800, backfill_days = 90, features =
    '{"edits": true, "deletes": true, "replies": true, "filters": true, "regex": true,
      "transforms": true, "delay": true, "backfill": true, "webhook_identity": true,
      "customer_webhooks": true, "analytics_history_days": 365}'
    WHERE id = 'elite';
