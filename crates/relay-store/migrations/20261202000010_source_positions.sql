-- How far each Discord source channel has been read: the last message id whose outbox rows
-- (if any) are committed. Written in the same transaction as those rows, so a restart or
-- a takeover catches up from here and loses nothing. (Telegram user sessions keep theirs
-- in telegram_sessions / telegram_channel_states; bots rely on Telegram keeping
-- unconfirmed updates.)
CREATE TABLE discord_channel_cursors (
    account_id  uuid NOT NULL REFERENCES platform_accounts (id) ON DELETE CASCADE,
    channel_id  bigint NOT NULL,
    message_id  bigint NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, channel_id)
);
