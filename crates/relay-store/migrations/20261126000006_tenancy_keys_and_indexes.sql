-- Review follow-up: tenancy enforced on the high-volume tables too, indexes for every
-- foreign key that cascades, retention and per-destination ordering, and a claim token
-- so a worker whose claim lapsed cannot complete a delivery another worker took over.

-- A destination is named together with its pair and owner, so the outbox and the message
-- map can prove a row's destination belongs to the row's pair and tenant.
CREATE UNIQUE INDEX pair_destinations_id_pair_owner_key ON pair_destinations (id, pair_id, owner_id);

ALTER TABLE deliveries
    ADD CONSTRAINT deliveries_destination_pair_owner_fkey
        FOREIGN KEY (destination_id, pair_id, owner_id) REFERENCES pair_destinations (id, pair_id, owner_id) ON DELETE CASCADE,
    ADD CONSTRAINT deliveries_sender_owner_fkey
        FOREIGN KEY (sender_account_id, owner_id) REFERENCES platform_accounts (id, owner_id) ON DELETE CASCADE,
    -- Set with each claim; completing a delivery requires the current one.
    ADD COLUMN claim_token bigint;

ALTER TABLE message_map
    ADD CONSTRAINT message_map_destination_pair_owner_fkey
        FOREIGN KEY (destination_id, pair_id, owner_id) REFERENCES pair_destinations (id, pair_id, owner_id) ON DELETE CASCADE,
    ADD CONSTRAINT message_map_dest_account_owner_fkey
        FOREIGN KEY (dest_account_id, owner_id) REFERENCES platform_accounts (id, owner_id) ON DELETE CASCADE;

-- Foreign keys whose parent deletes would otherwise scan the child table.
CREATE INDEX deliveries_destination_idx ON deliveries (destination_id);
CREATE INDEX deliveries_sender_idx ON deliveries (sender_account_id);
CREATE INDEX message_map_owner_idx ON message_map (owner_id);
CREATE INDEX error_log_delivery_idx ON error_log (delivery_id) WHERE delivery_id IS NOT NULL;
CREATE INDEX error_log_pair_idx ON error_log (pair_id) WHERE pair_id IS NOT NULL;
CREATE INDEX error_log_account_idx ON error_log (account_id) WHERE account_id IS NOT NULL;
CREATE INDEX payments_subscription_idx ON payments (subscription_id) WHERE subscription_id IS NOT NULL;
CREATE INDEX telegram_logins_account_idx ON telegram_logins (account_id) WHERE account_id IS NOT NULL;

-- Retention deletes finished deliveries in batches by age (no time partitioning: the
-- idempotency key stays as it is).
CREATE INDEX deliveries_finished_idx ON deliveries (done_at) WHERE state IN ('done', 'skipped', 'dead');
-- Per-destination order: the oldest pending delivery of a destination first.
CREATE INDEX deliveries_destination_pending_idx ON deliveries (destination_id, id) WHERE state IN ('pending', 'in_flight');
