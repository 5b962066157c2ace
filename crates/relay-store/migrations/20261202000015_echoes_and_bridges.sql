-- Two-way bridges and echo suppression.
--
-- A pair marked as a bridge may close a loop with other bridge pairs (A→B and B→A): the
-- router then drops every message Relay itself sent, so each message crosses once.
ALTER TABLE forwarding_pairs ADD COLUMN bridge boolean NOT NULL DEFAULT false;

-- The router asks, for every source message, whether it is a copy Relay sent: by the
-- message id first (Discord ids are global; Telegram ids are per chat, so the chat
-- follows), whatever account sent it.
CREATE INDEX message_map_dest_message_idx ON message_map (dest_message_id, dest_chat_id);

-- And whether its author is one of Relay's accounts (a bot, a session's user, a
-- webhook), of any tenant.
CREATE INDEX platform_accounts_external_idx ON platform_accounts (external_id);
