-- Payments, provider webhook events, the error log, the admin audit log and the IP allowlist.

CREATE TABLE payments (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id              uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider             text NOT NULL CHECK (provider IN ('paypal', 'nowpayments')),
    provider_payment_id  text,
    plan_id              text NOT NULL REFERENCES plans (id),
    months               integer NOT NULL DEFAULT 1 CHECK (months BETWEEN 1 AND 36),
    -- In the currency's minor unit (cents).
    amount_minor         bigint NOT NULL CHECK (amount_minor >= 0),
    currency             text NOT NULL CHECK (length(currency) BETWEEN 3 AND 10),
    status               text NOT NULL DEFAULT 'created'
                         CHECK (status IN ('created', 'pending', 'completed', 'failed', 'refunded', 'expired')),
    subscription_id      uuid REFERENCES subscriptions (id) ON DELETE SET NULL,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    completed_at         timestamptz
);
CREATE UNIQUE INDEX payments_provider_key ON payments (provider, provider_payment_id) WHERE provider_payment_id IS NOT NULL;
CREATE INDEX payments_user_idx ON payments (user_id, created_at DESC);

-- Every webhook a provider sent; the unique event id makes a redelivered webhook a no-op.
CREATE TABLE payment_events (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    provider           text NOT NULL CHECK (provider IN ('paypal', 'nowpayments')),
    provider_event_id  text NOT NULL,
    payment_id         uuid REFERENCES payments (id) ON DELETE SET NULL,
    event_type         text NOT NULL,
    payload            jsonb NOT NULL,
    received_at        timestamptz NOT NULL DEFAULT now(),
    processed_at       timestamptz,
    error              text,
    UNIQUE (provider, provider_event_id)
);
CREATE INDEX payment_events_payment_idx ON payment_events (payment_id);

-- Failures users and admins can see. owner_id NULL means a system-level entry.
CREATE TABLE error_log (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner_id     uuid REFERENCES users (id) ON DELETE CASCADE,
    severity     text NOT NULL CHECK (severity IN ('info', 'warning', 'error', 'critical')),
    component    text NOT NULL,
    code         text NOT NULL,
    message      text NOT NULL,
    context      jsonb NOT NULL DEFAULT '{}'::jsonb,
    pair_id      uuid REFERENCES forwarding_pairs (id) ON DELETE SET NULL,
    account_id   uuid REFERENCES platform_accounts (id) ON DELETE SET NULL,
    delivery_id  bigint REFERENCES deliveries (id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX error_log_owner_idx ON error_log (owner_id, created_at DESC);
CREATE INDEX error_log_created_idx ON error_log (created_at);

CREATE TABLE admin_audit_log (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    admin_id     uuid REFERENCES users (id) ON DELETE SET NULL,
    action       text NOT NULL,
    target_type  text NOT NULL,
    target_id    text,
    details      jsonb NOT NULL DEFAULT '{}'::jsonb,
    ip           inet,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX admin_audit_log_created_idx ON admin_audit_log (created_at DESC);
CREATE INDEX admin_audit_log_target_idx ON admin_audit_log (target_type, target_id);

-- Networks from which admin routes may be used.
CREATE TABLE ip_allowlist (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    network     cidr NOT NULL UNIQUE,
    note        text NOT NULL DEFAULT '',
    created_by  uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
