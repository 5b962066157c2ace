-- A lighter hot path for the outbox. Every delivery is written once and changed twice
-- (claimed, finished), thousands of times a second, so what each of those writes costs
-- decides Relay's throughput.
--
-- 1. A claim no longer changes an indexed column: "in flight" is a pending row whose claim
--    is set (`in_flight_until IS NOT NULL`), not a state of its own. PostgreSQL then
--    updates the row in place on its page (a HOT update: no new index entries, and the old
--    version is pruned on the next visit to the page, VACUUM or not). Inserts fill pages
--    only half (fillfactor 50): a claim of every row of a page in one statement still finds
--    room for all the new versions there (at 70, 14 of 20 fitted). Only finishing a
--    delivery (state done, skipped or dead) still touches the indexes.
-- 2. Foreign keys that the composite tenancy keys of migration 06 already imply are
--    dropped: each was an index lookup and a row lock per inserted row. The composite keys
--    cascade the same deletes (user → pairs → destinations → deliveries and message map;
--    account → destinations and deliveries).
-- 3. Indexes nothing reads are dropped: the in-flight, per-destination pending, per-owner
--    and finished indexes of the outbox (retention deletes by id range: ids grow with
--    time), and the per-owner and per-pair indexes of the message map (lookups go by
--    destination; owner deletes cascade through the composite key's index).

UPDATE deliveries SET state = 'pending' WHERE state = 'in_flight';
ALTER TABLE deliveries
    DROP CONSTRAINT deliveries_state_check,
    ADD CONSTRAINT deliveries_state_check CHECK (state IN ('pending', 'done', 'skipped', 'dead')),
    DROP CONSTRAINT deliveries_owner_id_fkey,
    DROP CONSTRAINT deliveries_pair_id_fkey,
    DROP CONSTRAINT deliveries_destination_id_fkey,
    DROP CONSTRAINT deliveries_sender_account_id_fkey;
ALTER TABLE deliveries SET (fillfactor = 50);

ALTER TABLE message_map
    DROP CONSTRAINT message_map_owner_id_fkey,
    DROP CONSTRAINT message_map_pair_id_fkey,
    DROP CONSTRAINT message_map_destination_id_fkey,
    DROP CONSTRAINT message_map_dest_account_id_fkey;

DROP INDEX deliveries_in_flight_idx;
DROP INDEX deliveries_destination_pending_idx;
DROP INDEX deliveries_owner_created_idx;
DROP INDEX deliveries_finished_idx;
-- Dead deliveries, newest first, by when they were given up (updated_at changes too often
-- to be indexed).
DROP INDEX deliveries_dead_idx;
CREATE INDEX deliveries_dead_idx ON deliveries (owner_id, done_at DESC) WHERE state = 'dead';

DROP INDEX message_map_owner_idx;
DROP INDEX message_map_source_idx;
