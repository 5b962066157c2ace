-- Platform accounts (Telegram user sessions and bots, Discord bots and webhooks) and the
-- Telegram session storage behind grammers' Session trait. Every secret is sealed with
-- AES-256-GCM; the key id beside it says which key of the ring opens it.

CREATE TABLE platform_accounts (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id           uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind               text NOT NULL CHECK (kind IN ('telegram_user', 'telegram_bot', 'discord_bot', 'discord_webhook')),
    display_name       text NOT NULL DEFAULT '',
    -- The platform's own id for the account (Telegram user id, bot user id, webhook id).
    external_id        text NOT NULL,
    secret_ciphertext  bytea,
    secret_key_id      text,
    state              text NOT NULL DEFAULT 'pending'
                       CHECK (state IN ('pending', 'connected', 'reconnecting', 'flood_wait', 'unauthorized', 'revoked', 'disabled')),
    -- For flood_wait: when the platform lets us send again.
    state_until        timestamptz,
    last_error         text,
    last_error_at      timestamptz,
    last_checked_at    timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CHECK ((secret_ciphertext IS NULL) = (secret_key_id IS NULL))
);
CREATE UNIQUE INDEX platform_accounts_owner_external_key ON platform_accounts (owner_id, kind, external_id);
CREATE INDEX platform_accounts_owner_idx ON platform_accounts (owner_id, created_at);
-- Health checks and session ownership scan accounts by state.
CREATE INDEX platform_accounts_state_idx ON platform_accounts (state, last_checked_at);
-- Lets a composite foreign key prove that an account belongs to the pair's owner.
CREATE UNIQUE INDEX platform_accounts_id_owner_key ON platform_accounts (id, owner_id);

-- One row per Telegram user session: the sealed auth keys and DC options, and the update
-- state that getDifference resumes from after downtime.
CREATE TABLE telegram_sessions (
    account_id         uuid PRIMARY KEY REFERENCES platform_accounts (id) ON DELETE CASCADE,
    home_dc            integer NOT NULL CHECK (home_dc BETWEEN 1 AND 1000),
    -- Sealed serialised DC options and auth keys; never stored in clear.
    data_ciphertext    bytea NOT NULL,
    data_key_id        text NOT NULL,
    pts                integer,
    qts                integer,
    date               integer,
    seq                integer,
    updated_at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE telegram_channel_states (
    account_id  uuid NOT NULL REFERENCES telegram_sessions (account_id) ON DELETE CASCADE,
    channel_id  bigint NOT NULL,
    pts         integer NOT NULL,
    PRIMARY KEY (account_id, channel_id)
);

-- Peers the session has seen, with the access hashes MTProto needs to address them.
CREATE TABLE telegram_peers (
    account_id    uuid NOT NULL REFERENCES telegram_sessions (account_id) ON DELETE CASCADE,
    peer_id       bigint NOT NULL,
    peer_kind     text NOT NULL CHECK (peer_kind IN ('user', 'bot', 'chat', 'channel', 'megagroup', 'gigagroup')),
    access_hash   bigint,
    username      text,
    title         text,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, peer_id)
);

-- A Telegram login in progress, so that any API node can serve the next step.
CREATE TABLE telegram_logins (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id           uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    phone              text NOT NULL,
    step               text NOT NULL CHECK (step IN ('code', 'password', 'done', 'failed')),
    -- Sealed login state (phone code hash, temporary auth key, password parameters).
    state_ciphertext   bytea NOT NULL,
    state_key_id       text NOT NULL,
    attempts           integer NOT NULL DEFAULT 0,
    account_id         uuid REFERENCES platform_accounts (id) ON DELETE SET NULL,
    expires_at         timestamptz NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX telegram_logins_owner_idx ON telegram_logins (owner_id);
CREATE INDEX telegram_logins_expiry_idx ON telegram_logins (expires_at);
