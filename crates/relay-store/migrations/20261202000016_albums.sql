-- Telegram albums: a source album is forwarded as one message (its first member's id);
-- the other members point at it, so an edit or delete of any member finds the copies.
-- Written by the worker when it forwards the album to a destination.
CREATE TABLE album_members (
    owner_id            uuid NOT NULL,
    pair_id             uuid NOT NULL,
    destination_id      uuid NOT NULL,
    source_chat_id      text NOT NULL,
    member_message_id   text NOT NULL,
    lead_message_id     text NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (destination_id, source_chat_id, member_message_id),
    FOREIGN KEY (destination_id, pair_id, owner_id)
        REFERENCES pair_destinations (id, pair_id, owner_id) ON DELETE CASCADE
);
CREATE INDEX album_members_owner_idx ON album_members (owner_id);
