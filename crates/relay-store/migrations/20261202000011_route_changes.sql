-- Route changes, told at commit. Every change to what a source chat forwards to (a pair
-- created, edited, paused, resumed or deleted; a destination added or removed; a user
-- banned or unbanned; a plan changed) bumps one version and notifies `relay_routes` with
-- the source account, inside the changing transaction: workers start listeners at once
-- and drop cached routes before they read the next event, whichever code path changed it.
CREATE TABLE route_version (
    one  boolean PRIMARY KEY DEFAULT true CHECK (one),
    v    bigint NOT NULL
);
INSERT INTO route_version (v) VALUES (0);

CREATE FUNCTION route_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE route_version SET v = v + 1;
    RETURN NULL;
END $$;

CREATE FUNCTION pair_route_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM pg_notify('relay_routes', OLD.source_account_id::text);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM pg_notify('relay_routes', NEW.source_account_id::text);
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION destination_route_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    pair uuid := CASE WHEN TG_OP = 'DELETE' THEN OLD.pair_id ELSE NEW.pair_id END;
    source uuid;
BEGIN
    SELECT source_account_id INTO source FROM forwarding_pairs WHERE id = pair;
    IF source IS NOT NULL THEN
        PERFORM pg_notify('relay_routes', source::text);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER forwarding_pairs_route_version
    AFTER INSERT OR DELETE OR UPDATE OF source_account_id, source_chat_id, enabled, paused_at, rules, options
    ON forwarding_pairs FOR EACH STATEMENT EXECUTE FUNCTION route_changed();
CREATE TRIGGER forwarding_pairs_route_notify
    AFTER INSERT OR DELETE OR UPDATE OF source_account_id, source_chat_id, enabled, paused_at
    ON forwarding_pairs FOR EACH ROW EXECUTE FUNCTION pair_route_notify();
CREATE TRIGGER pair_destinations_route_version
    AFTER INSERT OR DELETE OR UPDATE OF account_id, chat_id, position, options
    ON pair_destinations FOR EACH STATEMENT EXECUTE FUNCTION route_changed();
CREATE TRIGGER pair_destinations_route_notify
    AFTER INSERT OR DELETE
    ON pair_destinations FOR EACH ROW EXECUTE FUNCTION destination_route_notify();
CREATE TRIGGER users_route_version
    AFTER UPDATE OF status ON users FOR EACH STATEMENT EXECUTE FUNCTION route_changed();
CREATE TRIGGER subscriptions_route_version
    AFTER INSERT OR DELETE OR UPDATE OF plan_id, status
    ON subscriptions FOR EACH STATEMENT EXECUTE FUNCTION route_changed();
