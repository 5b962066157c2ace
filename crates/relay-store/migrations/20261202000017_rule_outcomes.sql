-- What the pair rules decided, visible on the outbox rows themselves. A delivery a filter
-- stopped is written as 'skipped' with the rule that stopped it (`filters[2]`); a held one
-- (a delay, forwarding hours, a paused pair that holds) stays 'pending' with its
-- next_attempt_at in the future, which the sweeper already waits for, and says why.
ALTER TABLE deliveries ADD COLUMN decided_by text;
CREATE INDEX deliveries_pair_decided_idx ON deliveries (pair_id, decided_by, state)
    WHERE decided_by IS NOT NULL;

-- What pausing does with the messages that arrive meanwhile: 'skip' them (as before), or
-- 'hold' them and send them in order on resume.
ALTER TABLE forwarding_pairs
    ADD COLUMN pause_mode text NOT NULL DEFAULT 'skip' CHECK (pause_mode IN ('skip', 'hold'));
