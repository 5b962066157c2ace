-- The chats an account can pick from, for GET /accounts/{id}/chats: a Telegram user
-- session's dialogs (a snapshot taken by the worker that drives the session, replaced
-- whole each time) and the chats a Telegram bot has seen in its updates (upserted at most
-- once per chat per interval by its listener, never pruned: the Bot API cannot list them).
CREATE TABLE seen_chats (
    account_id  uuid NOT NULL REFERENCES platform_accounts (id) ON DELETE CASCADE,
    -- The id pairs use: a Bot API dialog id, optionally with "/<topic>" for a forum topic.
    chat_id     text NOT NULL CHECK (length(chat_id) BETWEEN 1 AND 64),
    title       text NOT NULL DEFAULT '',
    -- private, group, supergroup, channel or forum.
    kind        text NOT NULL CHECK (kind IN ('private', 'group', 'supergroup', 'channel', 'forum')),
    seen_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, chat_id)
);

-- When a user session's dialogs were last listed: none yet means "not known yet" rather
-- than "no chats".
ALTER TABLE platform_accounts ADD COLUMN chats_listed_at timestamptz;
