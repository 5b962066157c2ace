-- Media fetched once per message. A file of a source message is fetched from its platform
-- by the first delivery that needs it and stored here, once; every other delivery of the
-- message (other destinations, edits) reads this copy. A row is claimed before the fetch
-- (state 'fetching' with a lapsing claim), so two workers never fetch the same file at
-- once; a Telegram user session's file that the delivering worker cannot fetch (another
-- worker drives the session) is 'requested', and that session's worker fetches it. A file
-- over what may be fetched is 'too_large', one the source no longer has is 'gone'. Rows
-- are deleted once no pending delivery of their message is left.
CREATE TABLE media_files (
    -- A hash of the owner and the source's identity (relay_core MediaSource::identity).
    key                 text PRIMARY KEY,
    owner_id            uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The source message whose deliveries need the file.
    source_chat_id      text NOT NULL,
    source_message_id   text NOT NULL,
    -- The MediaSource the file is fetched by.
    source              jsonb NOT NULL,
    -- The account only whose worker can fetch it (a Telegram user session), if any.
    fetch_account_id    uuid REFERENCES platform_accounts (id) ON DELETE CASCADE,
    state               text NOT NULL CHECK (state IN ('requested', 'fetching', 'stored', 'too_large', 'gone')),
    -- Stored: the file. Too large: NULL, and `size` is how large it is at least.
    bytes               bytea,
    size                bigint,
    -- The most that was read (what was over it is 'too_large').
    cap                 bigint NOT NULL,
    -- While fetching: when the claim lapses and another worker may fetch instead.
    claimed_until       timestamptz,
    -- Gone: why the source has it no more.
    error               text,
    -- How many times it was fetched from the platform (1 unless a fetcher died midway).
    fetches             integer NOT NULL DEFAULT 0,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CHECK (state <> 'stored' OR bytes IS NOT NULL)
);
-- What a session's worker picks up: requests, and fetches whose claim lapsed.
CREATE INDEX media_files_requested_idx ON media_files (fetch_account_id)
    WHERE state IN ('requested', 'fetching');

-- Whether a message still has deliveries waiting that carry files: only those rows are in
-- this index, so text-only deliveries (the bulk) pay nothing for it.
CREATE INDEX deliveries_pending_media_idx ON deliveries (source_message_id, source_chat_id)
    WHERE state = 'pending' AND payload -> 'media' <> '[]'::jsonb;

-- Files a delivery did not carry (over the destination's size limit, over what the source
-- lets Relay fetch, or gone from the source); the message carried a notice instead.
CREATE TABLE media_notices (
    delivery_id         bigint NOT NULL,
    -- The file's place in the message's media.
    file_index          smallint NOT NULL CHECK (file_index >= 0),
    owner_id            uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    pair_id             uuid NOT NULL REFERENCES forwarding_pairs (id) ON DELETE CASCADE,
    destination_id      uuid NOT NULL REFERENCES pair_destinations (id) ON DELETE CASCADE,
    filename            text NOT NULL,
    -- 0 when unknown.
    size                bigint NOT NULL,
    -- The limit it was over (0 for a file that was gone).
    limit_bytes         bigint NOT NULL,
    reason              text NOT NULL CHECK (reason IN ('destination_limit', 'source_limit', 'unavailable')),
    created_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (delivery_id, file_index)
);
CREATE INDEX media_notices_pair_idx ON media_notices (pair_id, created_at DESC);
CREATE INDEX media_notices_owner_idx ON media_notices (owner_id, created_at DESC);
