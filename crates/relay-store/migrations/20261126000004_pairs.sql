-- Forwarding pairs, the outbox of deliveries, and the message map. Composite foreign keys
-- on (account, owner) make it impossible to wire another tenant's account into a pair.

CREATE TABLE forwarding_pairs (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id            uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name                text NOT NULL DEFAULT '' CHECK (length(name) <= 200),
    source_account_id   uuid NOT NULL,
    source_chat_id      text NOT NULL CHECK (length(source_chat_id) BETWEEN 1 AND 64),
    -- Filters and transformations, validated by relay-core before they are stored.
    rules               jsonb NOT NULL DEFAULT '{}'::jsonb,
    -- Delivery options (edits, deletes, replies, silent sends, ...).
    options             jsonb NOT NULL DEFAULT '{}'::jsonb,
    enabled             boolean NOT NULL DEFAULT true,
    paused_at           timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (source_account_id, owner_id) REFERENCES platform_accounts (id, owner_id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX forwarding_pairs_id_owner_key ON forwarding_pairs (id, owner_id);
CREATE INDEX forwarding_pairs_owner_idx ON forwarding_pairs (owner_id, created_at);
-- The listener's lookup: which enabled pairs read this chat of this account.
CREATE INDEX forwarding_pairs_source_idx ON forwarding_pairs (source_account_id, source_chat_id) WHERE enabled;

CREATE TABLE pair_destinations (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    pair_id      uuid NOT NULL,
    owner_id     uuid NOT NULL,
    account_id   uuid NOT NULL,
    -- NULL for a Discord webhook, whose channel is fixed by the webhook itself.
    chat_id      text CHECK (length(chat_id) BETWEEN 1 AND 64),
    position     integer NOT NULL DEFAULT 0,
    options      jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (pair_id, owner_id) REFERENCES forwarding_pairs (id, owner_id) ON DELETE CASCADE,
    FOREIGN KEY (account_id, owner_id) REFERENCES platform_accounts (id, owner_id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX pair_destinations_target_key ON pair_destinations (pair_id, account_id, COALESCE(chat_id, ''));
CREATE INDEX pair_destinations_account_idx ON pair_destinations (account_id);

-- The outbox: one row per (pair, destination, source message, action, revision, part),
-- written before the job is enqueued. The unique key makes a second attempt a no-op.
CREATE TABLE deliveries (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner_id            uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    pair_id             uuid NOT NULL REFERENCES forwarding_pairs (id) ON DELETE CASCADE,
    destination_id      uuid NOT NULL REFERENCES pair_destinations (id) ON DELETE CASCADE,
    -- The account that sends: the queue partitions by it.
    sender_account_id   uuid NOT NULL REFERENCES platform_accounts (id) ON DELETE CASCADE,
    source_chat_id      text NOT NULL,
    source_message_id   text NOT NULL,
    action              text NOT NULL DEFAULT 'create' CHECK (action IN ('create', 'edit', 'delete')),
    -- 0 for create and delete; the edit's sequence for edits, so each edit is its own row.
    revision            bigint NOT NULL DEFAULT 0,
    part                smallint NOT NULL DEFAULT 0 CHECK (part >= 0),
    priority            text NOT NULL CHECK (priority IN ('high', 'medium', 'low')),
    payload             jsonb NOT NULL,
    state               text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'in_flight', 'done', 'skipped', 'dead')),
    attempts            integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at     timestamptz NOT NULL DEFAULT now(),
    -- While in flight: when the worker's claim lapses and the sweeper may take it back.
    in_flight_until     timestamptz,
    last_error          text,
    source_at           timestamptz NOT NULL DEFAULT now(),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    done_at             timestamptz
);
CREATE UNIQUE INDEX deliveries_idempotency_key
    ON deliveries (pair_id, destination_id, source_chat_id, source_message_id, action, revision, part);
-- The sweeper's scans: due work, and claims that have lapsed.
CREATE INDEX deliveries_due_idx ON deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX deliveries_in_flight_idx ON deliveries (in_flight_until) WHERE state = 'in_flight';
-- Analytics and the user's failure view.
CREATE INDEX deliveries_owner_created_idx ON deliveries (owner_id, created_at DESC);
CREATE INDEX deliveries_pair_created_idx ON deliveries (pair_id, created_at DESC);
CREATE INDEX deliveries_dead_idx ON deliveries (owner_id, updated_at DESC) WHERE state = 'dead';

-- Which destination messages a source message became, so edits, deletes and replies follow.
CREATE TABLE message_map (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner_id            uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    pair_id             uuid NOT NULL REFERENCES forwarding_pairs (id) ON DELETE CASCADE,
    destination_id      uuid NOT NULL REFERENCES pair_destinations (id) ON DELETE CASCADE,
    source_chat_id      text NOT NULL,
    source_message_id   text NOT NULL,
    part                smallint NOT NULL DEFAULT 0 CHECK (part >= 0),
    dest_account_id     uuid NOT NULL REFERENCES platform_accounts (id) ON DELETE CASCADE,
    dest_chat_id        text NOT NULL,
    dest_message_id     text NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX message_map_source_key ON message_map (destination_id, source_chat_id, source_message_id, part);
-- Edits and deletes: every destination copy of one source message.
CREATE INDEX message_map_source_idx ON message_map (pair_id, source_chat_id, source_message_id);
-- Replies: which source message a destination message came from.
CREATE INDEX message_map_dest_idx ON message_map (dest_account_id, dest_chat_id, dest_message_id);
