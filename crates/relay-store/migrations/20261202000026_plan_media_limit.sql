-- A file over the owner's plan's `max_media_bytes` is not carried; its notice says so.
ALTER TABLE media_notices DROP CONSTRAINT media_notices_reason_check;
ALTER TABLE media_notices ADD CONSTRAINT media_notices_reason_check
    CHECK (reason IN ('destination_limit', 'source_limit', 'unavailable', 'plan_limit'));
