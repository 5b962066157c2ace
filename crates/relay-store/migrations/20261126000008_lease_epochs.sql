-- Fencing tokens for partition leases. Redis holds the leases themselves, but a flushed
-- Redis would restart its counters; tokens from PostgreSQL only ever grow, so an outbox
-- claim made under an older lease can never outrank a newer owner's.
CREATE SEQUENCE lease_epochs AS bigint;
