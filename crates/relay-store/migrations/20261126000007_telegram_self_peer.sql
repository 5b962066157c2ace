-- The session's own user among its cached peers: grammers asks for it to decide whether the
-- session is signed in and whether to fetch the update state at start-up.
ALTER TABLE telegram_peers ADD COLUMN is_self boolean NOT NULL DEFAULT false;
CREATE UNIQUE INDEX telegram_peers_one_self ON telegram_peers (account_id) WHERE is_self;
