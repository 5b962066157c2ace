-- What the router caches per route now includes the pair's name (`{source_chat}` when a
-- source reports no title) and its pause mode (a paused pair that holds still routes), and
-- plans' limits and features (quota, gating at forwarding time): a change to any of them
-- moves the route version, so no worker forwards under the old values.
DROP TRIGGER forwarding_pairs_route_version ON forwarding_pairs;
CREATE TRIGGER forwarding_pairs_route_version
    AFTER INSERT OR DELETE OR UPDATE OF source_account_id, source_chat_id, enabled, paused_at,
        rules, options, pause_mode, name
    ON forwarding_pairs FOR EACH STATEMENT EXECUTE FUNCTION route_changed();
CREATE TRIGGER plans_route_version
    AFTER UPDATE ON plans FOR EACH STATEMENT EXECUTE FUNCTION route_changed();
