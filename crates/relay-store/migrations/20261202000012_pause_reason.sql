-- Why a pair is paused when Relay paused it (not its owner): shown on the pair, cleared on
-- resume. Deleting the account of a pair's last destination pauses the pair with a reason
-- instead of leaving it running with no destinations.
ALTER TABLE forwarding_pairs ADD COLUMN paused_reason text;
